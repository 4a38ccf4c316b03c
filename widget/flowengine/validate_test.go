package flowengine

import (
	"errors"
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
		got, err := Validate(c.st, c.in, nil)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("Validate(%v, %q) = %q, %v; want %q, %v", c.st.Input, c.in, got, err, c.want, c.err)
		}
	}
	if _, err := Validate(&flow.Step{Input: flow.InputText, Pattern: "("}, "x", nil); err == nil || isInputError(err) {
		t.Errorf("invalid pattern: %v", err)
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
