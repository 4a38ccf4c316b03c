package flow

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Patterns (the ask field "pattern" and the condition "matches") are written
// in a subset of RE2 that ECMAScript RegExp with the "u" flag reads with the
// same meaning, so that the relay can check them with Go's regexp and the
// widget can run them with the browser's RegExp (docs/FLOWS.md §2.1).

// MaxRepeat is the largest repetition count of a pattern, also for nested
// repetitions multiplied (as in Go's regexp).
const MaxRepeat = 1000

// PatternError is a pattern outside the supported subset.
type PatternError struct {
	Offset int    // byte offset of the offending construct in the pattern
	Msg    string // what is wrong, naming the construct
}

func (e *PatternError) Error() string { return "flow: pattern: " + e.Msg }

// CheckPattern reports whether p is in the supported subset; the error is a
// *PatternError naming the first construct outside it. The subset's
// patterns compile with Go's regexp alike, up to its size limits (the
// relay's check also compiles them).
func CheckPattern(p string) error {
	if !utf8.ValidString(p) {
		return &PatternError{0, "invalid UTF-8"}
	}
	ps := &pparser{s: p}
	if strings.HasPrefix(p, "^") {
		ps.i = 1
	}
	ps.alt(0)
	if ps.err == nil && ps.i < len(p) {
		ps.fail(ps.i, "unmatched ): write \\) for a literal )")
	}
	if ps.err != nil {
		return ps.err
	}
	return nil
}

// PortablePattern rewrites a pattern of the subset (CheckPattern) so that
// Go's regexp and ECMAScript RegExp with the "u" flag give the same answer
// for it, with the meaning of Go's regexp (RE2): outside a class "." becomes
// [^\n] (ECMAScript's "." also refuses \r, U+2028 and U+2029), \s becomes
// [\t\n\f\r ] and \S its complement (ECMAScript's \s also takes \v,
// U+00A0, U+FEFF and the other Unicode spaces); inside a class \s and \S
// become the same sets as ranges. Everything else is kept byte for byte. The
// result uses only syntax both engines share, so either can compile it.
//
// It does not check p (the widget runs flows the relay checked, and leaves
// the checker out to stay small); for a pattern outside the subset the
// result is unspecified.
func PortablePattern(p string) string {
	out := make([]byte, 0, len(p)+8)
	class := false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\' && i+1 < len(p):
			i++
			switch e := p[i]; {
			case e == 's' && class:
				out = append(out, classSpace...)
			case e == 'S' && class:
				out = append(out, classNotSpace...)
			case e == 's':
				out = append(out, portSpace...)
			case e == 'S':
				out = append(out, portNotSpace...)
			default:
				out = append(out, c, e)
			}
		case c == '[' && !class:
			class = true
			out = append(out, c)
			if i+1 < len(p) && p[i+1] == '^' {
				out = append(out, '^')
				i++
			}
		case c == ']' && class:
			class = false
			out = append(out, c)
		case c == '.' && !class:
			out = append(out, portDot...)
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

// The portable spellings of ".", \s and \S; inside a class, \s and \S as
// ranges (the complement of \t \n \f \r and space up to U+10FFFF, written
// as the character itself: both engines take it in a class).
const (
	portDot       = `[^\n]`
	portSpace     = `[\t\n\f\r ]`
	portNotSpace  = `[^\t\n\f\r ]`
	classSpace    = `\t\n\f\r `
	classNotSpace = `\x00-\x08\x0b\x0e-\x1f!-` + "\U0010FFFF"
)

type pparser struct {
	s   string
	i   int
	err *PatternError
}

// A prep is a counted repetition {n}, {n,} or {n,m} with the counted
// repetitions nested in it, for the limit on nested counts.
type prep struct {
	min, max int // max -1: no upper bound
	subs     []*prep
}

func (ps *pparser) fail(at int, msg string) {
	if ps.err == nil {
		ps.err = &PatternError{at, msg}
	}
}

// alt parses alternatives up to an unmatched ")" or the end and returns the
// counted repetitions at its top level.
func (ps *pparser) alt(depth int) []*prep {
	var reps []*prep
	for ps.err == nil {
		reps = append(reps, ps.concat(depth)...)
		if ps.err != nil || ps.i >= len(ps.s) || ps.s[ps.i] != '|' {
			break
		}
		ps.i++
	}
	return reps
}

func (ps *pparser) concat(depth int) []*prep {
	var reps []*prep
	for ps.i < len(ps.s) && ps.err == nil {
		start := ps.i
		var inner []*prep
		switch c := ps.s[ps.i]; c {
		case '|', ')':
			return reps
		case '(':
			inner = ps.group(depth)
		case '[':
			ps.class()
		case '.':
			ps.i++
		case '\\':
			ps.escape(false)
		case '^':
			ps.fail(start, "^ is only allowed at the start of the pattern")
		case '$':
			if depth == 0 && ps.i == len(ps.s)-1 {
				ps.i++
				return reps
			}
			ps.fail(start, "$ is only allowed at the end of the pattern")
		case '*', '+', '?':
			ps.fail(start, "nothing to repeat before "+string(c))
		case '{':
			if _, _, n := ps.counts(start); n > 0 {
				ps.fail(start, "nothing to repeat before "+ps.s[start:start+n])
			} else {
				ps.fail(start, "a literal { must be written \\{")
			}
		case '}', ']':
			ps.fail(start, "a literal "+string(c)+" must be written \\"+string(c))
		default:
			_, n := utf8.DecodeRuneInString(ps.s[ps.i:])
			ps.i += n
		}
		if ps.err != nil {
			break
		}
		reps = append(reps, ps.quantifier(inner)...)
	}
	return reps
}

// quantifier parses an optional quantifier after an atom whose counted
// repetitions are inner.
func (ps *pparser) quantifier(inner []*prep) []*prep {
	if ps.i >= len(ps.s) {
		return inner
	}
	start := ps.i
	switch c := ps.s[ps.i]; c {
	case '*', '+', '?':
		ps.i++
	case '{':
		min, max, n := ps.counts(start)
		if n == 0 {
			ps.fail(start, "a literal { must be written \\{")
			return nil
		}
		if ps.err != nil {
			return nil
		}
		ps.i += n
		r := &prep{min: min, max: max, subs: inner}
		if (min >= 2 || max >= 2) && !repeatIsValid(r, MaxRepeat) {
			ps.fail(start, "nested repetition counts multiply to more than "+strconv.Itoa(MaxRepeat))
			return nil
		}
		inner = []*prep{r}
	default:
		return inner
	}
	if ps.i < len(ps.s) && ps.s[ps.i] == '?' { // lazy
		ps.i++
	}
	if ps.i < len(ps.s) {
		c := ps.s[ps.i]
		_, _, n := ps.counts(ps.i)
		if c == '*' || c == '+' || c == '?' || n > 0 {
			ps.fail(ps.i, "a quantifier cannot follow another quantifier ("+ps.s[start:ps.i+max(n, 1)]+"); use a group (?:…)")
		}
	}
	return inner
}

// counts parses a counted repetition {n}, {n,} or {n,m} at i and returns
// its bounds (max -1: none) and length; n is 0 if there is none. A malformed
// count (leading zero, more than MaxRepeat, min > max) is reported.
func (ps *pparser) counts(i int) (min, max, n int) {
	s := ps.s[i:]
	if len(s) < 3 || s[0] != '{' {
		return 0, 0, 0
	}
	j := 1
	num := func() (int, int, bool) { // value, start, ok
		k := j
		v := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			if v <= MaxRepeat {
				v = v*10 + int(s[j]-'0')
			}
			j++
		}
		return v, k, j > k
	}
	min, at, ok := num()
	if !ok {
		return 0, 0, 0
	}
	max = min
	bad := s[at] == '0' && j-at > 1
	if j < len(s) && s[j] == ',' {
		j++
		max = -1
		if v, at2, ok := num(); ok {
			max = v
			bad = bad || s[at2] == '0' && j-at2 > 1
		}
	}
	if j >= len(s) || s[j] != '}' {
		return 0, 0, 0
	}
	n = j + 1
	switch {
	case bad:
		ps.fail(i, "repetition count with a leading zero: "+s[:n])
	case min > MaxRepeat || max > MaxRepeat:
		ps.fail(i, "repetition count above "+strconv.Itoa(MaxRepeat)+": "+s[:n])
	case max >= 0 && min > max:
		ps.fail(i, "repetition count minimum above maximum: "+s[:n])
	}
	return min, max, n
}

// repeatIsValid is the rule of Go's regexp/syntax: the counts of nested
// repetitions, divided down from n, never exceed what is left.
func repeatIsValid(r *prep, n int) bool {
	m := r.max
	if m == 0 {
		return true
	}
	if m < 0 {
		m = r.min
	}
	if m > n {
		return false
	}
	if m > 0 {
		n /= m
	}
	for _, sub := range r.subs {
		if !repeatIsValid(sub, n) {
			return false
		}
	}
	return true
}

func (ps *pparser) group(depth int) []*prep {
	start := ps.i
	rest := ps.s[start+1:]
	switch {
	case !strings.HasPrefix(rest, "?"):
		ps.i++
	case strings.HasPrefix(rest, "?:"):
		ps.i += 3
	case strings.HasPrefix(rest, "?=") || strings.HasPrefix(rest, "?!") ||
		strings.HasPrefix(rest, "?<=") || strings.HasPrefix(rest, "?<!"):
		ps.fail(start, "lookaround (?=…) (?!…) (?<=…) (?<!…) is not supported")
		return nil
	case strings.HasPrefix(rest, "?P") || strings.HasPrefix(rest, "?<") || strings.HasPrefix(rest, "?'"):
		ps.fail(start, "named groups (?P<name>…) (?<name>…) are not supported; use (…) or (?:…)")
		return nil
	default:
		j := 1
		for j < len(rest) && (rest[j] == '-' || rest[j] >= 'a' && rest[j] <= 'z' || rest[j] >= 'A' && rest[j] <= 'Z') {
			j++
		}
		if j > 1 && j < len(rest) && (rest[j] == ')' || rest[j] == ':') {
			flags := "(" + rest[:j] + ")"
			if rest[j] == ':' {
				flags = "(" + rest[:j] + ":…)"
			}
			if strings.Contains(rest[:j], "i") {
				ps.fail(start, flags+" flags are not supported; use a character class such as [Aa] to ignore case")
			} else {
				ps.fail(start, flags+" flags are not supported")
			}
			return nil
		}
		_, n := utf8.DecodeRuneInString(rest[1:])
		ps.fail(start, "unsupported group syntax ("+rest[:1+n])
		return nil
	}
	reps := ps.alt(depth + 1)
	if ps.err != nil {
		return nil
	}
	if ps.i >= len(ps.s) {
		ps.fail(start, "missing closing ) for this (")
		return nil
	}
	ps.i++
	return reps
}

// class parses a character class [...] or [^...].
func (ps *pparser) class() {
	start := ps.i
	ps.i++
	if ps.i < len(ps.s) && ps.s[ps.i] == '^' {
		ps.i++
	}
	if ps.i < len(ps.s) && ps.s[ps.i] == ']' {
		ps.fail(ps.i, "a ] at the start of a class must be written \\] (an empty class [] or [^] is not supported)")
		return
	}
	first := true
	for ps.err == nil {
		if ps.i >= len(ps.s) {
			ps.fail(start, "missing closing ] for this [")
			return
		}
		at := ps.i
		switch ps.s[at] {
		case ']':
			ps.i++
			return
		case '[':
			if end := strings.Index(ps.s[at:], ":]"); strings.HasPrefix(ps.s[at:], "[:") && end > 0 {
				ps.fail(at, "POSIX classes like ["+ps.s[at:at+end+2]+"] are not supported; use ranges such as [a-zA-Z]")
			} else {
				ps.fail(at, "a [ inside a class must be written \\[")
			}
			return
		case '-':
			if first || at+1 >= len(ps.s) || ps.s[at+1] == ']' {
				ps.i++
				first = false
				continue
			}
			ps.fail(at, "a literal - inside a class must be written \\- unless it is first or last")
			return
		}
		first = false
		lo, loClass := ps.classAtom()
		if ps.err != nil || ps.i+1 >= len(ps.s) || ps.s[ps.i] != '-' || ps.s[ps.i+1] == ']' {
			continue
		}
		// A range lo-hi.
		if loClass {
			ps.fail(at, "a range cannot start at a class escape ("+ps.s[at:ps.i+1]+"); write \\- for a literal -")
			return
		}
		ps.i++
		hiAt := ps.i
		if c := ps.s[hiAt]; c == '-' || c == '[' {
			ps.fail(hiAt, "a literal "+string(c)+" inside a class must be written \\"+string(c))
			return
		}
		hi, hiClass := ps.classAtom()
		if ps.err != nil {
			return
		}
		if hiClass {
			ps.fail(hiAt, "a range cannot end at a class escape ("+ps.s[at:ps.i]+")")
			return
		}
		if hi < lo {
			ps.fail(at, "range out of order: "+ps.s[at:ps.i])
			return
		}
	}
}

// classAtom parses one character or escape inside a class and returns the
// character (class: a class escape like \d).
func (ps *pparser) classAtom() (r rune, class bool) {
	if ps.s[ps.i] == '\\' {
		return ps.escape(true)
	}
	r, n := utf8.DecodeRuneInString(ps.s[ps.i:])
	ps.i += n
	return r, false
}

// syntaxChars are the characters that may be escaped with a backslash
// anywhere (and "-" inside a class): ECMAScript's rule with the "u" flag.
const syntaxChars = `\^$.|?*+()[]{}/`

// escape parses a backslash escape and returns the character it stands for
// (class: a class escape \d \D \w \W \s \S).
func (ps *pparser) escape(inClass bool) (r rune, class bool) {
	start := ps.i
	if start+1 >= len(ps.s) {
		ps.fail(start, "trailing backslash")
		return 0, false
	}
	c := ps.s[start+1]
	esc := ps.s[start : start+2]
	ps.i += 2
	switch c {
	case 'd', 'D', 'w', 'W', 's', 'S':
		return 0, true
	case 'n', 't', 'r', 'f', 'v':
		return rune(strings.IndexByte("tnvfr", c) + '\t'), false
	case 'x':
		if start+4 <= len(ps.s) && isHex(ps.s[start+2]) && isHex(ps.s[start+3]) {
			ps.i = start + 4
			return rune(unhex(ps.s[start+2])<<4 | unhex(ps.s[start+3])), false
		}
		if start+2 < len(ps.s) && ps.s[start+2] == '{' {
			ps.fail(start, `\x{…} is not supported; use \xHH or the character itself`)
		} else {
			ps.fail(start, `\x needs two hex digits (\xHH)`)
		}
		return 0, false
	case '-':
		if inClass {
			return '-', false
		}
		ps.fail(start, `\- is only allowed inside a class; write - alone`)
		return 0, false
	case '0':
		ps.fail(start, `octal escapes like \0 are not supported; use \x00`)
		return 0, false
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		ps.fail(start, "backreferences like "+esc+" are not supported")
		return 0, false
	case 'b', 'B':
		if inClass {
			ps.fail(start, esc+" inside a class is not supported; use \\x08 for a backspace")
			return 0, false
		}
		ps.fail(start, `word boundaries \b and \B are not supported`)
		return 0, false
	case 'A', 'z', 'Z':
		ps.fail(start, esc+" is not supported; use ^ at the start or $ at the end of the pattern")
		return 0, false
	case 'p', 'P':
		ps.fail(start, `Unicode classes \p{…} and \P{…} are not supported; use ranges such as [a-zA-ZäöüÄÖÜß]`)
		return 0, false
	case 'Q', 'E':
		ps.fail(start, `quoting with \Q…\E is not supported; escape each character`)
		return 0, false
	case 'k':
		ps.fail(start, `named backreferences \k<…> are not supported`)
		return 0, false
	case 'u':
		ps.fail(start, `\u escapes are not supported; use \xHH or the character itself`)
		return 0, false
	case 'c':
		ps.fail(start, `control escapes \cX are not supported; use \xHH`)
		return 0, false
	}
	if strings.IndexByte(syntaxChars, c) >= 0 {
		return rune(c), false
	}
	if c < utf8.RuneSelf && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
		ps.fail(start, "unknown escape "+esc)
		return 0, false
	}
	_, n := utf8.DecodeRuneInString(ps.s[start+1:])
	ps.fail(start, "unnecessary escape "+ps.s[start:start+1+n]+"; write "+ps.s[start+1:start+1+n]+" without the backslash")
	return 0, false
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) int {
	switch {
	case c <= '9':
		return int(c - '0')
	case c >= 'a':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}
