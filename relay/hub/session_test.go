package hub

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"siegel/relay/store"
	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/shared/roster"
)

// fakeConn is an in-memory Conn: the test writes client frames into in and
// reads the relay's frames from out.
type fakeConn struct {
	in     chan []byte
	out    chan []byte
	closed chan int
}

func newFakeConn() *fakeConn {
	return &fakeConn{in: make(chan []byte, 64), out: make(chan []byte, 4096), closed: make(chan int, 1)}
}

func (c *fakeConn) Read(ctx context.Context) ([]byte, error) {
	select {
	case b, ok := <-c.in:
		if !ok {
			return nil, io.EOF
		}
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *fakeConn) Write(ctx context.Context, b []byte) error {
	select {
	case c.out <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *fakeConn) Close(code int, reason string) {
	select {
	case c.closed <- code:
	default:
	}
}

type fixture struct {
	t     *testing.T
	srv   *Server
	st    *store.Store
	site  ids.SiteID
	agent *envelope.Identity
	owner ed25519.PrivateKey
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "t.db"), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var site ids.SiteID
	rand.Read(site[:])
	ownerPub, ownerPriv, _ := ed25519.GenerateKey(rand.Reader)
	agent, _ := envelope.NewIdentity(rand.Reader)
	ctx := context.Background()
	if err := st.PutSite(ctx, store.Site{ID: site, Name: "t", Origins: []string{"http://127.0.0.1:1"}, Owner: ids.Key(ownerPub)}); err != nil {
		t.Fatal(err)
	}
	r := &roster.Roster{Site: site, Owner: ids.Key(ownerPub), Version: 1, NotAfter: time.Now().Add(time.Hour).Unix(),
		Agents: []roster.Agent{{ID: ids.AgentID{1}, Name: "Ada", Sign: agent.SignKey(), Box: agent.BoxKey()}}}
	raw, err := r.Encode(ownerPriv)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutRoster(ctx, site, 1, raw); err != nil {
		t.Fatal(err)
	}
	srv := &Server{Hub: New(), Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return &fixture{t: t, srv: srv, st: st, site: site, agent: agent, owner: ownerPriv}
}

// client is a connected test client.
type testClient struct {
	t     *testing.T
	c     *fakeConn
	id    *envelope.Identity
	nonce [32]byte
	done  chan struct{}
	req   uint32
	// presence: next returns Presence frames too (otherwise it skips them,
	// so that tests of other frames need not know when they come).
	presence bool
}

func (f *fixture) connect() *testClient {
	f.t.Helper()
	c := newFakeConn()
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(done)
		f.srv.Serve(ctx, c, f.site)
	}()
	f.t.Cleanup(func() {
		cancel()
		<-done
	})
	tc := &testClient{t: f.t, c: c, done: done}
	ch, ok := tc.next().(*protocol.Challenge)
	if !ok {
		f.t.Fatal("first frame is not a challenge")
	}
	tc.nonce = ch.Nonce
	return tc
}

func (tc *testClient) send(f protocol.Frame) uint32 {
	tc.req++
	tc.c.in <- protocol.Encode(tc.req, f)
	return tc.req
}

func (tc *testClient) next() protocol.Frame {
	tc.t.Helper()
	_, f := tc.nextID()
	return f
}

// nextID returns the next frame with its request ID (skipping Presence
// frames unless tc.presence is set).
func (tc *testClient) nextID() (uint32, protocol.Frame) {
	tc.t.Helper()
	for {
		select {
		case b := <-tc.c.out:
			id, f, err := protocol.Decode(b)
			if err != nil {
				tc.t.Fatalf("relay sent an undecodable frame: %v", err)
			}
			if _, ok := f.(*protocol.Presence); ok && !tc.presence {
				continue
			}
			return id, f
		case <-time.After(5 * time.Second):
			tc.t.Fatal("timed out waiting for a frame")
			return 0, nil
		}
	}
}

func (tc *testClient) expectNone() {
	tc.t.Helper()
	for {
		select {
		case b := <-tc.c.out:
			_, f, _ := protocol.Decode(b)
			if _, ok := f.(*protocol.Presence); ok && !tc.presence {
				continue
			}
			tc.t.Fatalf("unexpected frame %T %+v", f, f)
		case <-time.After(100 * time.Millisecond):
		}
		return
	}
}

func (tc *testClient) hello(role protocol.Role, id *envelope.Identity, site ids.SiteID, since uint64) {
	tc.id = id
	h := &protocol.Hello{Role: role, Site: site, SignKey: id.SignKey(), BoxKey: id.BoxKey(), Since: since}
	protocol.SignHello(tc.nonce, h, id.Sign)
	tc.send(h)
}

func expectError(t *testing.T, f protocol.Frame, code protocol.ErrorCode) {
	t.Helper()
	e, ok := f.(*protocol.Error)
	if !ok {
		t.Fatalf("got %T %+v, want error %v", f, f, code)
	}
	if e.Code != code {
		t.Fatalf("got error %v (%s), want %v", e.Code, e.Reason, code)
	}
}

func (f *fixture) seal(from *envelope.Identity, conv ids.ConvID, seq uint64, text string, to ...ids.Key) []byte {
	f.t.Helper()
	b, err := envelope.Seal(rand.Reader, from, to, envelope.Message{Site: f.site, Conv: conv, Seq: seq, Type: envelope.ContentText, Time: 1, Content: []byte(text)})
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// welcomeVisitor connects a new visitor and returns it with its conversation.
func (f *fixture) welcomeVisitor(id *envelope.Identity, since uint64) (*testClient, *protocol.Welcome) {
	f.t.Helper()
	v := f.connect()
	v.hello(protocol.RoleVisitor, id, f.site, since)
	w, ok := v.next().(*protocol.Welcome)
	if !ok {
		f.t.Fatal("no welcome")
	}
	return v, w
}

func TestVisitorToAgentAndBack(t *testing.T) {
	f := newFixture(t)
	a := f.connect()
	a.hello(protocol.RoleAgent, f.agent, f.site, 0)
	if _, ok := a.next().(*protocol.Welcome); !ok {
		t.Fatal("agent got no welcome")
	}
	vid, _ := envelope.NewIdentity(rand.Reader)
	v, w := f.welcomeVisitor(vid, 0)
	if w.Conv != ids.ConversationID(f.site, vid.SignKey()) || len(w.Roster) == 0 || w.AckedSeq != 0 {
		t.Fatalf("bad welcome %+v", w)
	}
	if fd, ok := v.next().(*protocol.Fetched); !ok || fd.LastPos != 0 {
		t.Fatalf("want empty Fetched, got %+v", fd)
	}
	env := f.seal(vid, w.Conv, 1, "hi", vid.BoxKey(), f.agent.BoxKey())
	v.send(&protocol.Send{Envelope: env})
	ack, ok := v.next().(*protocol.Ack)
	if !ok || ack.Seq != 1 || ack.Pos != 1 || ack.Conv != w.Conv {
		t.Fatalf("bad ack %+v", ack)
	}
	if d, ok := v.next().(*protocol.Deliver); !ok || d.Pos != 1 {
		t.Fatalf("visitor: want own deliver, got %+v", d)
	}
	d, ok := a.next().(*protocol.Deliver)
	if !ok || d.Pos != 1 || string(d.Envelope) != string(env) {
		t.Fatalf("agent: bad deliver %+v", d)
	}
	if d.Stored%60 != 0 {
		t.Fatalf("stored time %d not rounded to the minute", d.Stored)
	}
	opened, err := envelope.Open(d.Envelope, f.agent, f.site, w.Conv)
	if err != nil || string(opened.Content) != "hi" {
		t.Fatalf("agent cannot open: %v", err)
	}
	// Agent replies and confirms delivery.
	reply := f.seal(f.agent, w.Conv, 1, "hello", vid.BoxKey(), f.agent.BoxKey())
	a.send(&protocol.Send{Envelope: reply})
	if ack, ok := a.next().(*protocol.Ack); !ok || ack.Pos != 2 {
		t.Fatalf("agent ack %+v", ack)
	}
	if d, ok := v.next().(*protocol.Deliver); !ok || d.Pos != 2 {
		t.Fatalf("visitor: want reply, got %+v", d)
	}
	a.next() // own deliver
	a.send(&protocol.Delivered{Conv: w.Conv, Pos: 2})
	if r, ok := v.next().(*protocol.Receipt); !ok || r.Pos != 2 {
		t.Fatalf("visitor: want receipt, got %+v", r)
	}
	// List shows the conversation.
	a.next() // the agent's own receipt copy
	a.send(&protocol.List{})
	l, ok := a.next().(*protocol.Conversations)
	if !ok || len(l.Entries) != 1 || l.Entries[0].LastPos != 2 || l.Entries[0].DeliveredPos != 2 {
		t.Fatalf("bad list %+v", l)
	}
}

func TestResumeNoLossNoDuplicate(t *testing.T) {
	f := newFixture(t)
	vid, _ := envelope.NewIdentity(rand.Reader)
	v, w := f.welcomeVisitor(vid, 0)
	v.next() // Fetched
	var envs [][]byte
	for i := uint64(1); i <= 3; i++ {
		e := f.seal(vid, w.Conv, i, "m", vid.BoxKey())
		envs = append(envs, e)
		v.send(&protocol.Send{Envelope: e})
		v.next() // ack
		v.next() // deliver
	}
	// Reconnect having seen position 1: positions 2 and 3 come again, once each.
	v2, w2 := f.welcomeVisitor(vid, 1)
	if w2.AckedSeq != 3 {
		t.Fatalf("acked seq %d, want 3", w2.AckedSeq)
	}
	for _, want := range []uint64{2, 3} {
		d, ok := v2.next().(*protocol.Deliver)
		if !ok || d.Pos != want || string(d.Envelope) != string(envs[want-1]) {
			t.Fatalf("want deliver %d, got %+v", want, d)
		}
	}
	if fd, ok := v2.next().(*protocol.Fetched); !ok || fd.LastPos != 3 {
		t.Fatalf("want Fetched 3, got %+v", fd)
	}
	// Resending an acknowledged envelope is acknowledged again with its position and not stored twice.
	v2.send(&protocol.Send{Envelope: envs[1]})
	if ack, ok := v2.next().(*protocol.Ack); !ok || ack.Pos != 2 || ack.Seq != 2 {
		t.Fatalf("duplicate ack %+v", ack)
	}
	v2.expectNone()
	c, _ := f.st.Conversation(f.site, w.Conv)
	if c.LastPos != 3 {
		t.Fatalf("last pos %d after duplicate, want 3", c.LastPos)
	}
	// A gap is refused.
	v2.send(&protocol.Send{Envelope: f.seal(vid, w.Conv, 5, "gap", vid.BoxKey())})
	expectError(t, v2.next(), protocol.CodeSequence)
}

func TestRefusals(t *testing.T) {
	f := newFixture(t)
	vid, _ := envelope.NewIdentity(rand.Reader)
	other, _ := envelope.NewIdentity(rand.Reader)

	t.Run("send before hello", func(t *testing.T) {
		c := f.connect()
		c.send(&protocol.Send{Envelope: []byte{1}})
		expectError(t, c.next(), protocol.CodeState)
	})
	t.Run("malformed then usable", func(t *testing.T) {
		c := f.connect()
		c.c.in <- []byte{1, 0xff, 0, 0}
		expectError(t, c.next(), protocol.CodeMalformed)
		c.c.in <- []byte{9, 1, 0, 0, 0, 0}
		expectError(t, c.next(), protocol.CodeUnsupportedVersion)
		c.hello(protocol.RoleVisitor, vid, f.site, 0)
		if _, ok := c.next().(*protocol.Welcome); !ok {
			t.Fatal("connection not usable after a malformed frame")
		}
	})
	t.Run("bad hello signature", func(t *testing.T) {
		c := f.connect()
		h := &protocol.Hello{Role: protocol.RoleVisitor, Site: f.site, SignKey: vid.SignKey(), BoxKey: vid.BoxKey()}
		protocol.SignHello([32]byte{1}, h, vid.Sign) // signed over the wrong nonce (a replayed hello)
		c.send(h)
		expectError(t, c.next(), protocol.CodeBadSignature)
	})
	t.Run("agent not in roster", func(t *testing.T) {
		c := f.connect()
		c.hello(protocol.RoleAgent, other, f.site, 0)
		expectError(t, c.next(), protocol.CodeForbidden)
	})
	t.Run("hello for another site", func(t *testing.T) {
		c := f.connect()
		c.hello(protocol.RoleVisitor, vid, ids.SiteID{9}, 0)
		expectError(t, c.next(), protocol.CodeForbidden)
	})
	v, w := f.welcomeVisitor(vid, 0)
	v.next() // Fetched
	t.Run("forged signature", func(t *testing.T) {
		e := f.seal(vid, w.Conv, 1, "x", vid.BoxKey())
		e[len(e)-1] ^= 1
		v.send(&protocol.Send{Envelope: e})
		expectError(t, v.next(), protocol.CodeBadSignature)
	})
	t.Run("signed by another key", func(t *testing.T) {
		v.send(&protocol.Send{Envelope: f.seal(other, w.Conv, 1, "x", vid.BoxKey())})
		expectError(t, v.next(), protocol.CodeForbidden)
	})
	t.Run("another conversation", func(t *testing.T) {
		v.send(&protocol.Send{Envelope: f.seal(vid, ids.ConvID{7}, 1, "x", vid.BoxKey())})
		expectError(t, v.next(), protocol.CodeForbidden)
	})
	t.Run("visitor may not list", func(t *testing.T) {
		v.send(&protocol.List{})
		expectError(t, v.next(), protocol.CodeForbidden)
	})
	c, err := f.st.Conversation(f.site, w.Conv)
	if err != nil || c.LastPos != 0 {
		t.Fatalf("refused requests changed the store: %+v %v", c, err)
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t)
	f.srv.Limits = Limits{FramesPerSecond: 0.001, FrameBurst: 2}
	c := f.connect()
	for i := 0; i < 3; i++ {
		c.send(&protocol.List{})
	}
	expectError(t, c.next(), protocol.CodeState)
	expectError(t, c.next(), protocol.CodeState)
	expectError(t, c.next(), protocol.CodeRateLimited)
}

func TestSlowClientIsDropped(t *testing.T) {
	kicked := make(chan struct{})
	cl := newClient(func() { close(kicked) })
	for i := 0; i < queueSize; i++ {
		if !cl.send([]byte{1}) {
			t.Fatal("kicked too early")
		}
	}
	if cl.send([]byte{1}) {
		t.Fatal("a full queue accepted a frame")
	}
	select {
	case <-kicked:
	default:
		t.Fatal("slow client not kicked")
	}
}

func (f *fixture) welcomeAgent() *testClient {
	f.t.Helper()
	a := f.connect()
	a.hello(protocol.RoleAgent, f.agent, f.site, 0)
	if _, ok := a.next().(*protocol.Welcome); !ok {
		f.t.Fatal("agent got no welcome")
	}
	return a
}

func textHash(b byte) [32]byte { return [32]byte{0: b, 31: 0xaa} }

func expectReceipts(t *testing.T, fr protocol.Frame, conv ids.ConvID, want ...protocol.ConsentReceipt) {
	t.Helper()
	r, ok := fr.(*protocol.ConsentReceipts)
	if !ok {
		t.Fatalf("got %T %+v, want ConsentReceipts", fr, fr)
	}
	if r.Conv != conv || len(r.Receipts) != len(want) {
		t.Fatalf("receipts %+v, want %d for %x", r, len(want), conv)
	}
	for i, w := range want {
		g := r.Receipts[i]
		if g.FlowVersion != w.FlowVersion || g.TextHash != w.TextHash || g.Decision != w.Decision {
			t.Fatalf("receipt %d = %+v, want %+v", i, g, w)
		}
		if g.Time%60 != 0 || g.Time == 0 {
			t.Fatalf("receipt %d time %d is not a whole minute", i, g.Time)
		}
	}
}

func TestConsentReceipts(t *testing.T) {
	f := newFixture(t)
	a := f.welcomeAgent()
	vid, _ := envelope.NewIdentity(rand.Reader)
	v, w := f.welcomeVisitor(vid, 0)
	v.next() // Fetched

	accepted := protocol.ConsentReceipt{FlowVersion: 2, TextHash: textHash(1), Decision: protocol.ConsentAccepted}
	req := v.send(&protocol.Consent{Conv: w.Conv, FlowVersion: 2, TextHash: textHash(1), Decision: protocol.ConsentAccepted})
	id, fr := v.nextID()
	if id != req {
		t.Fatalf("reply request ID %d (want %d)", id, req)
	}
	expectReceipts(t, fr, w.Conv, accepted)
	// The agent gets the same list as a push (request ID 0).
	b := <-a.c.out
	if id, fr, _ := protocol.Decode(b); id != 0 {
		t.Fatalf("push with request ID %d", id)
	} else {
		expectReceipts(t, fr, w.Conv, accepted)
	}

	// The same decision again is not stored twice; a decline is.
	v.send(&protocol.Consent{Conv: w.Conv, FlowVersion: 2, TextHash: textHash(1), Decision: protocol.ConsentAccepted})
	expectReceipts(t, v.next(), w.Conv, accepted)
	expectReceipts(t, a.next(), w.Conv, accepted)
	declined := protocol.ConsentReceipt{FlowVersion: 2, TextHash: textHash(2), Decision: protocol.ConsentDeclined}
	v.send(&protocol.Consent{Conv: w.Conv, FlowVersion: 2, TextHash: textHash(2), Decision: protocol.ConsentDeclined})
	expectReceipts(t, v.next(), w.Conv, accepted, declined)
	expectReceipts(t, a.next(), w.Conv, accepted, declined)
	v.expectNone()
	a.expectNone()

	// Stored durably in the conversation, without anything else.
	list, err := f.st.ConsentReceipts(f.site, w.Conv)
	if err != nil || len(list) != 2 || list[1].Decision != store.ConsentDeclined || list[1].TextHash != textHash(2) {
		t.Fatalf("stored receipts %+v %v", list, err)
	}
	if c, _ := f.st.Conversation(f.site, w.Conv); c.LastPos != 0 {
		t.Fatalf("a consent stored an envelope: %+v", c)
	}

	// An agent fetching the conversation gets the receipts before Fetched.
	env := f.seal(vid, w.Conv, 1, "hi", vid.BoxKey(), f.agent.BoxKey())
	v.send(&protocol.Send{Envelope: env})
	v.next() // ack
	v.next() // deliver
	a.next() // deliver
	a2 := f.welcomeAgent()
	req = a2.send(&protocol.Fetch{Conv: w.Conv})
	if d, ok := a2.next().(*protocol.Deliver); !ok || d.Pos != 1 {
		t.Fatalf("fetch: want deliver 1, got %+v", d)
	}
	b = <-a2.c.out
	id, fr, _ = protocol.Decode(b)
	if id != req {
		t.Fatalf("receipts in the fetch answer carry request ID %d, want %d", id, req)
	}
	expectReceipts(t, fr, w.Conv, accepted, declined)
	if fd, ok := a2.next().(*protocol.Fetched); !ok || fd.LastPos != 1 {
		t.Fatalf("want Fetched 1, got %+v", fd)
	}
	// A conversation without receipts: no ConsentReceipts frame.
	other, _ := envelope.NewIdentity(rand.Reader)
	_, w2 := f.welcomeVisitor(other, 0)
	a2.send(&protocol.Fetch{Conv: w2.Conv})
	if fd, ok := a2.next().(*protocol.Fetched); !ok || fd.Conv != w2.Conv {
		t.Fatalf("want Fetched without receipts, got %+v", fd)
	}
}

func TestConsentRefusals(t *testing.T) {
	f := newFixture(t)
	a := f.welcomeAgent()
	vid, _ := envelope.NewIdentity(rand.Reader)
	v, w := f.welcomeVisitor(vid, 0)
	v.next() // Fetched
	other, _ := envelope.NewIdentity(rand.Reader)
	_, w2 := f.welcomeVisitor(other, 0)

	t.Run("agent may not send consent", func(t *testing.T) {
		a.send(&protocol.Consent{Conv: w.Conv, FlowVersion: 1, TextHash: textHash(1), Decision: protocol.ConsentAccepted})
		fr := a.next()
		expectError(t, fr, protocol.CodeForbidden)
		if r := fr.(*protocol.Error).Reason; r != "visitors only" {
			t.Fatalf("reason %q, want the role refusal", r)
		}
	})
	t.Run("another conversation", func(t *testing.T) {
		v.send(&protocol.Consent{Conv: w2.Conv, FlowVersion: 1, TextHash: textHash(1), Decision: protocol.ConsentAccepted})
		expectError(t, v.next(), protocol.CodeForbidden)
	})
	t.Run("before hello", func(t *testing.T) {
		c := f.connect()
		c.send(&protocol.Consent{Conv: w.Conv, FlowVersion: 1, TextHash: textHash(1), Decision: protocol.ConsentAccepted})
		expectError(t, c.next(), protocol.CodeState)
	})
	t.Run("unknown decision", func(t *testing.T) {
		v.send(&protocol.Consent{Conv: w.Conv, FlowVersion: 1, TextHash: textHash(1), Decision: 3})
		expectError(t, v.next(), protocol.CodeMalformed)
	})
	a.expectNone() // no push for refused requests
	for _, c := range []ids.ConvID{w.Conv, w2.Conv} {
		if list, err := f.st.ConsentReceipts(f.site, c); err != nil || len(list) != 0 {
			t.Fatalf("refused consent stored receipts: %+v %v", list, err)
		}
	}

	t.Run("limit", func(t *testing.T) {
		for i := 0; i < store.MaxConsentReceipts; i++ {
			v.send(&protocol.Consent{Conv: w.Conv, FlowVersion: 1, TextHash: textHash(byte(i)), Decision: protocol.ConsentAccepted})
			r, ok := v.next().(*protocol.ConsentReceipts)
			if !ok || len(r.Receipts) != i+1 {
				t.Fatalf("consent %d: %+v", i, r)
			}
			a.next() // push
		}
		v.send(&protocol.Consent{Conv: w.Conv, FlowVersion: 1, TextHash: textHash(200), Decision: protocol.ConsentAccepted})
		expectError(t, v.next(), protocol.CodeLimit)
		a.expectNone()
		// The connection stays usable.
		v.send(&protocol.Send{Envelope: f.seal(vid, w.Conv, 1, "still here", vid.BoxKey())})
		if ack, ok := v.next().(*protocol.Ack); !ok || ack.Pos != 1 {
			t.Fatalf("after the limit: %+v", ack)
		}
	})
}
