package flowengine

import (
	"errors"

	"siegel/shared/flow"
)

// Matcher is a compiled pattern.
type Matcher interface {
	// MatchString reports whether the whole of s matches.
	MatchString(s string) bool
}

// Compiler compiles a pattern for a full match, as ^(?:pattern)$: the
// Matcher reports whether the whole string matches. The engine hands it the
// flow's patterns (checked by the relay: flow.CheckPattern) in the portable
// form of flow.PortablePattern, which Go's regexp and ECMAScript RegExp with
// the "u" flag read alike, with the same meaning.
// The widget uses the browser's RegExp (jsbridge.CompileRegExp), so that it
// does not link Go's regexp; tests may use Go's regexp.
type Compiler func(pattern string) (Matcher, error)

// Fatal errors of pattern use. The relay checked the flow's patterns, so
// they mean a wiring bug (no compiler) or a browser that reads a checked
// pattern otherwise.
var (
	ErrNoCompiler = errors.New("flowengine: no pattern compiler set (SetCompiler)")
	ErrBadPattern = errors.New("flowengine: pattern does not compile")
)

// patternError is ErrBadPattern with its cause.
type patternError struct{ err error }

func (e *patternError) Error() string   { return ErrBadPattern.Error() + ": " + e.err.Error() }
func (e *patternError) Unwrap() []error { return []error{ErrBadPattern, e.err} }

// anyChars matches any string, in the syntax both engines share.
const anyChars = `[\x00-` + "\U0010FFFF" + `]*`

// compilePattern compiles the flow pattern p with compile: for a full match
// (an ask step's pattern), or with search for a match anywhere in the string
// (the matches condition; ^ and $ at the pattern's ends still anchor it at
// the string's ends). A nil compile gives ErrNoCompiler.
func compilePattern(p string, search bool, compile Compiler) (Matcher, error) {
	if compile == nil {
		return nil, ErrNoCompiler
	}
	q := flow.PortablePattern(p)
	if search {
		q = anyChars + `?(?:` + q + `)` + anyChars
	}
	m, err := compile(q)
	if err != nil {
		return nil, &patternError{err}
	}
	return m, nil
}

// SetCompiler sets the compiler for the flow's patterns (ask patterns and
// matches conditions). Without one, a step that needs a pattern stops the
// engine with ErrNoCompiler.
func (e *Engine) SetCompiler(c Compiler) {
	e.compiler = c
	clear(e.re)
}

// patterns returns the engine's compiler with its cache (nil without one).
func (e *Engine) patterns() Compiler {
	if e.compiler == nil {
		return nil
	}
	return e.compile
}

// compile compiles a portable pattern once per engine.
func (e *Engine) compile(q string) (Matcher, error) {
	if m, ok := e.re[q]; ok {
		return m, nil
	}
	m, err := e.compiler(q)
	if err != nil {
		return nil, err
	}
	if e.re == nil {
		e.re = make(map[string]Matcher)
	}
	e.re[q] = m
	return m, nil
}
