//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium is Debian's Chromium; the browser tests need it and never skip.
const chromium = "/usr/bin/chromium"

// newBrowser starts a headless Chromium with a fresh profile and returns the
// context of its first tab (which the tests do not use otherwise; each user
// gets a browser context of its own with newUser).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return newBrowserWith(t)
}

// newGermanBrowser is newBrowser for a browser whose preferred languages are
// German (navigator.languages ["de-DE", "de"]), whatever the machine's locale.
func newGermanBrowser(t *testing.T) context.Context {
	t.Helper()
	return newBrowserWith(t, chromedp.Flag("accept-lang", "de-DE,de"))
}

// newBrowserWith is newBrowser with extra command line options.
func newBrowserWith(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	if fi, err := os.Stat(chromium); err != nil || fi.IsDir() {
		t.Fatalf("%s is missing (install the Debian package chromium): %v", chromium, err)
	}
	log := &lockedBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(log),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		if t.Failed() {
			// Without a system bus Chromium logs many harmless D-Bus errors.
			var keep []string
			for _, l := range strings.Split(string(log.Bytes()), "\n") {
				if l != "" && !strings.Contains(l, "dbus") {
					keep = append(keep, l)
				}
			}
			if len(keep) > 0 {
				t.Logf("chromium output:\n%s", tail([]byte(strings.Join(keep, "\n")), 8<<10))
			}
		}
	})
	// The first run starts the browser; its context must have no timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	return ctx
}

// newUser opens a tab in a new browser context (own cookies, storage and
// cache) of the browser, with a recorder of its network traffic attached
// before the tab loads anything.
func newUser(t *testing.T, browser context.Context, name string) (context.Context, *recorder) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	rec := &recorder{name: name}
	if err := chromedp.Do(ctx); err != nil { // opens the tab (about:blank)
		t.Fatalf("%s: open tab: %v", name, err)
	}
	if err := chromedp.Listen(ctx, rec.event); err != nil {
		t.Fatalf("%s: listen: %v", name, err)
	}
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			rec.addConsole(m.String())
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			rec.logSummary(t)
		}
	})
	return ctx, rec
}

// wsFrame is one WebSocket message the browser sent or received.
type wsFrame struct {
	sent    bool
	opcode  float64
	payload []byte
}

// recorder keeps the network traffic of one tab: every request, every
// WebSocket and every WebSocket frame in both directions.
type recorder struct {
	name     string
	mu       sync.Mutex
	requests []string // URLs, in order
	sockets  []string // WebSocket URLs, in order
	frames   []wsFrame
	console  []string
}

// event runs in the tab's event loop: it must be quick and send no command.
func (r *recorder) event(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		r.requests = append(r.requests, e.Request.URL)
	case *network.EventWebSocketCreated:
		r.sockets = append(r.sockets, e.URL)
	case *network.EventWebSocketFrameSent:
		r.frames = append(r.frames, wsFrame{sent: true, opcode: e.Response.Opcode, payload: e.Response.PayloadData})
	case *network.EventWebSocketFrameReceived:
		r.frames = append(r.frames, wsFrame{sent: false, opcode: e.Response.Opcode, payload: e.Response.PayloadData})
	}
}

func (r *recorder) addConsole(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.console = append(r.console, s)
}

func (r *recorder) snapshot() (requests, sockets []string, frames []wsFrame) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.requests...), append([]string(nil), r.sockets...), append([]wsFrame(nil), r.frames...)
}

func (r *recorder) logSummary(t *testing.T) {
	requests, sockets, frames := r.snapshot()
	r.mu.Lock()
	console := append([]string(nil), r.console...)
	r.mu.Unlock()
	sent := 0
	for _, f := range frames {
		if f.sent {
			sent++
		}
	}
	t.Logf("%s: requests %q; websockets %q; frames sent %d, received %d", r.name, requests, sockets, sent, len(frames)-sent)
	for _, c := range console {
		t.Logf("%s console: %s", r.name, c)
	}
}

// do runs actions with the common timeout and fails the test on an error.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// run runs one action with the common timeout and returns its value.
func run[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	v, err := chromedp.Run(tctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// eventually polls check until it reports done, for at most wait; on timeout
// it fails the test with the last state check described.
func eventually(t *testing.T, what string, check func() (done bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		done, state := check()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v; last state: %s", what, wait, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// evalJS evaluates a JavaScript expression in the tab's main frame and
// decodes its JSON value into T (awaiting a promise).
func evalJS[T any](ctx context.Context, expr string) (T, error) {
	tctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	return chromedp.Run(tctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// frameEval evaluates JavaScript in a child frame of a tab, in an isolated
// world of that frame (it sees the frame's DOM, not its scripts' variables).
type frameEval struct {
	ctx     context.Context
	prefix  string // URL prefix of the frame
	frame   cdp.FrameID
	context runtime.ExecutionContextID
}

// findFrame returns the ID of the first frame whose URL starts with prefix.
func findFrame(ctx context.Context, prefix string) (cdp.FrameID, error) {
	res, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		return "", err
	}
	var walk func(*page.FrameTree) cdp.FrameID
	walk = func(ft *page.FrameTree) cdp.FrameID {
		if ft == nil {
			return ""
		}
		if ft.Frame != nil && strings.HasPrefix(ft.Frame.URL, prefix) {
			return ft.Frame.ID
		}
		for _, c := range ft.ChildFrames {
			if id := walk(c); id != "" {
				return id
			}
		}
		return ""
	}
	if id := walk(res.FrameTree); id != "" {
		return id, nil
	}
	return "", fmt.Errorf("no frame with a URL starting with %s", prefix)
}

// eval evaluates expr in the frame and decodes its JSON value into out.
func (f *frameEval) eval(expr string, out any) error {
	tctx, cancel := context.WithTimeout(f.ctx, wait)
	defer cancel()
	for attempt := 0; attempt < 2; attempt++ {
		if f.context == 0 {
			id, err := findFrame(tctx, f.prefix)
			if err != nil {
				return err
			}
			w, err := chromedp.Call(tctx, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: id, WorldName: "e2e"})
			if err != nil {
				return fmt.Errorf("isolated world in frame %s: %w", f.prefix, err)
			}
			f.frame, f.context = id, w.ExecutionContextID
		}
		res, err := chromedp.Call(tctx, runtime.Evaluate, runtime.EvaluateParams{
			Expression: expr, ContextID: f.context, ReturnByValue: new(true), AwaitPromise: new(true),
		})
		if err != nil {
			// The frame navigated or was replaced: find it again once.
			f.context = 0
			continue
		}
		if res.ExceptionDetails != nil {
			return fmt.Errorf("evaluate in frame: %s", res.ExceptionDetails.Text)
		}
		if res.Result == nil || len(res.Result.Value) == 0 {
			return fmt.Errorf("evaluate in frame: no value (%s)", expr)
		}
		return json.Unmarshal([]byte(res.Result.Value), out)
	}
	return fmt.Errorf("evaluate in frame %s: the frame keeps changing", f.prefix)
}

// message is one chat message as shown to a user.
type message struct {
	From   string `json:"from"`
	State  string `json:"state"`
	Text   string `json:"text"`
	Markup int    `json:"markup"` // elements that only markup typed as text would make
	Body   string `json:"body"`   // the text of the message's paragraph (without name and state)
}

func (m message) String() string {
	return fmt.Sprintf("{%s %s %q}", m.From, m.State, m.Text)
}

// messagesJS lists the elements of a message list (selected by the CSS
// selector sel) with their data-from, data-state, text and the number of
// b, i, img and script elements in them (which the tests' messages contain
// only as typed text).
func messagesJS(sel string) string {
	return `Array.from(document.querySelectorAll(` + jsString(sel) + `)).map(e => ({
		from: e.getAttribute("data-from") || "",
		state: e.getAttribute("data-state") || "",
		text: e.textContent || "",
		body: (e.querySelector("p") || e).textContent || "",
		markup: e.querySelectorAll("b, i, img, script").length}))`
}

// visibleTextJS returns the trimmed text of the first element matching sel
// when it is rendered (has a layout box), else null.
func visibleTextJS(sel string) string {
	return `(() => { const e = document.querySelector(` + jsString(sel) + `);
		return e && e.getClientRects().length > 0 ? (e.textContent || "").trim() : null; })()`
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// findMessage returns the first message from `from` whose text contains sub.
func findMessage(msgs []message, from, sub string) (message, bool) {
	for _, m := range msgs {
		if m.From == from && strings.Contains(m.Text, sub) {
			return m, true
		}
	}
	return message{}, false
}

func tail(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	return append([]byte("…"), b[len(b)-n:]...)
}
