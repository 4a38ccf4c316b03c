//go:build js

package jsbridge

import (
	"strings"
	"syscall/js"
)

// RegExp is a regular expression compiled by the browser for a full match.
type RegExp struct{ v js.Value }

// CompileRegExp compiles pattern with the browser's RegExp as
// new RegExp("^(?:" + pattern + ")$", "u"): MatchString reports whether the
// whole string matches. A pattern the browser refuses (a SyntaxError) gives
// ErrJS. The widget's flow patterns come in the portable form of
// flow.PortablePattern, which RegExp reads as Go's regexp would.
func CompileRegExp(pattern string) (re *RegExp, err error) {
	defer catch(&err)
	v := js.Global().Get("RegExp").New("^(?:"+pattern+")$", "u")
	return &RegExp{v}, nil
}

// MatchString reports whether the whole of s matches (RegExp.prototype.test;
// the expression has no "g" or "y" flag, so it keeps no state between calls).
func (re *RegExp) MatchString(s string) bool { return re.v.Call("test", jsString(s)).Bool() }

// jsString converts s to a JavaScript string, keeping a leading U+FEFF: Go
// hands strings to JavaScript through a TextDecoder, which drops a leading
// byte-order mark, so "\ufeffa" would arrive as "a".
func jsString(s string) any {
	n := 0
	for strings.HasPrefix(s[n:], "\ufeff") {
		n += len("\ufeff")
	}
	if n == 0 {
		return s
	}
	str := js.Global().Get("String")
	marks := make([]any, n/len("\ufeff"))
	for i := range marks {
		marks[i] = 0xfeff
	}
	return str.Get("prototype").Get("concat").Call("call", str.Call("fromCharCode", marks...), s[n:])
}
