package flowengine

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"siegel/shared/flow"
)

func f64(x float64) *float64 { return &x }

func TestValidate(t *testing.T) {
	text := &flow.Step{Input: flow.InputText}
	short := &flow.Step{Input: flow.InputText, MinLength: 3, MaxLength: 5}
	pattern := &flow.Step{Input: flow.InputText, Pattern: `[0-9]{5}|[A-Z]{2}`}
	email := &flow.Step{Input: flow.InputEmail}
	phone := &flow.Step{Input: flow.InputPhone}
	number := &flow.Step{Input: flow.InputNumber}
	bounded := &flow.Step{Input: flow.InputNumber, Min: f64(-2.5), Max: f64(10)}
	date := &flow.Step{Input: flow.InputDate}
	long := strings.Repeat("x", flow.MaxInputLength+1)

	cases := []struct {
		st   *flow.Step
		in   string
		want string
		err  error
	}{
		// text: trimmed, not empty, length in characters, whole-input pattern
		{text, "  hallo  ", "hallo", nil},
		{text, "", "", ErrEmpty},
		{text, " \t\n", "", ErrEmpty},
		{text, long, "", ErrTooLong},
		{text, strings.Repeat("ä", flow.MaxInputLength), strings.Repeat("ä", flow.MaxInputLength), nil},
		{short, "ab", "", ErrTooShort},
		{short, "abc", "abc", nil},
		{short, "äöüßé", "äöüßé", nil}, // 5 characters, 10 bytes
		{short, "abcdef", "", ErrTooLong},
		{pattern, "12345", "12345", nil},
		{pattern, "AB", "AB", nil},
		{pattern, "123456", "", ErrPattern}, // anchored: no partial match
		{pattern, "xAB", "", ErrPattern},
		{pattern, "AB|", "", ErrPattern},
		// email
		{email, " Ada.Lovelace+chat@Example.COM ", "Ada.Lovelace+chat@example.com", nil},
		{email, "a@b.de", "a@b.de", nil},
		{email, "o'neil@sub.example.co.uk", "o'neil@sub.example.co.uk", nil},
		{email, "jörg@müller.de", "jörg@müller.de", nil},
		{email, "ada@xn--mller-kva.de", "ada@xn--mller-kva.de", nil},
		{email, "ada", "", ErrFormat},
		{email, "ada@", "", ErrFormat},
		{email, "@example.com", "", ErrFormat},
		{email, "ada@example", "", ErrFormat},
		{email, "ada@example.c", "", ErrFormat},
		{email, "ada@example.123", "", ErrFormat},
		{email, "ada@@example.com", "", ErrFormat},
		{email, "ada lovelace@example.com", "", ErrFormat},
		{email, ".ada@example.com", "", ErrFormat},
		{email, "ada.@example.com", "", ErrFormat},
		{email, "a..da@example.com", "", ErrFormat},
		{email, "ada@-example.com", "", ErrFormat},
		{email, "ada@example-.com", "", ErrFormat},
		{email, "ada@exa_mple.com", "", ErrFormat},
		{email, "ada@example..com", "", ErrFormat},
		{email, "<ada@example.com>", "", ErrFormat},
		{email, strings.Repeat("a", 65) + "@example.com", "", ErrFormat},
		{email, "a@" + strings.Repeat("b", 64) + ".de", "", ErrFormat},
		{email, "a@" + strings.Repeat("b.", 130) + "de", "", ErrTooLong},
		// phone: digits, spaces, leading +, separators; 6 to 15 digits
		{phone, "+49 221  4710 123", "+49 221 4710 123", nil},
		{phone, "0221/4710-123", "0221/4710-123", nil},
		{phone, "(0221) 471.01", "(0221) 471.01", nil},
		{phone, "123456", "123456", nil},
		{phone, "12345", "", ErrTooShort},
		{phone, "+49 (0) 22", "", ErrTooShort},
		{phone, "1234567890123456", "", ErrTooLong},
		{phone, "49+221123456", "", ErrFormat},
		{phone, "++49221123456", "", ErrFormat},
		{phone, "0221 4710 123 ext 5", "", ErrFormat},
		{phone, "０２２１４７１０", "", ErrFormat}, // full-width digits
		// number
		{number, "42", "42", nil},
		{number, " -3,50 ", "-3.5", nil},
		{number, "+0.25", "0.25", nil},
		{number, "-0", "0", nil},
		{number, "1.", "1", nil},
		{number, ",5", "0.5", nil},
		{number, "1e3", "", ErrFormat},
		{number, "0x10", "", ErrFormat},
		{number, "1.000,5", "", ErrFormat},
		{number, "1 000", "", ErrFormat},
		{number, "NaN", "", ErrFormat},
		{number, "Inf", "", ErrFormat},
		{number, "-", "", ErrFormat},
		{number, ".", "", ErrFormat},
		{number, "1_000", "", ErrFormat},
		{number, strings.Repeat("9", 31), "", ErrFormat},
		{number, "123456789012345", "123456789012345", nil},
		{number, "-1234567.89012345", "-1234567.89012345", nil},
		{number, "1234567890123456", "", ErrFormat}, // 16 significant digits
		{number, "0.1000000000000001", "", ErrFormat},
		{number, "1" + strings.Repeat("0", 29), "1" + strings.Repeat("0", 29), nil},
		{number, "0," + strings.Repeat("0", 27) + "1", "0." + strings.Repeat("0", 27) + "1", nil},
		{number, "000120.0500", "120.05", nil},
		{number, "-0,000", "0", nil},
		{number, "1,2,3", "", ErrFormat},
		{bounded, "-2.5", "-2.5", nil},
		{bounded, "-2.50000000000001", "", ErrOutOfRange},
		{bounded, "10", "10", nil},
		{bounded, "10.0000000000001", "", ErrOutOfRange},
		{bounded, "-0", "0", nil},
		{bounded, "-2.5", "-2.5", nil},
		{bounded, "10", "10", nil},
		{bounded, "10,0001", "", ErrOutOfRange},
		{bounded, "-2.51", "", ErrOutOfRange},
		// date: real calendar days
		{date, "2026-01-31", "2026-01-31", nil},
		{date, "2028-02-29", "2028-02-29", nil},
		{date, "2000-02-29", "2000-02-29", nil},
		{date, " 24.12.2026 ", "2026-12-24", nil},
		{date, "1.2.2026", "2026-02-01", nil},
		{date, "0001-01-01", "0001-01-01", nil},
		{date, "9999-12-31", "9999-12-31", nil},
		{date, "2026-02-29", "", ErrFormat},
		{date, "1900-02-29", "", ErrFormat},
		{date, "2026-04-31", "", ErrFormat},
		{date, "2026-13-01", "", ErrFormat},
		{date, "2026-00-10", "", ErrFormat},
		{date, "2026-01-00", "", ErrFormat},
		{date, "0000-01-01", "", ErrFormat},
		{date, "2026-1-01", "", ErrFormat},
		{date, "26-01-01", "", ErrFormat},
		{date, "2026/01/01", "", ErrFormat},
		{date, "2026-01-01T10:00", "", ErrFormat},
		{date, "+026-01-01", "", ErrFormat},
		{date, "31.11.2026", "", ErrFormat},
		{date, "1.1.26", "", ErrFormat},
		{date, "morgen", "", ErrFormat},
	}
	for _, c := range cases {
		got, err := Validate(c.st, c.in, goCompile)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("Validate(%v, %q) = %q, %v; want %q, %v", c.st.Input, c.in, got, err, c.want, c.err)
		}
	}
	for _, p := range []string{"(", `a**`} {
		_, err := Validate(&flow.Step{Input: flow.InputText, Pattern: p}, "x", goCompile)
		if !errors.Is(err, ErrBadPattern) || isInputError(err) {
			t.Errorf("invalid pattern %q: %v", p, err)
		}
	}
	// Without a compiler: fine without a pattern, ErrNoCompiler with one.
	if got, err := Validate(&flow.Step{Input: flow.InputText}, " x ", nil); got != "x" || err != nil {
		t.Errorf("no pattern, no compiler: %q, %v", got, err)
	}
	if _, err := Validate(pattern, "12345", nil); !errors.Is(err, ErrNoCompiler) {
		t.Errorf("pattern without compiler: %v", err)
	}
}

func TestRetryTexts(t *testing.T) {
	e := New(testFlow(t), "en")
	cases := []struct {
		st   *flow.Step
		err  error
		want string
	}{
		{&flow.Step{Input: flow.InputText}, ErrEmpty, builtinEN.empty},
		{&flow.Step{Input: flow.InputEmail}, ErrEmpty, builtinEN.empty},
		{&flow.Step{Input: flow.InputText, MinLength: 4}, ErrTooShort, "That is too short: at least 4 characters."},
		{&flow.Step{Input: flow.InputText}, ErrTooLong, "That is too long: at most 4096 characters."},
		{&flow.Step{Input: flow.InputText}, ErrPattern, builtinEN.noMatch},
		{&flow.Step{Input: flow.InputEmail}, ErrFormat, builtinEN.email},
		{&flow.Step{Input: flow.InputEmail}, ErrTooLong, builtinEN.email},
		{&flow.Step{Input: flow.InputPhone}, ErrTooShort, builtinEN.phone},
		{&flow.Step{Input: flow.InputNumber}, ErrFormat, builtinEN.number},
		{&flow.Step{Input: flow.InputNumber, Min: f64(1)}, ErrOutOfRange, "Please enter a number of at least 1."},
		{&flow.Step{Input: flow.InputNumber, Max: f64(2.5)}, ErrOutOfRange, "Please enter a number of at most 2.5."},
		{&flow.Step{Input: flow.InputDate}, ErrFormat, builtinEN.date},
		{&flow.Step{Input: flow.InputDate, Retry: flow.Text{"de": "Datum!", "en": "Date!"}}, ErrFormat, "Date!"},
	}
	for i, c := range cases {
		if got := e.retryText(c.st, c.err); got != c.want {
			t.Errorf("case %d: %q, want %q", i, got, c.want)
		}
	}
}

// refNumber is the number check as it was before MaxNumberDigits, on
// strconv: the same format rules, then ParseFloat, float comparison and
// FormatFloat.
func refNumber(s string, lo, hi *float64) (string, error) {
	i := 0
	if s[0] == '+' || s[0] == '-' {
		i = 1
	}
	digits, seps := 0, 0
	for j := i; j < len(s); j++ {
		switch c := s[j]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' || c == ',':
			seps++
		default:
			return "", ErrFormat
		}
	}
	if digits == 0 || seps > 1 || digits > 30 {
		return "", ErrFormat
	}
	v, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return "", ErrFormat
	}
	if lo != nil && v < *lo || hi != nil && v > *hi {
		return "", ErrOutOfRange
	}
	if v == 0 {
		v = 0
	}
	return strconv.FormatFloat(v, 'f', -1, 64), nil
}

// TestNumberMatchesStrconv: for inputs of up to MaxNumberDigits significant
// digits, validNumber gives what ParseFloat, float comparison and FormatFloat
// give, for bounds at, next to and away from the value; longer ones are
// refused.
func TestNumberMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
			if r.IntN(4) == 0 {
				b[i] = '0'
			}
		}
		return string(b)
	}
	checked := 0
	for range 50000 {
		s := []string{"", "+", "-"}[r.IntN(3)] + digits(r.IntN(16))
		if r.IntN(3) > 0 {
			s += []string{".", ","}[r.IntN(2)] + digits(r.IntN(16))
		}
		if strings.Trim(s, "+-.,") == "" || len(strings.Trim(s, "+-.,")) > 30 {
			continue
		}
		sig := strings.TrimRight(strings.TrimLeft(strings.NewReplacer("+", "", "-", "", ".", "", ",", "").Replace(s), "0"), "0")
		want, _ := refNumber(s, nil, nil)
		v, _ := strconv.ParseFloat(want, 64)
		bounds := []float64{v, math.Nextafter(v, math.Inf(1)), math.Nextafter(v, math.Inf(-1)), -v, 0, math.Copysign(0, -1),
			r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20)), 5e-324, math.MaxFloat64}
		for k := range 12 {
			var lo, hi *float64
			if k%3 != 0 {
				lo = &bounds[r.IntN(len(bounds))]
			}
			if k%3 != 1 {
				hi = &bounds[r.IntN(len(bounds))]
			}
			got, err := validNumber(s, lo, hi)
			if len(sig) > MaxNumberDigits {
				if err != ErrFormat {
					t.Fatalf("%q (%d significant digits): %q, %v; want ErrFormat", s, len(sig), got, err)
				}
				continue
			}
			want, werr := refNumber(s, lo, hi)
			if got != want || err != werr {
				t.Fatalf("%q in [%v, %v]: %q, %v; strconv: %q, %v", s, deref(lo), deref(hi), got, err, want, werr)
			}
			checked++
		}
	}
	if checked < 100000 {
		t.Fatalf("only %d checks", checked)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// FuzzNumber: validNumber gives what the check on strconv gives (refNumber),
// except that it refuses numbers of more than MaxNumberDigits significant
// digits.
func FuzzNumber(f *testing.F) {
	for _, s := range []string{"3,50", "-0", "+.5", "1e3", "0.1000000000000001", "99999999999999.9"} {
		f.Add(s, 1.0, 10.0)
	}
	f.Fuzz(func(t *testing.T, s string, lo, hi float64) {
		if s == "" || math.IsNaN(lo) || math.IsNaN(hi) {
			return
		}
		got, err := validNumber(s, &lo, &hi)
		want, werr := refNumber(s, &lo, &hi)
		if err == ErrFormat {
			sig := strings.Trim(strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, s), "0")
			if werr != ErrFormat && len(sig) <= MaxNumberDigits {
				t.Fatalf("%q refused; before: %q, %v", s, want, werr)
			}
			return
		}
		if got != want || err != werr {
			t.Fatalf("%q in [%v, %v]: %q, %v; strconv: %q, %v", s, lo, hi, got, err, want, werr)
		}
	})
}
