//go:build js

package flow

// re2Check is empty in browser builds: the widget does not check flows (the
// relay did), and linking package regexp for it would cost about 100 KB of
// brotli-compressed WebAssembly. See re2.go.
func re2Check(string) string { return "" }
