//go:build js

package jsbridge

import "syscall/js"

func notification() js.Value { return js.Global().Get("Notification") }

// NotificationPermission is Notification.permission: "granted", "denied",
// "default", or "" where the browser has no Notification API.
func NotificationPermission() (p string) {
	defer func() {
		if recover() != nil {
			p = ""
		}
	}()
	n := notification()
	if n.Type() != js.TypeFunction {
		return ""
	}
	return str(n.Get("permission"))
}

// RequestNotificationPermission asks the user to allow notifications (call it
// from a user gesture) and calls done with the resulting permission on the
// event loop.
func RequestNotificationPermission(done func(permission string)) {
	var p js.Value
	var err error
	func() {
		defer catch(&err)
		n := notification()
		if n.Type() != js.TypeFunction {
			err = ErrJS
			return
		}
		p = n.Call("requestPermission")
	}()
	if err != nil || p.Type() != js.TypeObject {
		done(NotificationPermission())
		return
	}
	then(p, func(v js.Value) { done(str(v)) }, func() { done(NotificationPermission()) })
}

// Notify shows a system notification when the user allowed them; tag
// replaces an earlier one with the same tag. Clicking it focuses the page.
func Notify(title, body, tag string) {
	if NotificationPermission() != "granted" {
		return
	}
	defer catch(new(error))
	n := notification().New(title, map[string]any{"body": body, "tag": tag})
	var h js.Func
	h = js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) > 0 && str(args[0].Get("type")) == "click" {
			js.Global().Call("focus")
			n.Call("close")
			return nil
		}
		n.Set("onclick", js.Null())
		n.Set("onclose", js.Null())
		h.Release()
		return nil
	})
	n.Set("onclick", h)
	n.Set("onclose", h)
}
