//go:build js

package jsbridge

import (
	"io"
	"syscall/js"
	"time"
)

// Random reads cryptographically secure random bytes from crypto.getRandomValues.
var Random io.Reader = randomReader{}

type randomReader struct{}

func (randomReader) Read(p []byte) (n int, err error) {
	defer catch(&err)
	crypto := js.Global().Get("crypto")
	for n < len(p) {
		k := min(len(p)-n, 65536) // the API's limit per call
		arr := js.Global().Get("Uint8Array").New(k)
		crypto.Call("getRandomValues", arr)
		js.CopyBytesToGo(p[n:n+k], arr)
		n += k
	}
	return n, nil
}

// Languages returns navigator.languages (or navigator.language), most preferred
// first; empty when unknown.
func Languages() []string {
	nav := js.Global().Get("navigator")
	if !nav.Truthy() {
		return nil
	}
	var out []string
	if ls := nav.Get("languages"); ls.Truthy() && ls.Type() == js.TypeObject {
		for i := 0; i < ls.Length(); i++ {
			if s := str(ls.Index(i)); s != "" {
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		if s := str(nav.Get("language")); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// NowMillis returns Date.now(): Unix time in milliseconds.
func NowMillis() int64 { return int64(js.Global().Get("Date").Call("now").Float()) }

// Now returns Date.now() as a time.Time.
func Now() time.Time { return time.UnixMilli(NowMillis()) }

// Timer is a pending setTimeout callback.
type Timer struct {
	id   js.Value
	fn   js.Func
	done bool
}

// AfterFunc calls f once after d (setTimeout) on the event loop.
func AfterFunc(d time.Duration, f func()) *Timer {
	t := &Timer{}
	t.fn = js.FuncOf(func(js.Value, []js.Value) any {
		if !t.done {
			t.done = true
			t.fn.Release()
			f()
		}
		return nil
	})
	t.id = js.Global().Call("setTimeout", t.fn, d.Milliseconds())
	return t
}

// Stop cancels the timer (clearTimeout). It reports whether f was still pending.
func (t *Timer) Stop() bool {
	if t == nil || t.done {
		return false
	}
	t.done = true
	js.Global().Call("clearTimeout", t.id)
	t.fn.Release()
	return true
}
