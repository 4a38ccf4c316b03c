//go:build js

package jsbridge

import (
	"errors"
	"syscall/js"
	"time"
)

// ErrFetch is returned by FetchText for a failed request or a response whose
// status is not 2xx.
var ErrFetch = errors.New("jsbridge: fetch failed")

// ErrFile is returned by ReadFileText when no file is chosen, the file is too
// large or it cannot be read.
var ErrFile = errors.New("jsbridge: cannot read file")

// then waits for a promise on the event loop and calls ok with its value or
// fail when it rejects. Exactly one of them is called, once.
func then(p js.Value, ok func(js.Value), fail func()) {
	var onOK, onFail js.Func
	release := func() {
		onOK.Release()
		onFail.Release()
	}
	onOK = js.FuncOf(func(_ js.Value, args []js.Value) any {
		release()
		v := js.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		ok(v)
		return nil
	})
	onFail = js.FuncOf(func(js.Value, []js.Value) any {
		release()
		fail()
		return nil
	})
	p.Call("then", onOK, onFail)
}

// FetchText loads url with fetch() (same-origin credentials, no cache, no
// redirects) and calls done with the response text, or with ErrFetch.
func FetchText(url string, done func(text string, err error)) {
	var p js.Value
	var err error
	func() {
		defer catch(&err)
		p = js.Global().Call("fetch", url, map[string]any{
			"credentials": "same-origin",
			"cache":       "no-store",
			"redirect":    "error",
		})
	}()
	if err != nil {
		done("", ErrFetch)
		return
	}
	then(p, func(resp js.Value) {
		if resp.Type() != js.TypeObject || !resp.Get("ok").Truthy() {
			done("", ErrFetch)
			return
		}
		then(resp.Call("text"), func(t js.Value) {
			if t.Type() != js.TypeString {
				done("", ErrFetch)
				return
			}
			done(t.String(), nil)
		}, func() { done("", ErrFetch) })
	}, func() { done("", ErrFetch) })
}

// ReadFileText reads the first file chosen in an <input type="file"> as text
// (UTF-8) with the File API. Files larger than maxBytes are refused with
// ErrFile, as is an input without a file.
func ReadFileText(input Element, maxBytes int, done func(name, text string, err error)) {
	files := input.v.Get("files")
	if !files.Truthy() || files.Length() == 0 {
		done("", "", ErrFile)
		return
	}
	f := files.Index(0)
	name := str(f.Get("name"))
	if size := f.Get("size"); size.Type() != js.TypeNumber || size.Float() > float64(maxBytes) {
		done(name, "", ErrFile)
		return
	}
	then(f.Call("text"), func(t js.Value) {
		if t.Type() != js.TypeString {
			done(name, "", ErrFile)
			return
		}
		done(name, t.String(), nil)
	}, func() { done(name, "", ErrFile) })
}

// DownloadText offers text as a file download named name (a Blob of type mime
// and a temporary object URL behind a clicked <a download>).
func DownloadText(name, mime, text string) (err error) {
	defer catch(&err)
	g := js.Global()
	parts := g.Get("Array").Call("of", text)
	blob := g.Get("Blob").New(parts, map[string]any{"type": mime})
	url := g.Get("URL").Call("createObjectURL", blob)
	a := Create("a")
	a.v.Set("href", url)
	a.v.Set("download", name)
	a.v.Set("rel", "noopener")
	a.v.Get("style").Set("display", "none")
	Body().Append(a)
	a.v.Call("click")
	a.Remove()
	AfterFunc(time.Second, func() { g.Get("URL").Call("revokeObjectURL", url) })
	return nil
}

// AfterPaint calls f once the browser has painted the current state:
// requestAnimationFrame, then a zero timeout (the frame callback runs before the
// paint, the timeout after it).
func AfterPaint(f func()) {
	var fn js.Func
	fn = js.FuncOf(func(js.Value, []js.Value) any {
		fn.Release()
		AfterFunc(0, f)
		return nil
	})
	raf := js.Global().Get("requestAnimationFrame")
	if raf.Type() != js.TypeFunction {
		fn.Release()
		AfterFunc(16*time.Millisecond, f)
		return
	}
	raf.Invoke(fn)
}
