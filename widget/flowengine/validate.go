package flowengine

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"siegel/shared/flow"
)

// Reasons why Validate refuses an input.
var (
	ErrEmpty      = errors.New("flowengine: empty input")
	ErrTooShort   = errors.New("flowengine: input too short")
	ErrTooLong    = errors.New("flowengine: input too long")
	ErrFormat     = errors.New("flowengine: input not in the expected format")
	ErrOutOfRange = errors.New("flowengine: number out of range")
	ErrPattern    = errors.New("flowengine: input does not match the pattern")
)

// Validate checks the input of an ask step and returns the value to store:
//
//   - text: trimmed; at least 1 and at least MinLength characters, at most
//     MaxLength (default flow.MaxInputLength); the whole input matches Pattern.
//   - email: trimmed; local@domain with a dot-atom local part of at most 64
//     bytes and a domain of at least two labels (letters, digits, hyphens, not
//     at a label's ends; the last label at least two letters); at most 254
//     bytes. The domain is stored in lower case.
//   - phone: digits, spaces and the separators - / ( ) ., an optional leading
//     +, with 6 to 15 digits. Stored trimmed with single spaces.
//   - number: an optional sign, digits and at most one decimal point or
//     comma, at most MaxNumberDigits significant digits; within Min and Max
//     (inclusive). Stored in canonical form ("3,50" → "3.5").
//   - date: YYYY-MM-DD (or DD.MM.YYYY) naming a real calendar day (years 1
//     to 9999). Stored as YYYY-MM-DD.
//
// An input longer than flow.MaxInputLength characters is refused for every
// kind. compile compiles Pattern (see Compiler; the engine passes its cached
// one); without it a step with a pattern gives ErrNoCompiler, and a pattern
// that does not compile ErrBadPattern.
func Validate(st *flow.Step, input string, compile Compiler) (string, error) {
	if utf8.RuneCountInString(input) > flow.MaxInputLength {
		return "", ErrTooLong
	}
	s := strings.TrimSpace(input)
	if s == "" {
		return "", ErrEmpty
	}
	switch st.Input {
	case flow.InputEmail:
		return validEmail(s)
	case flow.InputPhone:
		return validPhone(s)
	case flow.InputNumber:
		return validNumber(s, st.Min, st.Max)
	case flow.InputDate:
		return validDate(s)
	}
	n := utf8.RuneCountInString(s)
	if st.MinLength > 0 && n < st.MinLength {
		return "", ErrTooShort
	}
	if st.MaxLength > 0 && n > st.MaxLength {
		return "", ErrTooLong
	}
	if st.Pattern != "" {
		m, err := compilePattern(st.Pattern, false, compile)
		if err != nil {
			return "", err
		}
		if !m.MatchString(s) {
			return "", ErrPattern
		}
	}
	return s, nil
}

const emailSpecials = "!#$%&'*+/=?^_`{|}~-"

func validEmail(s string) (string, error) {
	if len(s) > 254 {
		return "", ErrTooLong
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", ErrFormat
	}
	local, domain := s[:at], s[at+1:]
	if len(local) > 64 || local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "", ErrFormat
	}
	for _, r := range local {
		if r >= 0x80 {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return "", ErrFormat
			}
			continue
		}
		c := byte(r)
		if !isAlnum(c) && c != '.' && strings.IndexByte(emailSpecials, c) < 0 {
			return "", ErrFormat
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return "", ErrFormat
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", ErrFormat
		}
		for _, r := range l {
			if r >= 0x80 {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					return "", ErrFormat
				}
				continue
			}
			if c := byte(r); !isAlnum(c) && c != '-' {
				return "", ErrFormat
			}
		}
	}
	tld := labels[len(labels)-1]
	if utf8.RuneCountInString(tld) < 2 {
		return "", ErrFormat
	}
	for _, r := range tld {
		if !unicode.IsLetter(r) && !strings.HasPrefix(tld, "xn--") {
			return "", ErrFormat
		}
	}
	return local + "@" + strings.ToLower(domain), nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func validPhone(s string) (string, error) {
	digits := 0
	var b strings.Builder
	space := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+':
			if i != 0 {
				return "", ErrFormat
			}
		case r == ' ' || r == '\t' || r == '\u00a0':
			space = true
			continue
		case strings.ContainsRune("-/().", r):
		default:
			return "", ErrFormat
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	if digits < 6 {
		return "", ErrTooShort
	}
	if digits > 15 {
		return "", ErrTooLong
	}
	return b.String(), nil
}

// MaxNumberDigits is the most significant digits a number input may have:
// up to 15, a decimal number survives the way to a float64 and back, so the
// engine can check and store it without parsing floats.
const MaxNumberDigits = 15

// validNumber checks a number input without strconv.ParseFloat (which the
// widget would link only for this): the stored form is made from the digits
// themselves, and the bounds are compared in decimal, with the shortest
// decimal of each bound. For inputs of at most MaxNumberDigits significant
// digits both give exactly what ParseFloat, the comparison of float64
// values and FormatFloat(v, 'f', -1, 64) give.
func validNumber(s string, lo, hi *float64) (string, error) {
	i := 0
	neg := s[0] == '-'
	if s[0] == '+' || neg {
		i = 1
	}
	digits, sep := 0, -1
	for j := i; j < len(s); j++ {
		switch c := s[j]; {
		case c >= '0' && c <= '9':
			digits++
		case (c == '.' || c == ',') && sep < 0:
			sep = j
		default:
			return "", ErrFormat
		}
	}
	if digits == 0 || digits > 30 {
		return "", ErrFormat
	}
	ip, fp := s[i:], ""
	if sep >= 0 {
		ip, fp = s[i:sep], s[sep+1:]
	}
	ip = strings.TrimLeft(ip, "0")
	fp = strings.TrimRight(fp, "0")
	d := decimalOf(neg, ip, fp)
	if len(d.digits) > MaxNumberDigits {
		return "", ErrFormat
	}
	if lo != nil && d.cmp(floatDecimal(*lo)) < 0 || hi != nil && d.cmp(floatDecimal(*hi)) > 0 {
		return "", ErrOutOfRange
	}
	if d.digits == "" {
		return "0", nil // no "-0"
	}
	out := ip
	if out == "" {
		out = "0"
	}
	if fp != "" {
		out += "." + fp
	}
	if neg {
		out = "-" + out
	}
	return out, nil
}

// decimal is a number 0.digits × 10^exp: digits without leading or trailing
// zeros ("" for zero).
type decimal struct {
	neg    bool
	digits string
	exp    int
}

// decimalOf returns the decimal ip.fp (ip without leading zeros, fp without
// trailing ones).
func decimalOf(neg bool, ip, fp string) decimal {
	all := ip + fp
	lead := len(all) - len(strings.TrimLeft(all, "0"))
	return decimal{neg, strings.TrimRight(all[lead:], "0"), len(ip) - lead}
}

// floatDecimal returns the shortest decimal that reads back as v.
func floatDecimal(v float64) decimal {
	s := strconv.FormatFloat(v, 'e', -1, 64) // -d.ddde±xx
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	e := strings.IndexByte(s, 'e')
	exp := 0
	for _, c := range s[e+2:] { // e±dd…
		exp = exp*10 + int(c-'0')
	}
	if s[e+1] == '-' {
		exp = -exp
	}
	mant := s[:e]
	if len(mant) > 1 {
		mant = mant[:1] + mant[2:] // drop the point
	}
	mant = strings.TrimRight(mant, "0")
	if mant == "" {
		return decimal{}
	}
	return decimal{neg, mant, exp + 1}
}

// cmp compares d and o: -1, 0 or +1.
func (d decimal) cmp(o decimal) int {
	sign := func(x decimal) int {
		switch {
		case x.digits == "":
			return 0
		case x.neg:
			return -1
		}
		return 1
	}
	sd, so := sign(d), sign(o)
	if sd != so || sd == 0 {
		return cmpInt(sd, so)
	}
	c := cmpInt(d.exp, o.exp)
	if c == 0 {
		c = strings.Compare(d.digits, o.digits) // no trailing zeros: a prefix is smaller
	}
	return c * sd
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func validDate(s string) (string, error) {
	var y, m, d int
	ok := false
	if len(s) == 10 && s[4] == '-' && s[7] == '-' {
		y, m, d, ok = atoi(s[:4]), atoi(s[5:7]), atoi(s[8:]), true
	} else if p := strings.Split(s, "."); len(p) == 3 && len(p[0]) >= 1 && len(p[0]) <= 2 && len(p[1]) >= 1 && len(p[1]) <= 2 && len(p[2]) == 4 {
		y, m, d, ok = atoi(p[2]), atoi(p[1]), atoi(p[0]), true
	}
	if !ok || y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return "", ErrFormat
	}
	return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2), nil
}

// atoi parses ASCII digits only (-1 otherwise).
func atoi(s string) int {
	if s == "" {
		return -1
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return -1
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
