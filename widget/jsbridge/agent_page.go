//go:build js

package jsbridge

import "syscall/js"

// DocumentHidden reports document.hidden (the page is in a background tab or
// minimised).
func DocumentHidden() bool { return document().Get("hidden").Truthy() }

// SetTitle sets document.title.
func SetTitle(s string) { document().Set("title", s) }

// SetLang sets the lang attribute of the <html> element.
func SetLang(tag string) { Root().SetAttr("lang", tag) }

// Confirm shows the browser's confirmation dialog (window.confirm) and
// reports whether the user agreed.
func Confirm(msg string) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return js.Global().Call("confirm", msg).Truthy()
}

// Displayed reports whether e takes part in the layout (it and its ancestors
// are not display: none).
func (e Element) Displayed() bool {
	return e.v.Call("getClientRects").Length() > 0
}
