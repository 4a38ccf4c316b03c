//go:build js

package jsbridge

import "syscall/js"

// First returns the first child element (zero if none).
func (e Element) First() Element {
	v := e.v.Get("firstElementChild")
	if v.IsNull() || v.IsUndefined() {
		return Element{}
	}
	return Element{v}
}

// Find returns the first descendant matching a CSS selector (zero if none or
// if the selector is invalid).
func (e Element) Find(selector string) (found Element) {
	defer catch(new(error))
	v := e.v.Call("querySelector", selector)
	if v.IsNull() || v.IsUndefined() {
		return Element{}
	}
	return Element{v}
}

// Contains reports whether o is e or one of its descendants.
func (e Element) Contains(o Element) bool {
	if !e.Valid() || !o.Valid() {
		return false
	}
	return e.v.Call("contains", o.v).Truthy()
}

// ZoneOffset returns the browser's offset from UTC in seconds at a point in
// time (Unix milliseconds): -60 × Date.getTimezoneOffset().
func ZoneOffset(ms int64) (off int) {
	defer catch(new(error))
	d := js.Global().Get("Date").New(float64(ms))
	return -60 * d.Call("getTimezoneOffset").Int()
}
