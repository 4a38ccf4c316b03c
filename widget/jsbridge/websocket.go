//go:build js

package jsbridge

import (
	"errors"
	"syscall/js"
)

// ErrNotOpen is returned by WebSocket.Send when the socket is not open.
var ErrNotOpen = errors.New("jsbridge: websocket not open")

// SocketHandlers are the callbacks of a WebSocket. Any may be nil. OnClose is called
// exactly once, after which the socket's callbacks are released.
type SocketHandlers struct {
	OnOpen    func()
	OnMessage func(b []byte) // one binary message (text messages are ignored)
	OnError   func()
	OnClose   func(code int, reason string)
}

// WebSocket is a browser WebSocket that exchanges binary messages as []byte.
type WebSocket struct {
	v     js.Value
	funcs []js.Func
}

// DialWebSocket opens a WebSocket to url (binaryType "arraybuffer"). It fails only
// when the browser rejects the URL; connection failures arrive as OnClose.
func DialWebSocket(url string, h SocketHandlers) (w *WebSocket, err error) {
	defer catch(&err)
	v := js.Global().Get("WebSocket").New(url)
	v.Set("binaryType", "arraybuffer")
	w = &WebSocket{v: v}
	on := func(name string, fn func(ev js.Value)) {
		f := js.FuncOf(func(this js.Value, args []js.Value) any {
			ev := js.Undefined()
			if len(args) > 0 {
				ev = args[0]
			}
			fn(ev)
			return nil
		})
		w.funcs = append(w.funcs, f)
		v.Set(name, f)
	}
	on("onopen", func(js.Value) {
		if h.OnOpen != nil {
			h.OnOpen()
		}
	})
	on("onmessage", func(ev js.Value) {
		data := ev.Get("data")
		if h.OnMessage == nil || data.Type() == js.TypeString {
			return
		}
		arr := js.Global().Get("Uint8Array").New(data)
		b := make([]byte, arr.Length())
		js.CopyBytesToGo(b, arr)
		h.OnMessage(b)
	})
	on("onerror", func(js.Value) {
		if h.OnError != nil {
			h.OnError()
		}
	})
	on("onclose", func(ev js.Value) {
		code, reason := 1006, ""
		if ev.Type() == js.TypeObject {
			if c := ev.Get("code"); c.Type() == js.TypeNumber {
				code = c.Int()
			}
			reason = str(ev.Get("reason"))
		}
		w.release()
		if h.OnClose != nil {
			h.OnClose(code, reason)
		}
	})
	return w, nil
}

func (w *WebSocket) release() {
	for _, name := range []string{"onopen", "onmessage", "onerror", "onclose"} {
		w.v.Set(name, js.Null())
	}
	for _, f := range w.funcs {
		f.Release()
	}
	w.funcs = nil
}

// Open reports whether the socket is open (readyState OPEN).
func (w *WebSocket) Open() bool { return w.v.Get("readyState").Int() == 1 }

// Buffered returns bufferedAmount: bytes queued but not yet sent.
func (w *WebSocket) Buffered() int { return w.v.Get("bufferedAmount").Int() }

// Send sends b as one binary message.
func (w *WebSocket) Send(b []byte) (err error) {
	defer catch(&err)
	if !w.Open() {
		return ErrNotOpen
	}
	arr := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(arr, b)
	w.v.Call("send", arr)
	return nil
}

// Close closes the socket (status 1000). OnClose follows asynchronously.
func (w *WebSocket) Close() {
	defer catch(new(error))
	w.v.Call("close", 1000)
}
