//go:build e2e

package e2e

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/widget/session"
)

// wsTransport is a session.Transport over a native WebSocket.
type wsTransport struct {
	ctx context.Context
	ws  *websocket.Conn
}

func (w *wsTransport) Send(b []byte) error {
	ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
	defer cancel()
	return w.ws.Write(ctx, websocket.MessageBinary, b)
}

func (w *wsTransport) Close() { w.ws.CloseNow() }

// liveClient runs the widget's protocol state machine (widget/session) over
// native WebSockets, reconnecting with a short backoff whenever the
// connection ends, as the widget and the agent page do.
type liveClient struct {
	t       *testing.T
	name    string
	url     string // ws URL (through the proxy)
	origin  string
	s       *session.Session
	onReady func() // after every Welcome (the agent fetches again)
	// byPos: texts reports the messages by position, as the agent page places
	// them (widget/agent Inbox), rather than in the order they arrived. An
	// agent gets pushes for every conversation from its Welcome on, while the
	// positions it missed come with the replay of its Fetch, which the relay
	// handles after the frames sent before it: a message pushed in between
	// arrives before older ones (docs/PROTOCOL.md §6.1, steps 4 and 5). A
	// visitor's pushes are held back during its replay, so its arrival order
	// is checked as it is.
	byPos bool

	mu       sync.Mutex
	got      []session.MessageEvent // messages from the other side, as shown
	connects int
	readies  int
	problems []string
}

func (c *liveClient) run(ctx context.Context) {
	for ctx.Err() == nil && !c.s.Stopped() {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ws, _, err := websocket.Dial(dctx, c.url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {c.origin}}})
		cancel()
		if err != nil {
			time.Sleep(30 * time.Millisecond)
			continue
		}
		ws.SetReadLimit(protocol.MaxFrameSize + 1024)
		c.mu.Lock()
		c.connects++
		c.mu.Unlock()
		tr := &wsTransport{ctx: ctx, ws: ws}
		c.handle(c.s.Connect(tr))
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				break
			}
			c.handle(c.s.Receive(tr, b))
		}
		c.handle(c.s.Disconnected(tr))
		ws.CloseNow()
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *liveClient) handle(evs []session.Event) {
	for _, ev := range evs {
		switch e := ev.(type) {
		case session.MessageEvent:
			if e.Own || e.Pending {
				continue
			}
			c.mu.Lock()
			c.got = append(c.got, e)
			c.mu.Unlock()
		case session.StatusEvent:
			if e.Status == session.StatusReady {
				c.mu.Lock()
				c.readies++
				c.mu.Unlock()
				if c.onReady != nil {
					c.onReady()
				}
			}
			if e.Status == session.StatusStopped {
				c.problem("the session stopped")
			}
		case session.RosterErrorEvent:
			c.problem(fmt.Sprintf("roster refused: %v", e.Err))
		case session.SendFailedEvent:
			c.problem(fmt.Sprintf("send of seq %d failed for good: code %d", e.Seq, e.Code))
		case session.RejectedEvent:
			c.problem(fmt.Sprintf("envelope at %d rejected: %v", e.Pos, e.Err))
		case session.ErrorEvent:
			if e.Fatal {
				c.problem(fmt.Sprintf("fatal error: code %d %q %v", e.Code, e.Reason, e.Err))
			}
		}
	}
}

func (c *liveClient) problem(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.problems = append(c.problems, s)
}

// texts returns the texts shown so far, in order (by position with byPos).
func (c *liveClient) texts() []string {
	c.mu.Lock()
	got := slices.Clone(c.got)
	c.mu.Unlock()
	if c.byPos {
		slices.SortStableFunc(got, func(a, b session.MessageEvent) int { return cmp.Compare(a.Pos, b.Pos) })
	}
	out := make([]string, len(got))
	for i, m := range got {
		out[i] = m.Text
	}
	return out
}

func (c *liveClient) counts() (connects, readies int, problems []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connects, c.readies, slices.Clone(c.problems)
}

// checkExactlyOnce: got is exactly want (every text once, in order); it
// describes the first difference.
func checkExactlyOnce(got, want []string) string {
	seen := map[string]int{}
	for _, g := range got {
		seen[g]++
	}
	for _, w := range want {
		if seen[w] != 1 {
			return fmt.Sprintf("%q shown %d times", w, seen[w])
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("%d messages shown, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			return fmt.Sprintf("message %d is %q, want %q (out of order)", i, got[i], want[i])
		}
	}
	return ""
}

// TestReconnectBursts: a visitor and an agent, both running the widget's
// protocol client (widget/session) over native WebSockets through TCP
// proxies, write bursts of messages to each other while the proxies cut
// their connections several times in the middle of the bursts (without a
// WebSocket close). Both reconnect and resume from the last acknowledged
// sequence: every message arrives exactly once and in order on both sides,
// and the relay stores each exactly once, in order.
func TestReconnectBursts(t *testing.T) {
	const (
		burst = 40
		pace  = 15 * time.Millisecond
	)
	r := startRelay(t, t.TempDir())
	_, _, agentID := agentIdentity(t, r, demoAgent1KeyPath)
	vid, err := envelope.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	vproxy, aproxy := newCutProxy(t, r.addr), newCutProxy(t, r.addr)
	wsPath := "/ws?site=" + r.site.String()

	vs, err := session.New(session.Config{Role: protocol.RoleVisitor, Site: r.site, Owner: r.ownerFP, Identity: vid, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	as, err := session.New(session.Config{Role: protocol.RoleAgent, Site: r.site, Owner: r.ownerFP, Identity: agentID, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	conv := ids.ConversationID(r.site, vid.SignKey())
	vc := &liveClient{t: t, name: "visitor", url: "ws://" + vproxy.addr() + wsPath, origin: r.demoOrigin(), s: vs}
	ac := &liveClient{t: t, name: "agent", url: "ws://" + aproxy.addr() + wsPath, origin: r.demoOrigin(), s: as, byPos: true}
	ac.onReady = func() {
		if err := as.Fetch(conv); err != nil {
			ac.problem(fmt.Sprintf("fetch after a Welcome: %v", err))
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { vc.run(ctx) })
	wg.Go(func() { ac.run(ctx) })
	t.Cleanup(func() {
		cancel()
		vproxy.close()
		aproxy.close()
		wg.Wait()
	})

	// The visitor writes first, so that the agent learns its box key.
	if _, err := vs.Send("v-000"); err != nil {
		t.Fatalf("visitor send: %v", err)
	}
	eventually(t, "the agent sees the visitor's first message", func() (bool, string) {
		return slices.Contains(ac.texts(), "v-000"), fmt.Sprintf("the agent shows %q", ac.texts())
	})
	if err := as.Fetch(conv); err != nil {
		t.Fatalf("agent fetch: %v", err)
	}
	eventually(t, "the agent can reply", func() (bool, string) {
		return as.Synced(conv), "conversation not synced"
	})

	// Both write a burst; the proxies cut in the middle of it.
	var wantV, wantA []string // texts the agent, and the visitor, must see
	wantV = append(wantV, "v-000")
	for i := 1; i <= burst; i++ {
		wantV = append(wantV, fmt.Sprintf("v-%03d", i))
		wantA = append(wantA, fmt.Sprintf("a-%03d", i))
	}
	cutAt := map[int][]*cutProxy{8: {vproxy}, 15: {aproxy}, 22: {vproxy, aproxy}, 30: {aproxy}, 34: {vproxy}}
	inFlight := 0 // cuts with unacknowledged visitor messages
	var sendErrs []string
	for i := 1; i <= burst; i++ {
		if _, err := vs.Send(wantV[i]); err != nil {
			sendErrs = append(sendErrs, fmt.Sprintf("visitor %d: %v", i, err))
		}
		if _, err := as.Reply(conv, wantA[i-1]); err != nil {
			sendErrs = append(sendErrs, fmt.Sprintf("agent %d: %v", i, err))
		}
		for _, p := range cutAt[i] {
			if len(vs.State().Outbox) > 0 && p == vproxy {
				inFlight++
			}
			if n := p.cut(); n == 0 {
				t.Logf("cut at message %d: no connection open at that moment", i)
			}
		}
		time.Sleep(pace)
	}
	if len(sendErrs) > 0 {
		t.Fatalf("the sessions refused to queue messages: %q", sendErrs)
	}

	eventually(t, "every message arrives on both sides", func() (bool, string) {
		gv, ga := ac.texts(), vc.texts()
		return len(gv) >= len(wantV) && len(ga) >= len(wantA) && len(vs.State().Outbox) == 0,
			fmt.Sprintf("the agent shows %d of %d, the visitor %d of %d; the visitor's outbox holds %d",
				len(gv), len(wantV), len(ga), len(wantA), len(vs.State().Outbox))
	})
	time.Sleep(500 * time.Millisecond) // a duplicate would come now
	if d := checkExactlyOnce(ac.texts(), wantV); d != "" {
		t.Errorf("the agent: %s; shown %q", d, ac.texts())
	}
	if d := checkExactlyOnce(vc.texts(), wantA); d != "" {
		t.Errorf("the visitor: %s; shown %q", d, vc.texts())
	}
	for _, c := range []*liveClient{vc, ac} {
		connects, readies, problems := c.counts()
		t.Logf("%s: %d connections, %d Welcomes", c.name, connects, readies)
		if readies < 3 {
			t.Errorf("%s: %d Welcomes, want at least 3 (the cuts must force reconnects)", c.name, readies)
		}
		for _, p := range problems {
			t.Errorf("%s: %s", c.name, p)
		}
	}
	t.Logf("cuts: visitor side %d, agent side %d; %d visitor-side cuts with unacknowledged messages", vproxy.cuts, aproxy.cuts, inFlight)
	if vproxy.cuts < 3 || aproxy.cuts < 3 {
		t.Errorf("only %d visitor-side and %d agent-side cuts hit an open connection, want at least 3 each", vproxy.cuts, aproxy.cuts)
	}
	if inFlight == 0 {
		t.Errorf("no cut happened while visitor messages were unacknowledged: the test did not cut mid-burst")
	}

	// The relay stores every message once, in order, at consecutive positions.
	cancel()
	c := connect(t, r)
	v := &visitor{id: vid, site: r.site, conv: conv}
	v.join(c, r, 0)
	var stored []string
	var lastPos uint64
	for _, d := range c.replay(conv) {
		if d.Pos != lastPos+1 {
			t.Errorf("stored positions jump from %d to %d", lastPos, d.Pos)
		}
		lastPos = d.Pos
		o, err := envelope.Open(d.Envelope, vid, r.site, conv)
		if err != nil {
			t.Fatalf("open the stored envelope at %d: %v", d.Pos, err)
		}
		stored = append(stored, string(o.Content))
	}
	var sv, sa []string
	for _, s := range stored {
		if strings.HasPrefix(s, "v-") {
			sv = append(sv, s)
		} else if strings.HasPrefix(s, "a-") {
			sa = append(sa, s)
		}
	}
	if d := checkExactlyOnce(sv, wantV); d != "" {
		t.Errorf("stored visitor messages: %s", d)
	}
	if d := checkExactlyOnce(sa, wantA); d != "" {
		t.Errorf("stored agent messages: %s", d)
	}
}
