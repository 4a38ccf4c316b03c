package flowengine

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"siegel/shared/flow"
	"siegel/shared/flow/patterngen"
)

// goCompile is a Compiler on Go's regexp, for the tests (the widget uses the
// browser's RegExp, jsbridge.CompileRegExp).
func goCompile(p string) (Matcher, error) {
	re, err := regexp.Compile(`^(?:` + p + `)$`)
	if err != nil {
		return nil, err
	}
	return re, nil
}

// TestCompilerGetsPortablePatterns: the compiler sees the portable form, the
// matches condition wrapped for a search, and each pattern once per engine.
func TestCompilerGetsPortablePatterns(t *testing.T) {
	var got []string
	rec := func(p string) (Matcher, error) {
		got = append(got, p)
		return goCompile(p)
	}
	e := New(testFlow(t), "de")
	e.SetCompiler(rec)
	e.vars["a"] = "x\r"
	for range 3 {
		if ok, err := e.cond(&flow.Cond{Op: flow.CondMatches, Var: "a", Value: `x.`}, 0); !ok || err != nil {
			t.Fatalf("x. did not match x\\r: %v %v", ok, err) // "." is RE2's: all but \n
		}
	}
	for range 2 {
		if _, err := Validate(&flow.Step{Input: flow.InputText, Pattern: `\s|a.`}, "aé", e.patterns()); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{anyChars + `?(?:x[^\n])` + anyChars, `[\t\n\f\r ]|a[^\n]`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("compiled %q, want %q", got, want)
	}
	// A new compiler starts a new cache.
	e.SetCompiler(rec)
	e.cond(&flow.Cond{Op: flow.CondMatches, Var: "a", Value: `x.`}, 0)
	if len(got) != 3 {
		t.Errorf("%d compilations, want 3", len(got))
	}
}

func TestCompilerError(t *testing.T) {
	boom := errors.New("boom")
	e := New(testFlow(t), "de")
	e.SetCompiler(func(string) (Matcher, error) { return nil, boom })
	e.vars["a"] = "x"
	_, err := e.cond(&flow.Cond{Op: flow.CondMatches, Var: "a", Value: `x`}, 0)
	if !errors.Is(err, ErrBadPattern) || !errors.Is(err, boom) || !strings.Contains(err.Error(), "boom") {
		t.Errorf("got %v", err)
	}
}

// TestSearchWrapper: the matches condition, a full match of the wrapped
// portable pattern, answers as Go's unanchored regexp search on the pattern
// (the meaning the flow check documents), for the pattern table and random
// patterns. The wasm test does the same against the browser's RegExp.
func TestSearchWrapper(t *testing.T) {
	check := func(p string, inputs []string) {
		m, err := compilePattern(p, true, goCompile)
		if err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		re := regexp.MustCompile(p)
		for _, in := range inputs {
			if m.MatchString(in) != re.MatchString(in) {
				t.Fatalf("pattern %q, input %q: wrapped %v, search %v", p, in, m.MatchString(in), re.MatchString(in))
			}
		}
	}
	tab := loadPatternTable(t)
	for _, p := range tab.Patterns {
		check(p, tab.Inputs)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		p := patterngen.Gen(r)
		check(p.Src, p.Inputs(r, 10))
	}
}
