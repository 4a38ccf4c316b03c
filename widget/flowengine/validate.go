package flowengine

import (
	"errors"
	"math"
	"regexp"
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
//     comma; within Min and Max (inclusive). Stored in canonical form
//     ("3,50" → "3.5").
//   - date: YYYY-MM-DD (or DD.MM.YYYY) naming a real calendar day (years 1
//     to 9999). Stored as YYYY-MM-DD.
//
// An input longer than flow.MaxInputLength characters is refused for every
// kind. compile compiles Pattern (nil: regexp.Compile); the engine passes
// its cache.
func Validate(st *flow.Step, input string, compile func(string) (*regexp.Regexp, error)) (string, error) {
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
		if compile == nil {
			compile = regexp.Compile
		}
		re, err := compile(anchored(st.Pattern))
		if err != nil {
			return "", err
		}
		if !re.MatchString(s) {
			return "", ErrPattern
		}
	}
	return s, nil
}

// anchored makes a pattern match the whole input.
func anchored(p string) string { return `^(?:` + p + `)$` }

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

func validNumber(s string, lo, hi *float64) (string, error) {
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
		v = 0 // no "-0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64), nil
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
