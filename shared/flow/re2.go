//go:build !js

package flow

import (
	"regexp"
	"regexp/syntax"
)

// re2Check compiles a pattern that passed PortablePattern with Go's regexp
// and returns the problem ("" if it compiles). The subset's rules already
// catch every syntax error; what remains are Go's size limits ("expression
// too large", "expression nests too deeply").
//
// The browser builds leave it out (re2_js.go) so that the widget, which
// links this package for Decode, does not link package regexp: the relay
// checks flows, the widget only runs them.
func re2Check(s string) string {
	if _, err := regexp.Compile(s); err != nil {
		if e, ok := err.(*syntax.Error); ok {
			return string(e.Code) + ": " + quote(e.Expr)
		}
		return err.Error()
	}
	return ""
}
