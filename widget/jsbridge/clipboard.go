//go:build js

package jsbridge

import "syscall/js"

// CopyText puts text on the clipboard and calls done with the outcome, on
// the event loop. It tries navigator.clipboard.writeText first; where that is
// missing or refused (a frame without the clipboard permission, an insecure
// origin) it selects the text of field (an <input> or <textarea> holding
// text) and runs document.execCommand("copy"). The selection stays, so that
// the user can copy by hand if both fail.
func CopyText(text string, field Element, done func(ok bool)) {
	fallback := func() {
		ok := false
		func() {
			defer catch(new(error))
			if field.Valid() {
				field.v.Call("focus")
				field.v.Call("select")
				ok = document().Call("execCommand", "copy").Truthy()
			}
		}()
		done(ok)
	}
	var p js.Value
	var err error
	func() {
		defer catch(&err)
		clip := js.Global().Get("navigator").Get("clipboard")
		if !clip.Truthy() || clip.Get("writeText").Type() != js.TypeFunction {
			err = ErrJS
			return
		}
		p = clip.Call("writeText", text)
	}()
	if err != nil || p.Type() != js.TypeObject {
		fallback()
		return
	}
	then(p, func(js.Value) { done(true) }, fallback)
}

// SelectText selects the whole text of an <input> or <textarea>.
func SelectText(field Element) {
	defer catch(new(error))
	field.v.Call("select")
}
