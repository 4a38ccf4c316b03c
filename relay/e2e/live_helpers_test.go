//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	bolt "go.etcd.io/bbolt"

	"siegel/relay/store"
	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/keyfile"
	"siegel/shared/protocol"
	"siegel/shared/roster"
)

// The tests in live_test.go, roster_test.go and reconnect_test.go check live
// chat (docs/PROTOCOL.md §6.7): several agents, takeover, typing, presence,
// messages left while nobody is online, the owner-signed roster as the widget
// checks it, and reconnects that lose nothing.

// Selectors of live chat on the agent page and in the chat frame.
const (
	selKeyFile         = `input[type="file"][data-testid="agent-keyfile"]`
	selGroupWaiting    = `[data-testid="agent-group-waiting"]`
	selGroupLive       = `[data-testid="agent-group-live"]`
	selGroupBot        = `[data-testid="agent-group-bot"]`
	selGroupClosed     = `[data-testid="agent-group-closed"]`
	selTakeover        = `[data-testid="agent-takeover"]`
	selTakenBy         = `[data-testid="agent-taken-by"]`
	selAgentClose      = `[data-testid="agent-close"]`
	selAgentTyping     = `[data-testid="agent-typing"]`
	selAgentRemoved    = `[data-testid="agent-removed"]`
	selAgentNotify     = `[data-testid="agent-notify"]`
	selPresence        = `[data-testid="siegel-presence"]`
	selLeaveMessage    = `[data-testid="siegel-leave-message"]`
	selAgentJoined     = `[data-testid="siegel-agent-joined"]`
	selClosed          = `[data-testid="siegel-closed"]`
	selTyping          = `[data-testid="siegel-typing"]`
	demoAgentName      = "Demo-Agentin" // relay/app/demo.go
	demoAgent2Name     = "Demo-Agent 2"
	demoAgent2KeyPath  = "/demo/agent2.key"
	demoAgent1KeyPath  = "/demo/agent.key"
	handoffPersonLabel = "Mit einem Menschen sprechen" // the shipped flow's menu, German
)

// demoFile is the part of `relay demo`'s demo.json the tests use: the demo
// owner's private key (so that the tests can sign rosters as the owner) and
// the demo agents.
type demoFile struct {
	Site       string `json:"site"`
	OwnerSeed  string `json:"owner_seed"`
	AgentID    string `json:"agent_id"`
	AgentSign  string `json:"agent_sign"`
	Agent2ID   string `json:"agent2_id"`
	Agent2Sign string `json:"agent2_sign"`
}

func readDemoFile(t *testing.T, dataDir string) demoFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "demo.json"))
	if err != nil {
		t.Fatalf("read demo.json: %v", err)
	}
	var d demoFile
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("parse demo.json: %v", err)
	}
	if d.Agent2ID == "" || d.AgentID == "" {
		t.Fatalf("demo.json names agents %q and %q, want two demo agents", d.AgentID, d.Agent2ID)
	}
	return d
}

// owner returns the demo owner's signing key.
func (d demoFile) owner(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	seed, err := base64.RawURLEncoding.DecodeString(d.OwnerSeed)
	if err != nil || len(seed) != ed25519.SeedSize {
		t.Fatalf("demo.json: invalid owner seed (%v)", err)
	}
	return ed25519.NewKeyFromSeed(seed)
}

// agentIdentity fetches a demo agent's key file (path: /demo/agent.key or
// /demo/agent2.key) from the relay, opens it with the printed passphrase and
// returns the key file's text and the agent's identity.
func agentIdentity(t *testing.T, r *relayProc, path string) ([]byte, keyfile.Secret, *envelope.Identity) {
	t.Helper()
	resp, err := http.Get(r.origin() + path)
	if err != nil {
		t.Fatalf("fetch %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("fetch %s: HTTP %d, %v", path, resp.StatusCode, err)
	}
	sec, err := keyfile.Open(b, r.passphrase)
	if err != nil {
		t.Fatalf("open %s with the printed passphrase: %v", path, err)
	}
	id, err := envelope.IdentityFromKeys(sec.SignSeed, sec.BoxPriv)
	if err != nil {
		t.Fatal(err)
	}
	return b, sec, id
}

// storedRoster returns the roster a stopped relay has stored (from a copy of
// its database).
func storedRoster(t *testing.T, r *relayProc) (uint64, []byte, *roster.Roster) {
	t.Helper()
	v, raw, err := relayStore(t, r).Roster(r.site)
	if err != nil {
		t.Fatalf("read the stored roster: %v", err)
	}
	ro, err := roster.Parse(raw)
	if err != nil {
		t.Fatalf("the stored roster does not parse: %v", err)
	}
	if ro.Version != v {
		t.Fatalf("the store files roster version %d under version %d", ro.Version, v)
	}
	return v, raw, ro
}

// signRoster signs a roster of the demo site with key.
func signRoster(t *testing.T, site ids.SiteID, key ed25519.PrivateKey, version uint64, notAfter time.Time, agents []roster.Agent) []byte {
	t.Helper()
	ro := &roster.Roster{Site: site, Owner: ids.Key(key.Public().(ed25519.PublicKey)), Version: version,
		NotAfter: notAfter.Unix(), Agents: append([]roster.Agent(nil), agents...)}
	b, err := ro.Encode(key)
	if err != nil {
		t.Fatalf("sign a roster: %v", err)
	}
	return b
}

// writeRoster stores raw as the site's roster in the stopped relay's
// database, with the store package (which refuses a version that is not
// higher than the stored one).
func writeRoster(t *testing.T, r *relayProc, version uint64, raw []byte) {
	t.Helper()
	if !r.hasExited() {
		t.Fatal("writeRoster: stop the relay first")
	}
	st, err := store.Open(store.Options{Path: filepath.Join(r.dataDir, "siegel.db")})
	if err != nil {
		t.Fatalf("open the relay's database: %v", err)
	}
	defer st.Close()
	if err := st.PutRoster(context.Background(), r.site, version, raw); err != nil {
		t.Fatalf("store roster version %d: %v", version, err)
	}
}

// overwriteRoster writes raw as the site's roster straight into the stopped
// relay's database file, bypassing the store's version check (a rolled-back
// database): the record is the version (8 bytes, big endian) and the roster.
func overwriteRoster(t *testing.T, r *relayProc, version uint64, raw []byte) {
	t.Helper()
	if !r.hasExited() {
		t.Fatal("overwriteRoster: stop the relay first")
	}
	db, err := bolt.Open(filepath.Join(r.dataDir, "siegel.db"), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("open the relay's database file: %v", err)
	}
	defer db.Close()
	val := make([]byte, 8, 8+len(raw))
	for i := range 8 {
		val[i] = byte(version >> (56 - 8*i))
	}
	val = append(val, raw...)
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("rosters"))
		if b == nil {
			return fmt.Errorf("no rosters bucket")
		}
		return b.Put(bytes.Clone(r.site[:]), val)
	})
	if err != nil {
		t.Fatalf("overwrite the roster: %v", err)
	}
}

// restart starts `relay demo` again on the same ports and data folder.
func (r *relayProc) restart(t *testing.T, extra ...string) *relayProc {
	t.Helper()
	return startRelayAt(t, r.dataDir, r.addr, r.demoAddr, extra...)
}

// ---- The agent page with a second key ----------------------------------------

// unlockAgentKeyFile opens the agent page, imports the key file text through
// the page's file input (as an agent choosing a backup file does), unlocks it
// with the printed passphrase and waits for the conversation list.
func unlockAgentKeyFile(t *testing.T, ctx context.Context, rec *recorder, r *relayProc, key []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agent2.key")
	if err := os.WriteFile(path, key, 0o600); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "open the agent page", chromedp.Navigate(r.agentURL))
	do(t, ctx, "choose the key file", chromedp.SetUploadFiles(chromedp.CSS(selKeyFile), []string{path}))
	unlockLoaded(t, ctx, rec, r)
}

// agentConvIn reports whether the agent page lists conv inside the group sel.
func agentConvIn(ctx context.Context, group string, conv ids.ConvID) (bool, string) {
	type st struct {
		In     bool
		Groups map[string][]string
	}
	s, err := evalJS[st](ctx, `(() => { const g = {};
		for (const n of ["waiting", "live", "bot", "closed"]) {
			const e = document.querySelector('[data-testid="agent-group-' + n + '"]');
			g[n] = e ? Array.from(e.querySelectorAll(`+jsString(selAgentConv)+`)).map(c => c.getAttribute("data-conv") || "") : null;
		}
		const e = document.querySelector(`+jsString(group)+`);
		return {Groups: g, In: !!e && Array.from(e.querySelectorAll(`+jsString(selAgentConv)+`)).some(c => c.getAttribute("data-conv") === `+jsString(conv.String())+` && c.getClientRects().length > 0)}; })()`)
	if err != nil {
		return false, err.Error()
	}
	return s.In, fmt.Sprintf("groups (conversation IDs) %v", s.Groups)
}

// waitAgentConvIn waits until the agent page lists conv in the group.
func waitAgentConvIn(t *testing.T, ctx context.Context, who, group string, conv ids.ConvID) {
	t.Helper()
	eventually(t, who+": the conversation is listed in "+group, func() (bool, string) {
		return agentConvIn(ctx, group, conv)
	})
}

// pageVisibleText returns the text of the first rendered element matching
// sel in the tab's main document, or nil.
func pageVisibleText(ctx context.Context, sel string) (*string, error) {
	return evalJS[*string](ctx, visibleTextJS(sel))
}

// waitPageText waits until an element matching sel is rendered in the tab
// and its text contains sub; it returns the text.
func waitPageText(t *testing.T, ctx context.Context, what, sel, sub string) string {
	t.Helper()
	var text string
	eventually(t, what, func() (bool, string) {
		s, err := pageVisibleText(ctx, sel)
		if err != nil {
			return false, err.Error()
		}
		if s == nil {
			return false, sel + " is not shown"
		}
		text = *s
		return strings.Contains(text, sub), fmt.Sprintf("%s shows %q", sel, text)
	})
	return text
}

// waitPageHidden waits until no element matching sel is rendered in the tab.
func waitPageHidden(t *testing.T, ctx context.Context, what, sel string) {
	t.Helper()
	eventually(t, what, func() (bool, string) {
		s, err := pageVisibleText(ctx, sel)
		if err != nil {
			return false, err.Error()
		}
		if s != nil {
			return false, fmt.Sprintf("%s still shows %q", sel, *s)
		}
		return true, ""
	})
}

// waitFrameText waits until an element matching sel is rendered in the chat
// frame and its text contains sub; it returns the text.
func (w *widget) waitText(what, sel, sub string) string {
	w.t.Helper()
	var text string
	eventually(w.t, what, func() (bool, string) {
		var s *string
		if err := w.frame.eval(visibleTextJS(sel), &s); err != nil {
			return false, err.Error()
		}
		if s == nil {
			return false, sel + " is not shown; " + w.describe()
		}
		text = *s
		return strings.Contains(text, sub), fmt.Sprintf("%s shows %q; %s", sel, text, w.describe())
	})
	return text
}

// attr returns an attribute of the first element matching sel in the frame
// (nil when there is no such element or attribute).
func (w *widget) attr(sel, name string) *string {
	w.t.Helper()
	var s *string
	if err := w.frame.eval(`(() => { const e = document.querySelector(`+jsString(sel)+`);
		return e ? e.getAttribute(`+jsString(name)+`) : null; })()`, &s); err != nil {
		w.t.Fatalf("read %s[%s]: %v", sel, name, err)
	}
	return s
}

// typeOnly types text into the chat's text box without sending it.
func (w *widget) typeOnly(text string) {
	w.t.Helper()
	do(w.t, w.ctx, "type in the chat without sending",
		chromedp.SendKeys(chromedp.CSS(selInput), text, chromedp.FromNode(w.node), chromedp.NodeVisible))
}

// ---- Frames -------------------------------------------------------------------

// sentFrames returns the decoded frames a browser sent, in order.
func sentFrames(t *testing.T, rec *recorder) []protocol.Frame {
	t.Helper()
	return decodedFrames(t, rec, true)
}

func countType[F protocol.Frame](fs []protocol.Frame) int {
	n := 0
	for _, f := range fs {
		if _, ok := f.(F); ok {
			n++
		}
	}
	return n
}

// ---- A TCP proxy that cuts connections ---------------------------------------

// cutProxy forwards TCP connections to a target and can cut all of them at
// once (both directions, without a WebSocket close).
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  map[net.Conn]bool
	cuts   int
	closed bool
}

func newCutProxy(t testing.TB, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			u.Close()
			return
		}
		p.conns[c], p.conns[u] = true, true
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			io.Copy(dst, src)
			dst.Close()
			src.Close()
			p.mu.Lock()
			delete(p.conns, dst)
			delete(p.conns, src)
			p.mu.Unlock()
		}
		go pipe(u, c)
		go pipe(c, u)
	}
}

// cut closes every open connection and returns how many pairs it cut.
func (p *cutProxy) cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.conns) / 2
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	if n > 0 {
		p.cuts++
	}
	return n
}

func (p *cutProxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.cut()
}

// ---- relay roster -------------------------------------------------------------

// relayRoster runs `relay roster` with args and returns its output; it fails
// the test when the command fails.
func relayRoster(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(relayBin, append([]string{"roster"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("relay roster %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
