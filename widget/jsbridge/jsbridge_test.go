//go:build js

package jsbridge

import (
	"bytes"
	"errors"
	"syscall/js"
	"testing"
	"time"
)

// These tests run under Node (GOOS=js GOARCH=wasm go test -exec=…go_js_wasm_exec);
// browser objects that Node lacks are replaced by small shims.

func eval(t *testing.T, src string) js.Value {
	t.Helper()
	return js.Global().Call("eval", src)
}

func TestRandom(t *testing.T) {
	a, b := make([]byte, 70000), make([]byte, 70000) // more than one getRandomValues call
	if n, err := Random.Read(a); err != nil || n != len(a) {
		t.Fatalf("read: %d %v", n, err)
	}
	Random.Read(b)
	if bytes.Equal(a, b) || bytes.Equal(a[65536:], make([]byte, len(a)-65536)) {
		t.Fatal("random bytes repeat or tail not filled")
	}
}

func TestNowAndTimers(t *testing.T) {
	if d := time.Since(Now()); d < -time.Second || d > time.Second {
		t.Fatalf("Now off by %v", d)
	}
	fired := make(chan struct{}, 2)
	AfterFunc(5*time.Millisecond, func() { fired <- struct{}{} })
	stopped := AfterFunc(5*time.Millisecond, func() { fired <- struct{}{} })
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop should report true once")
	}
	select {
	case <-fired:
	case <-time.After(2 * time.Second):
		t.Fatal("timer did not fire")
	}
	select {
	case <-fired:
		t.Fatal("stopped timer fired")
	case <-time.After(50 * time.Millisecond):
	}
	var nilTimer *Timer
	if nilTimer.Stop() {
		t.Fatal("nil timer")
	}
}

func TestStorage(t *testing.T) {
	g := js.Global()
	old := g.Get("localStorage")
	defer g.Set("localStorage", old)

	// Unavailable (Node has none; a blocked frame throws on access).
	g.Set("localStorage", js.Undefined())
	if _, ok := StorageGet("k"); ok {
		t.Fatal("get without storage")
	}
	if err := StorageSet("k", "v"); !errors.Is(err, ErrNoStorage) {
		t.Fatalf("set without storage: %v", err)
	}
	StorageRemove("k")
	eval(t, `Object.defineProperty(globalThis, "localStorage", {configurable: true,
		get() { throw new Error("SecurityError") }})`)
	if _, ok := StorageGet("k"); ok {
		t.Fatal("get with throwing storage")
	}
	if err := StorageSet("k", "v"); !errors.Is(err, ErrNoStorage) {
		t.Fatalf("set with throwing storage: %v", err)
	}
	eval(t, `delete globalThis.localStorage`)

	// A working storage, and one whose quota is exceeded.
	eval(t, `globalThis.localStorage = (() => { const m = new Map(); return {
		getItem: k => m.has(k) ? m.get(k) : null,
		setItem: (k, v) => { if (v === "full") throw new Error("QuotaExceededError"); m.set(k, String(v)) },
		removeItem: k => m.delete(k) } })()`)
	if _, ok := StorageGet("k"); ok {
		t.Fatal("missing key found")
	}
	if err := StorageSet("k", "wert"); err != nil {
		t.Fatal(err)
	}
	if v, ok := StorageGet("k"); !ok || v != "wert" {
		t.Fatalf("got %q %v", v, ok)
	}
	if err := StorageSet("k", "full"); !errors.Is(err, ErrNoStorage) {
		t.Fatalf("quota: %v", err)
	}
	StorageRemove("k")
	if _, ok := StorageGet("k"); ok {
		t.Fatal("not removed")
	}
}

func TestLanguages(t *testing.T) {
	g := js.Global()
	old := g.Get("navigator")
	defer eval(t, `(v => { Object.defineProperty(globalThis, "navigator", {configurable: true, writable: true, value: v}) })`).Invoke(old)
	set := func(src string) {
		eval(t, `Object.defineProperty(globalThis, "navigator", {configurable: true, writable: true, value: `+src+`})`)
	}
	set(`{languages: ["en-US", "de"], language: "en-US"}`)
	if got := Languages(); len(got) != 2 || got[0] != "en-US" || got[1] != "de" {
		t.Fatalf("languages %q", got)
	}
	set(`{language: "de-AT"}`)
	if got := Languages(); len(got) != 1 || got[0] != "de-AT" {
		t.Fatalf("language fallback %q", got)
	}
	set(`undefined`)
	if got := Languages(); len(got) != 0 {
		t.Fatalf("no navigator %q", got)
	}
}

// shimWindow gives globalThis addEventListener/removeEventListener/dispatch and a
// parent whose postMessage calls are recorded in globalThis.posted.
func shimWindow(t *testing.T) {
	eval(t, `(() => {
		const ls = {};
		globalThis.addEventListener = (type, fn) => { (ls[type] = ls[type] || []).push(fn) };
		globalThis.removeEventListener = (type, fn) => { ls[type] = (ls[type] || []).filter(f => f !== fn) };
		globalThis.listenerCount = type => (ls[type] || []).length;
		globalThis.dispatch = ev => { for (const f of (ls[ev.type] || []).slice()) f(ev) };
		globalThis.posted = [];
		globalThis.parent = { postMessage: (msg, origin) => posted.push({msg, origin}) };
	})()`)
}

func TestParentOrigin(t *testing.T) {
	shimWindow(t)
	var got []string
	p := ListenParent(func(typ string) { got = append(got, typ) })
	send := func(data, origin string, fromParent bool) {
		src := "globalThis.parent"
		if !fromParent {
			src = "({})"
		}
		eval(t, `dispatch({type: "message", data: `+data+`, origin: "`+origin+`", source: `+src+`})`)
	}
	if p.Post("close") || p.PostCount("unread", 1) {
		t.Fatal("posted before an open message")
	}
	send(`{siegel: 1, type: "close"}`, "https://host.example", true)  // not an open
	send(`{siegel: 1, type: "open"}`, "https://evil.example", false)  // not from the parent
	send(`{siegel: 2, type: "open"}`, "https://host.example", true)   // wrong version
	send(`"open"`, "https://host.example", true)                      // not an object
	send(`{siegel: 1, type: "open"}`, "null", true)                   // opaque origin
	send(`{siegel: "1", type: "open"}`, "https://host.example", true) // not a number
	if len(got) != 0 || p.Origin() != "" {
		t.Fatalf("accepted %q origin %q", got, p.Origin())
	}
	send(`{siegel: 1, type: "open"}`, "https://host.example", true)
	if p.Origin() != "https://host.example" || len(got) != 1 || got[0] != "open" {
		t.Fatalf("open not accepted: %q %q", got, p.Origin())
	}
	send(`{siegel: 1, type: "open"}`, "https://other.example", true) // origin is pinned now
	send(`{siegel: 1, type: "close"}`, "https://host.example", true)
	if len(got) != 2 || got[1] != "close" {
		t.Fatalf("after pinning: %q", got)
	}
	if !p.Post("close") || !p.PostCount("unread", 3) {
		t.Fatal("post failed")
	}
	posted := js.Global().Get("posted")
	if posted.Length() != 2 {
		t.Fatalf("posted %d", posted.Length())
	}
	first, second := posted.Index(0), posted.Index(1)
	if first.Get("origin").String() != "https://host.example" || first.Get("msg").Get("siegel").Int() != 1 ||
		first.Get("msg").Get("type").String() != "close" || !first.Get("msg").Get("count").IsUndefined() {
		t.Fatal("close message")
	}
	if second.Get("msg").Get("type").String() != "unread" || second.Get("msg").Get("count").Int() != 3 {
		t.Fatal("unread message")
	}
	p.Release()
	if js.Global().Call("listenerCount", "message").Int() != 0 {
		t.Fatal("listener not removed")
	}
	p.Release() // twice is fine
}

func TestParentEarlyMessages(t *testing.T) {
	shimWindow(t)
	// The boot script kept two messages that came before the program started.
	eval(t, `globalThis.siegelEarly = [
		{type: "message", data: {siegel: 1, type: "close"}, origin: "https://host.example", source: globalThis.parent},
		{type: "message", data: {siegel: 1, type: "open"}, origin: "https://host.example", source: globalThis.parent},
		{type: "message", data: {siegel: 1, type: "open"}, origin: "https://evil.example", source: {}}]`)
	var got []string
	p := ListenParent(func(typ string) { got = append(got, typ) })
	defer p.Release()
	if len(got) != 1 || got[0] != "open" || p.Origin() != "https://host.example" {
		t.Fatalf("early messages: %q origin %q", got, p.Origin())
	}
	if !js.Global().Get("siegelEarly").IsNull() {
		t.Fatal("siegelEarly not cleared")
	}
	if !p.Post("close") {
		t.Fatal("cannot post after an early open")
	}
}

func TestWebSocket(t *testing.T) {
	eval(t, `globalThis.sockets = []; globalThis.WebSocket = class {
		constructor(url) { if (!url.startsWith("ws")) throw new SyntaxError("bad url");
			this.url = url; this.readyState = 0; this.sent = []; sockets.push(this) }
		send(b) { this.sent.push(Array.from(b)) }
		close(code) { this.closedWith = code; this.readyState = 3 }
	}`)
	if _, err := DialWebSocket("http://x", SocketHandlers{}); !errors.Is(err, ErrJS) {
		t.Fatalf("bad url: %v", err)
	}
	var opened, errored int
	var msgs [][]byte
	closed := -1
	ws, err := DialWebSocket("ws://relay/ws?site=x", SocketHandlers{
		OnOpen:    func() { opened++ },
		OnMessage: func(b []byte) { msgs = append(msgs, b) },
		OnError:   func() { errored++ },
		OnClose:   func(code int, reason string) { closed = code },
	})
	if err != nil {
		t.Fatal(err)
	}
	sock := js.Global().Get("sockets").Index(0)
	if sock.Get("binaryType").String() != "arraybuffer" {
		t.Fatal("binaryType")
	}
	if err := ws.Send([]byte{1}); !errors.Is(err, ErrNotOpen) {
		t.Fatalf("send before open: %v", err)
	}
	sock.Set("readyState", 1)
	sock.Call("onopen", js.Global().Get("Object").New())
	if opened != 1 || !ws.Open() {
		t.Fatal("open")
	}
	if err := ws.Send([]byte{1, 2, 255}); err != nil {
		t.Fatal(err)
	}
	if s := sock.Get("sent").Index(0); s.Length() != 3 || s.Index(2).Int() != 255 {
		t.Fatal("sent bytes")
	}
	buf := eval(t, `new Uint8Array([9, 8, 7]).buffer`)
	sock.Call("onmessage", map[string]any{"data": buf})
	sock.Call("onmessage", map[string]any{"data": "text frame"})
	if len(msgs) != 1 || !bytes.Equal(msgs[0], []byte{9, 8, 7}) {
		t.Fatalf("messages %v", msgs)
	}
	sock.Call("onerror", js.Global().Get("Object").New())
	ws.Close()
	if sock.Get("closedWith").Int() != 1000 {
		t.Fatal("close code")
	}
	sock.Call("onclose", map[string]any{"code": 1006, "reason": ""})
	if errored != 1 || closed != 1006 {
		t.Fatalf("error %d close %d", errored, closed)
	}
	if !sock.Get("onmessage").IsNull() || !sock.Get("onclose").IsNull() {
		t.Fatal("callbacks not released")
	}
}
