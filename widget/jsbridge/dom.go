//go:build js

// Package jsbridge is the only package of the widget that touches syscall/js. It
// wraps the few browser APIs the widget and the agent page need: DOM elements
// (text is always set with textContent, never parsed as HTML), events, a binary
// WebSocket, localStorage, crypto.getRandomValues, timers, navigator.languages and
// postMessage to the embedding page.
//
// Callbacks registered here run on the browser's event loop; they must not block
// (no channel waits or sleeps inside them).
package jsbridge

import (
	"errors"
	"syscall/js"
)

// ErrJS is returned when a browser API threw an exception.
var ErrJS = errors.New("jsbridge: browser API failed")

// catch turns a panic caused by a JavaScript exception into *err = ErrJS.
func catch(err *error) {
	if r := recover(); r != nil {
		if _, ok := r.(js.Error); ok {
			*err = ErrJS
			return
		}
		panic(r)
	}
}

func document() js.Value { return js.Global().Get("document") }

// Element is a DOM element (or the zero Element when a lookup found nothing).
type Element struct{ v js.Value }

// ByID returns the element with the given id.
func ByID(id string) (Element, bool) {
	v := document().Call("getElementById", id)
	if v.IsNull() || v.IsUndefined() {
		return Element{}, false
	}
	return Element{v}, true
}

// Create makes a new element with the given tag name.
func Create(tag string) Element { return Element{document().Call("createElement", tag)} }

// Body returns document.body.
func Body() Element { return Element{document().Get("body")} }

// Root returns document.documentElement (the <html> element).
func Root() Element { return Element{document().Get("documentElement")} }

// Active returns document.activeElement.
func Active() Element { return Element{document().Get("activeElement")} }

// Option configures an element built with El.
type Option func(Element)

// El creates an element and applies the options in order.
func El(tag string, opts ...Option) Element {
	e := Create(tag)
	for _, o := range opts {
		o(e)
	}
	return e
}

// Class adds CSS classes.
func Class(names ...string) Option {
	return func(e Element) {
		for _, n := range names {
			e.AddClass(n)
		}
	}
}

// Attr sets an attribute.
func Attr(name, value string) Option { return func(e Element) { e.SetAttr(name, value) } }

// Text sets the text content (never parsed as HTML).
func Text(s string) Option { return func(e Element) { e.SetText(s) } }

// Children appends child elements.
func Children(children ...Element) Option { return func(e Element) { e.Append(children...) } }

// Valid reports whether e refers to an element.
func (e Element) Valid() bool { return e.v.Truthy() }

// Is reports whether e and o are the same element.
func (e Element) Is(o Element) bool { return e.v.Equal(o.v) }

// Attr returns the value of an attribute and whether it is present.
func (e Element) Attr(name string) (string, bool) {
	v := e.v.Call("getAttribute", name)
	if v.IsNull() {
		return "", false
	}
	return v.String(), true
}

// SetAttr sets an attribute.
func (e Element) SetAttr(name, value string) Element { e.v.Call("setAttribute", name, value); return e }

// RemoveAttr removes an attribute.
func (e Element) RemoveAttr(name string) Element { e.v.Call("removeAttribute", name); return e }

// SetText replaces the content of e with plain text (textContent).
func (e Element) SetText(s string) Element { e.v.Set("textContent", s); return e }

// Text returns textContent.
func (e Element) Text() string { return e.v.Get("textContent").String() }

// AddClass adds a CSS class.
func (e Element) AddClass(name string) Element { e.v.Get("classList").Call("add", name); return e }

// RemoveClass removes a CSS class.
func (e Element) RemoveClass(name string) Element {
	e.v.Get("classList").Call("remove", name)
	return e
}

// ToggleClass adds the class when on is true and removes it otherwise.
func (e Element) ToggleClass(name string, on bool) Element {
	e.v.Get("classList").Call("toggle", name, on)
	return e
}

// HasClass reports whether e has the CSS class.
func (e Element) HasClass(name string) bool {
	return e.v.Get("classList").Call("contains", name).Bool()
}

// Append adds children at the end.
func (e Element) Append(children ...Element) Element {
	for _, c := range children {
		e.v.Call("appendChild", c.v)
	}
	return e
}

// InsertBefore inserts (or moves) child before ref; a zero ref appends.
func (e Element) InsertBefore(child, ref Element) {
	if !ref.Valid() {
		e.v.Call("appendChild", child.v)
		return
	}
	e.v.Call("insertBefore", child.v, ref.v)
}

// Next returns the next sibling element (zero if none).
func (e Element) Next() Element {
	v := e.v.Get("nextElementSibling")
	if v.IsNull() {
		return Element{}
	}
	return Element{v}
}

// Parent returns the parent element (zero if none).
func (e Element) Parent() Element {
	v := e.v.Get("parentElement")
	if v.IsNull() {
		return Element{}
	}
	return Element{v}
}

// Remove takes e out of the document.
func (e Element) Remove() { e.v.Call("remove") }

// Clear removes all children.
func (e Element) Clear() { e.v.Call("replaceChildren") }

// Focus moves the keyboard focus to e.
func (e Element) Focus() { e.v.Call("focus") }

// ScrollToEnd scrolls a scrollable element to its bottom.
func (e Element) ScrollToEnd() { e.v.Set("scrollTop", e.v.Get("scrollHeight")) }

// ScrollIntoView scrolls the nearest scrollable ancestor so that e is visible.
func (e Element) ScrollIntoView() { e.v.Call("scrollIntoView", map[string]any{"block": "nearest"}) }

// AtEnd reports whether a scrollable element is scrolled (nearly) to its bottom.
func (e Element) AtEnd() bool {
	return e.v.Get("scrollHeight").Float()-e.v.Get("scrollTop").Float()-e.v.Get("clientHeight").Float() < 24
}

// Value returns the value of a form control.
func (e Element) Value() string { return e.v.Get("value").String() }

// SetValue sets the value of a form control.
func (e Element) SetValue(s string) Element { e.v.Set("value", s); return e }

// Prop returns a DOM property as a string ("" when undefined or null).
func (e Element) Prop(name string) string {
	v := e.v.Get(name)
	if v.IsUndefined() || v.IsNull() {
		return ""
	}
	return v.String()
}

// BoolProp returns a DOM property as a bool (its truthiness).
func (e Element) BoolProp(name string) bool { return e.v.Get(name).Truthy() }

// SetProp sets a DOM property to a string, bool, int or float64 value.
func (e Element) SetProp(name string, value any) Element { e.v.Set(name, value); return e }

// Event is a DOM event.
type Event struct{ v js.Value }

// Type returns the event type.
func (ev Event) Type() string { return ev.v.Get("type").String() }

// Key returns KeyboardEvent.key ("" for other events).
func (ev Event) Key() string { return str(ev.v.Get("key")) }

// Shift, Ctrl, Alt and Meta report the modifier keys of a keyboard or mouse event.
func (ev Event) Shift() bool { return ev.v.Get("shiftKey").Truthy() }
func (ev Event) Ctrl() bool  { return ev.v.Get("ctrlKey").Truthy() }
func (ev Event) Alt() bool   { return ev.v.Get("altKey").Truthy() }
func (ev Event) Meta() bool  { return ev.v.Get("metaKey").Truthy() }

// Composing reports whether an input method composition is in progress.
func (ev Event) Composing() bool { return ev.v.Get("isComposing").Truthy() }

// Target returns the element the event was dispatched to.
func (ev Event) Target() Element { return Element{ev.v.Get("target")} }

// PreventDefault cancels the default action.
func (ev Event) PreventDefault() { ev.v.Call("preventDefault") }

// StopPropagation stops the event from bubbling further.
func (ev Event) StopPropagation() { ev.v.Call("stopPropagation") }

func str(v js.Value) string {
	if v.Type() != js.TypeString {
		return ""
	}
	return v.String()
}

// Listener is a registered event listener; Release removes it and frees its
// callback.
type Listener struct {
	target js.Value
	typ    string
	fn     js.Func
	done   bool
}

func listen(target js.Value, typ string, fn func(Event)) *Listener {
	l := &Listener{target: target, typ: typ}
	l.fn = js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) > 0 {
			fn(Event{args[0]})
		}
		return nil
	})
	target.Call("addEventListener", typ, l.fn)
	return l
}

// On adds an event listener to e.
func (e Element) On(typ string, fn func(Event)) *Listener { return listen(e.v, typ, fn) }

// OnWindow adds an event listener to window.
func OnWindow(typ string, fn func(Event)) *Listener { return listen(js.Global(), typ, fn) }

// OnDocument adds an event listener to document.
func OnDocument(typ string, fn func(Event)) *Listener { return listen(document(), typ, fn) }

// Release removes the listener and frees its callback. Safe to call twice.
func (l *Listener) Release() {
	if l == nil || l.done {
		return
	}
	l.done = true
	l.target.Call("removeEventListener", l.typ, l.fn)
	l.fn.Release()
}
