package flow

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
	"unicode/utf8"

	"siegel/shared/flow/patterngen"
)

// full compiles p for a full match with Go's regexp (what the engine asks of
// its compiler).
func full(t testing.TB, p string) *regexp.Regexp {
	t.Helper()
	re, err := regexp.Compile(`^(?:` + p + `)$`)
	if err != nil {
		t.Fatalf("regexp %q: %v", p, err)
	}
	return re
}

func TestPortablePatternRewrites(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`[^<>]+`, `[^<>]+`},
		{`a.c`, `a[^\n]c`},
		{`[.]`, `[.]`},
		{`\.`, `\.`},
		{`\s+\S`, `[\t\n\f\r ]+[^\t\n\f\r ]`},
		{`[\s\d]`, `[\t\n\f\r \d]`},
		{`[^\S]`, `[^\x00-\x08\x0b\x0e-\x1f!-` + "\U0010FFFF" + `]`},
		{`[\S-]`, `[\x00-\x08\x0b\x0e-\x1f!-` + "\U0010FFFF" + `-]`},
		{`^(?:\d{3}){1,2}?$`, `^(?:\d{3}){1,2}?$`},
		{`[\w.+-]+@\x41\/\{`, `[\w.+-]+@\x41\/\{`},
		{`Grüße|😀`, `Grüße|😀`},
		{"a\nb", "a\nb"},
		{`(a|)*`, `(a|)*`},
		{`(?:a{10}){100}`, `(?:a{10}){100}`}, // at the limit of nested counts
		{`((a{2}){2}){250}`, `((a{2}){2}){250}`},
	} {
		if err := CheckPattern(c.in); err != nil {
			t.Errorf("CheckPattern(%q): %v", c.in, err)
		}
		if got := PortablePattern(c.in); got != c.want {
			t.Errorf("PortablePattern(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

func TestPortablePatternRejects(t *testing.T) {
	for _, c := range []struct {
		in  string
		off int
		msg string
	}{
		{`(?i)akku`, 0, "(?i) flags are not supported; use a character class"},
		{`x(?i:y)`, 1, "(?i:…) flags"},
		{`(?s).`, 0, "(?s) flags"},
		{`(?m)^a`, 0, "(?m) flags"},
		{`(?U)a*`, 0, "(?U) flags"},
		{`(?P<n>a)`, 0, "named groups"},
		{`(?<n>a)`, 0, "named groups"},
		{`(?'n'a)`, 0, "named groups"},
		{`(?=a)`, 0, "lookaround"},
		{`a(?<!b)`, 1, "lookaround"},
		{`(a)\1`, 3, `backreferences like \1`},
		{`\k<n>`, 0, "named backreferences"},
		{`\Aa`, 0, `\A is not supported`},
		{`a\z`, 1, `\z is not supported`},
		{`[[:alpha:]]`, 1, "POSIX classes like [[:alpha:]]"},
		{`\pL`, 0, "Unicode classes"},
		{`\p{Greek}`, 0, "Unicode classes"},
		{`x\P{L}`, 1, "Unicode classes"},
		{`\bx`, 0, "word boundaries"},
		{`\B`, 0, "word boundaries"},
		{`[\b]`, 1, `\b inside a class`},
		{`\Qa.b\E`, 0, `\Q…\E`},
		{`\x{41}`, 0, `\x{…}`},
		{`\x4`, 0, "two hex digits"},
		{`\u0041`, 0, `\u escapes`},
		{`\cJ`, 0, "control escapes"},
		{`\0`, 0, "octal"},
		{`\C`, 0, `unknown escape \C`},
		{`\a`, 0, `unknown escape \a`},
		{`\_`, 0, `unnecessary escape \_`},
		{`\ä`, 0, `unnecessary escape \ä`},
		{`a\-`, 1, `\- is only allowed inside a class`},
		{`a\`, 1, "trailing backslash"},
		{`a^`, 1, "^ is only allowed at the start"},
		{`(^a)`, 1, "^ is only allowed at the start"},
		{`a$|b`, 1, "$ is only allowed at the end"},
		{`(a$)`, 2, "$ is only allowed at the end"},
		{`*`, 0, "nothing to repeat before *"},
		{`a|+`, 2, "nothing to repeat"},
		{`{2}`, 0, "nothing to repeat before {2}"},
		{`a**`, 2, "cannot follow another quantifier (**)"},
		{`a*??`, 3, "cannot follow another quantifier"},
		{`a{2}*`, 4, "cannot follow another quantifier"},
		{`a{`, 1, `a literal { must be written \{`},
		{`a{x}`, 1, `a literal { must be written \{`},
		{`a{,2}`, 1, `a literal { must be written \{`},
		{`a}`, 1, `a literal } must be written \}`},
		{`a]`, 1, `a literal ] must be written \]`},
		{`a{01}`, 1, "leading zero"},
		{`a{1,02}`, 1, "leading zero"},
		{`a{1001}`, 1, "above 1000"},
		{`a{2,1001}`, 1, "above 1000"},
		{`a{99999999999999999999}`, 1, "above 1000"},
		{`a{3,2}`, 1, "minimum above maximum"},
		{`(?:a{10}){101}`, 9, "nested repetition counts multiply to more than 1000"},
		{`((a{2}){2}){251}`, 11, "nested repetition"},
		{`[]`, 1, "an empty class"},
		{`[^]`, 2, "an empty class"},
		{`[]a]`, 1, `a ] at the start of a class must be written \]`},
		{`[a[]`, 2, `a [ inside a class must be written \[`},
		{`[a-c-e]`, 4, "a literal - inside a class"},
		{`[\d-z]`, 1, "a range cannot start at a class escape"},
		{`[a-\s]`, 3, "a range cannot end at a class escape"},
		{`[a--]`, 3, "a literal - inside a class must be written"},
		{`[z-a]`, 1, "range out of order: z-a"},
		{`[\x7f-\x00]`, 1, "range out of order"},
		{`[ab`, 0, "missing closing ] for this ["},
		{`[a-`, 0, "missing closing ]"},
		{`(a`, 0, "missing closing ) for this ("},
		{`a)`, 1, "unmatched )"},
		{`(?#c)`, 0, "unsupported group syntax (?#"},
		{`(?`, 0, "unsupported group syntax (?"},
		{"\xff", 0, "invalid UTF-8"},
	} {
		err := CheckPattern(c.in)
		var pe *PatternError
		if !errors.As(err, &pe) || pe.Offset != c.off || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("CheckPattern(%q) = %v; want a PatternError at %d containing %q", c.in, err, c.off, c.msg)
		}
	}
}

type patternTable struct {
	Patterns []string `json:"patterns"`
	Inputs   []string `json:"inputs"`
}

func loadPatternTable(t *testing.T) patternTable {
	t.Helper()
	b, err := os.ReadFile("testdata/patterns.json")
	if err != nil {
		t.Fatal(err)
	}
	var tab patternTable
	if err := json.Unmarshal(b, &tab); err != nil {
		t.Fatal(err)
	}
	if len(tab.Patterns) < 50 || len(tab.Inputs) < 50 {
		t.Fatalf("table too small: %d patterns, %d inputs", len(tab.Patterns), len(tab.Inputs))
	}
	return tab
}

// TestPatternTable: the patterns of the table (the one the wasm tests check
// against the browser's RegExp) are in the subset, and the portable form
// means the same to Go's regexp as the pattern, on every input.
func TestPatternTable(t *testing.T) {
	tab := loadPatternTable(t)
	for _, p := range tab.Patterns {
		if err := CheckPattern(p); err != nil {
			t.Errorf("%q: %v", p, err)
			continue
		}
		port := PortablePattern(p)
		a, b := full(t, p), full(t, port)
		for _, in := range tab.Inputs {
			if a.MatchString(in) != b.MatchString(in) {
				t.Errorf("pattern %q, portable %q, input %q: %v vs %v", p, port, in, a.MatchString(in), b.MatchString(in))
			}
		}
	}
}

// TestPortablePatternRandom: random patterns of the subset are accepted,
// compile with Go's regexp, and their portable form means the same.
func TestPortablePatternRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	matched, total := 0, 0
	for range 3000 {
		p := patterngen.Gen(r)
		if err := CheckPattern(p.Src); err != nil {
			t.Fatalf("generated %q: %v", p.Src, err)
		}
		port := PortablePattern(p.Src)
		a, b := full(t, p.Src), full(t, port)
		for _, in := range p.Inputs(r, 12) {
			ma, mb := a.MatchString(in), b.MatchString(in)
			if ma != mb {
				t.Fatalf("pattern %q, portable %q, input %q: %v vs %v", p.Src, port, in, ma, mb)
			}
			total++
			if ma {
				matched++
			}
		}
	}
	// The inputs are made to hit both sides.
	if matched < total/5 || matched > total*4/5 {
		t.Fatalf("%d of %d inputs match", matched, total)
	}
}

// FuzzPortablePattern: a pattern CheckPattern accepts compiles with Go's
// regexp (up to its size limits), as does its portable form, and both give
// the same full and unanchored match on any input.
func FuzzPortablePattern(f *testing.F) {
	for _, s := range []string{`[^<>]+`, `a.c`, `\s\S`, `(?i)x`, `[\d-z]`, `(?:a{2}){3}?`, `^a|b$`} {
		f.Add(s, "a\u00a0\r\nc")
	}
	f.Fuzz(func(t *testing.T, p, in string) {
		if err := CheckPattern(p); err != nil {
			var pe *PatternError
			if !errors.As(err, &pe) || pe.Offset < 0 || pe.Offset > len(p) || pe.Msg == "" {
				t.Fatalf("%q: bad error %v", p, err)
			}
			return
		}
		if _, err := regexp.Compile(p); err != nil {
			var se *syntax.Error
			if errors.As(err, &se) && (se.Code == syntax.ErrLarge || se.Code == syntax.ErrNestingDepth) {
				return
			}
			t.Fatalf("accepted %q, but Go's regexp refuses it: %v", p, err)
		}
		port := PortablePattern(p)
		a, b := full(t, p), full(t, port)
		if !utf8.ValidString(in) {
			in = strings.ToValidUTF8(in, "\uFFFD")
		}
		if a.MatchString(in) != b.MatchString(in) {
			t.Fatalf("pattern %q, portable %q, input %q: full match differs", p, port, in)
		}
		sa, sb := regexp.MustCompile(p), regexp.MustCompile(port)
		if sa.MatchString(in) != sb.MatchString(in) {
			t.Fatalf("pattern %q, portable %q, input %q: search differs", p, port, in)
		}
	})
}
