//go:build js

package flowengine

import (
	"math/rand/v2"
	"regexp"
	"testing"

	"siegel/shared/flow"
	"siegel/shared/flow/patterngen"
	"siegel/widget/jsbridge"
)

// jsCompile is the widget's compiler: the browser's RegExp.
func jsCompile(p string) (Matcher, error) {
	re, err := jsbridge.CompileRegExp(p)
	if err != nil {
		return nil, err
	}
	return re, nil
}

// crossCheck compares, for pattern p of the subset, Go's regexp on p (the
// meaning the relay's check documents) with the browser's RegExp on what the
// engine compiles: a full match (ask patterns) and a search (matches
// conditions). It returns how many inputs matched in full.
func crossCheck(t *testing.T, p string, inputs []string) int {
	t.Helper()
	if err := flow.CheckPattern(p); err != nil {
		t.Fatalf("%q is not in the subset: %v", p, err)
	}
	goFull := regexp.MustCompile(`^(?:` + p + `)$`)
	goSearch := regexp.MustCompile(p)
	jsFull, err := compilePattern(p, false, jsCompile)
	if err != nil {
		t.Fatalf("%q: browser: %v", p, err)
	}
	jsSearch, err := compilePattern(p, true, jsCompile)
	if err != nil {
		t.Fatalf("%q: browser search: %v", p, err)
	}
	n := 0
	for _, in := range inputs {
		if g, j := goFull.MatchString(in), jsFull.MatchString(in); g != j {
			port := flow.PortablePattern(p)
			t.Errorf("pattern %q (portable %q), input %q: Go %v, browser %v", p, port, in, g, j)
		} else if g {
			n++
		}
		if g, j := goSearch.MatchString(in), jsSearch.MatchString(in); g != j {
			t.Errorf("pattern %q, input %q: search: Go %v, browser %v", p, in, g, j)
		}
	}
	return n
}

// TestBrowserAgreesWithRE2: on the pattern table (unicode, umlauts, empty
// input, line breaks, the white space the engines read differently) every
// pattern gives the same answers in the browser as in Go's regexp.
func TestBrowserAgreesWithRE2(t *testing.T) {
	tab := loadPatternTable(t)
	matched := 0
	for _, p := range tab.Patterns {
		matched += crossCheck(t, p, tab.Inputs)
	}
	if matched < len(tab.Patterns) {
		t.Fatalf("only %d matches in the table", matched)
	}
}

// TestBrowserAgreesWithRE2Random does the same for random patterns of the
// subset, with inputs made to match them and near misses.
func TestBrowserAgreesWithRE2Random(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	matched, total := 0, 0
	for range 2000 {
		p := patterngen.Gen(r)
		ins := p.Inputs(r, 12)
		matched += crossCheck(t, p.Src, ins)
		total += len(ins)
		if t.Failed() {
			return
		}
	}
	if matched < total/5 || matched > total*4/5 {
		t.Fatalf("%d of %d inputs match", matched, total)
	}
}

// TestEngineWithBrowserRegExp runs the test flow's pattern step and matches
// condition with the browser's compiler.
func TestEngineWithBrowserRegExp(t *testing.T) {
	e := toForm(t, "de")
	e.SetCompiler(jsCompile)
	e.Input("hello")
	if o := e.Input("ab123"); o[0].Kind != OutReask {
		t.Fatalf("lower case code accepted: %+v", o)
	}
	e.Input("ZZ123")
	e.Input("3")
	outs := e.Input("2026-01-01")
	if len(outs) == 0 || outs[0].Kind != OutSay || outs[0].Step != "urgent" {
		t.Fatalf("matches ^ZZ: %+v", outs)
	}
}
