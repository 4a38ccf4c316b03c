//go:build js

package jsbridge

import "syscall/js"

// Parent is the postMessage channel to the page that embeds this frame. Messages
// are objects {siegel: 1, type: "...", ...}. The parent's origin is learnt from the
// first valid {siegel: 1, type: "open"} message sent by window.parent; until then
// nothing is posted, and afterwards only messages from that origin are accepted
// and messages are posted only to it.
//
// Messages that arrive before the WebAssembly has started (the embedding page
// posts "open" as soon as the frame has loaded) are lost unless the boot script
// keeps them: when window.siegelEarly is an array of MessageEvents, ListenParent
// handles them first, in order, and sets window.siegelEarly to null (the boot
// script stops collecting when it is no longer its array).
type Parent struct {
	origin string
	l      *Listener
}

// ListenParent starts listening; onMessage gets the type of each accepted message
// (the first one is always "open").
func ListenParent(onMessage func(typ string)) *Parent {
	p := &Parent{}
	win := js.Global()
	parent := win.Get("parent")
	handle := func(ev Event) {
		if !parent.Truthy() || parent.Equal(win) || !ev.v.Get("source").Equal(parent) {
			return
		}
		data := ev.v.Get("data")
		if data.Type() != js.TypeObject || data.IsNull() {
			return
		}
		if v := data.Get("siegel"); v.Type() != js.TypeNumber || v.Float() != 1 {
			return
		}
		typ, origin := str(data.Get("type")), str(ev.v.Get("origin"))
		if typ == "" || origin == "" || origin == "null" {
			return
		}
		if p.origin == "" {
			if typ != "open" {
				return
			}
			p.origin = origin
		} else if origin != p.origin {
			return
		}
		onMessage(typ)
	}
	p.l = OnWindow("message", handle)
	if early := win.Get("siegelEarly"); early.Type() == js.TypeObject && !early.IsNull() {
		win.Set("siegelEarly", js.Null())
		for i, n := 0, early.Length(); i < n; i++ {
			if ev := early.Index(i); ev.Type() == js.TypeObject {
				handle(Event{ev})
			}
		}
	}
	return p
}

// Origin returns the learnt parent origin ("" before the first open message).
func (p *Parent) Origin() string { return p.origin }

// Post sends {siegel: 1, type: typ} to the parent; false when the origin is not
// known yet.
func (p *Parent) Post(typ string) bool { return p.post(typ, -1) }

// PostCount sends {siegel: 1, type: typ, count: n} to the parent.
func (p *Parent) PostCount(typ string, n int) bool { return p.post(typ, n) }

func (p *Parent) post(typ string, n int) (ok bool) {
	if p.origin == "" {
		return false
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	msg := js.Global().Get("Object").New()
	msg.Set("siegel", 1)
	msg.Set("type", typ)
	if n >= 0 {
		msg.Set("count", n)
	}
	js.Global().Get("parent").Call("postMessage", msg, p.origin)
	return true
}

// Release stops listening.
func (p *Parent) Release() { p.l.Release() }
