//go:build js

package jsbridge

import (
	"errors"
	"testing"
)

func TestCompileRegExp(t *testing.T) {
	cases := []struct {
		pattern string
		yes, no []string
	}{
		{`[a-z]+`, []string{"abc", "z"}, []string{"", "abc1", "1abc", "ABC", "ab\nc"}},
		{`a|bc`, []string{"a", "bc"}, []string{"abc", "b"}}, // the group keeps | inside the anchors
		{`[äöüß]+`, []string{"äöü", "ß"}, []string{"a", "äa"}},
		{`.`, []string{"😀", "ä", "\U0010FFFF"}, []string{"", "😀😀"}}, // the "u" flag: one code point
		{`[😀-😂]`, []string{"😁"}, []string{"😃"}},
		{`\d{2,3}`, []string{"12", "123"}, []string{"1", "1234", "١٢"}},
		{`x?`, []string{"", "x"}, []string{"xx"}},
		// A leading byte-order mark survives the way to the browser.
		{"\ufeff", []string{"\ufeff"}, []string{""}},
		{"\ufeff{2}a", []string{"\ufeff\ufeffa"}, []string{"a", "\ufeffa"}},
		{`[^a]?`, []string{"", "\ufeff"}, []string{"\ufeff\ufeff"}},
	}
	for _, c := range cases {
		re, err := CompileRegExp(c.pattern)
		if err != nil {
			t.Fatalf("%q: %v", c.pattern, err)
		}
		for range 2 { // no state between calls
			for _, s := range c.yes {
				if !re.MatchString(s) {
					t.Errorf("%q does not match %q", c.pattern, s)
				}
			}
			for _, s := range c.no {
				if re.MatchString(s) {
					t.Errorf("%q matches %q", c.pattern, s)
				}
			}
		}
	}
}

func TestCompileRegExpSyntaxError(t *testing.T) {
	// The last two are fine without the "u" flag.
	for _, p := range []string{`(`, `a**`, `(?i)x`, `[z-a]`, `\-`, `a{`} {
		if re, err := CompileRegExp(p); !errors.Is(err, ErrJS) || re != nil {
			t.Errorf("%q: %v, %v", p, re, err)
		}
	}
}

// TestRegExpDiffersFromRE2 pins the two differences that the portable form
// of flow patterns (flow.PortablePattern) removes: the browser's "." refuses
// \r, U+2028 and U+2029 (Go's regexp only \n), and its \s takes \v, U+00A0,
// U+FEFF and other Unicode spaces (Go's regexp only \t \n \f \r and space).
func TestRegExpDiffersFromRE2(t *testing.T) {
	dot, _ := CompileRegExp(`.`)
	for _, s := range []string{"\r", "\u2028", "\u2029", "\n"} {
		if dot.MatchString(s) {
			t.Errorf(". matches %q", s)
		}
	}
	space, _ := CompileRegExp(`\s`)
	for _, s := range []string{"\v", "\u00a0", "\ufeff", "\u2003", "\u3000"} {
		if !space.MatchString(s) {
			t.Errorf(`\s does not match %q`, s)
		}
	}
}
