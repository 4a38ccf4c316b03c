//go:build js

package jsbridge

import (
	"errors"
	"syscall/js"
)

// ErrNoStorage is returned when localStorage is unavailable (blocked, disabled or
// full).
var ErrNoStorage = errors.New("jsbridge: storage unavailable")

// localStorage returns window.localStorage. Reading it throws in browsers that
// block storage for the frame; a throwing getter read with Value.Get would end
// the program, so it is read through Reflect.get (Call turns exceptions into
// panics that catch recovers).
func localStorage() (v js.Value, err error) {
	defer catch(&err)
	g := js.Global()
	v = g.Get("Reflect").Call("get", g, "localStorage")
	if !v.Truthy() {
		return v, ErrNoStorage
	}
	return v, nil
}

// StorageGet returns the stored value for key, or false when it is missing or
// storage is unavailable.
func StorageGet(key string) (value string, ok bool) {
	ls, err := localStorage()
	if err != nil {
		return "", false
	}
	defer catch(new(error))
	v := ls.Call("getItem", key)
	if v.Type() != js.TypeString {
		return "", false
	}
	return v.String(), true
}

// StorageSet stores value under key. It returns ErrNoStorage when storage is
// unavailable or the quota is exceeded.
func StorageSet(key, value string) (err error) {
	ls, err := localStorage()
	if err != nil {
		return ErrNoStorage
	}
	defer func() {
		if err != nil {
			err = ErrNoStorage
		}
	}()
	defer catch(&err)
	ls.Call("setItem", key, value)
	return nil
}

// StorageRemove deletes key (no-op when storage is unavailable).
func StorageRemove(key string) {
	ls, err := localStorage()
	if err != nil {
		return
	}
	defer catch(new(error))
	ls.Call("removeItem", key)
}
