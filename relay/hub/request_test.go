package hub

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"siegel/relay/store"
	"siegel/shared/content"
	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/shared/roster"
)

// rightsFixture is a fixture whose store can be closed and opened again (a
// relay restart), with the owner key to re-sign the roster.
type rightsFixture struct {
	*fixture
	path      string
	ownerPriv ed25519.PrivateKey
	agent2    *envelope.Identity
}

func newRightsFixture(t *testing.T) *rightsFixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.db")
	st, err := store.Open(store.Options{Path: path, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &rightsFixture{fixture: &fixture{t: t, st: st}, path: path}
	f.srv = &Server{Hub: New(), Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	_, f.ownerPriv, _ = ed25519.GenerateKey(rand.Reader)
	f.agent, _ = envelope.NewIdentity(rand.Reader)
	f.agent2, _ = envelope.NewIdentity(rand.Reader)
	rand.Read(f.site[:])
	f.addSite(f.site, 1, f.agent, f.agent2)
	return f
}

// addSite stores a site (if new) and a roster of the given version with the given agents.
func (f *rightsFixture) addSite(site ids.SiteID, version uint64, agents ...*envelope.Identity) {
	f.t.Helper()
	ctx := context.Background()
	owner := ids.Key(f.ownerPriv.Public().(ed25519.PublicKey))
	if _, err := f.st.Site(site); errors.Is(err, store.ErrNotFound) {
		if err := f.st.PutSite(ctx, store.Site{ID: site, Name: "t", Origins: []string{"http://127.0.0.1:1"}, Owner: owner}); err != nil {
			f.t.Fatal(err)
		}
	}
	r := &roster.Roster{Site: site, Owner: owner, Version: version, NotAfter: time.Now().Add(time.Hour).Unix()}
	for i, a := range agents {
		r.Agents = append(r.Agents, roster.Agent{ID: ids.AgentID{byte(i + 1)}, Name: "Agent", Sign: a.SignKey(), Box: a.BoxKey()})
	}
	raw, err := r.Encode(f.ownerPriv)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.st.PutRoster(ctx, site, version, raw); err != nil {
		f.t.Fatal(err)
	}
}

// restart closes the store and opens it again under a new server (a relay
// restart). Connections to the old server end.
func (f *rightsFixture) restart() {
	f.t.Helper()
	if err := f.st.Close(); err != nil {
		f.t.Fatal(err)
	}
	st, err := store.Open(store.Options{Path: f.path, NoSync: true})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { st.Close() })
	f.st = st
	f.srv = &Server{Hub: New(), Store: st, Log: f.srv.Log}
}

// connectTo connects a client to the relay for another site.
func (f *rightsFixture) connectTo(site ids.SiteID) *testClient {
	f.t.Helper()
	saved := f.site
	f.site = site
	defer func() { f.site = saved }()
	return f.connect()
}

// visitor connects a visitor and reads its Welcome and the replay up to Fetched.
func (f *rightsFixture) visitor(id *envelope.Identity) (*testClient, ids.ConvID) {
	f.t.Helper()
	v, w := f.welcomeVisitor(id, 0)
	for {
		if _, ok := v.next().(*protocol.Fetched); ok {
			return v, w.Conv
		}
	}
}

// request signs and sends a request for site with the client's key over its nonce.
func (tc *testClient) request(site ids.SiteID, op protocol.Operation, conv ids.ConvID, counter uint64, body []byte) *protocol.Request {
	r := &protocol.Request{Op: op, Conv: conv, Counter: counter, Body: body}
	protocol.SignRequest(site, tc.nonce, r, tc.id.Sign)
	tc.send(r)
	return r
}

// sealAs seals a message of the given type from a visitor to itself and the agents.
func (f *rightsFixture) sealAs(from *envelope.Identity, conv ids.ConvID, seq uint64, typ envelope.ContentType, c []byte) []byte {
	f.t.Helper()
	b, err := envelope.Seal(rand.Reader, from, []ids.Key{from.BoxKey(), f.agent.BoxKey(), f.agent2.BoxKey()},
		envelope.Message{Site: f.site, Conv: conv, Seq: seq, Type: typ, Time: 1767225600000, Content: c})
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func answerEnv(f *rightsFixture, v *envelope.Identity, conv ids.ConvID, seq uint64, value string) []byte {
	return f.sealAs(v, conv, seq, envelope.ContentAnswer,
		content.EncodeAnswer(content.Answer{Variable: "email", Personal: true, Kind: content.InputEmail, Value: value}))
}

func correctionEnv(f *rightsFixture, v *envelope.Identity, conv ids.ConvID, seq, orig uint64, value string) []byte {
	return f.sealAs(v, conv, seq, envelope.ContentCorrection, content.EncodeCorrection(content.Correction{Pos: orig,
		Answer: content.Answer{Variable: "email", Personal: true, Kind: content.InputEmail, Value: value}}))
}

// sendEnv sends an envelope and reads the Ack and the own Deliver.
func sendEnv(t *testing.T, c *testClient, env []byte) uint64 {
	t.Helper()
	c.send(&protocol.Send{Envelope: env})
	ack, ok := c.next().(*protocol.Ack)
	if !ok {
		t.Fatalf("no ack")
	}
	if d, ok := c.next().(*protocol.Deliver); !ok || d.Pos != ack.Pos {
		t.Fatalf("no own deliver")
	}
	return ack.Pos
}

// stored returns the positions and envelopes stored for conv.
func stored(t *testing.T, st *store.Store, site ids.SiteID, conv ids.ConvID) ([]uint64, [][]byte) {
	t.Helper()
	var pos []uint64
	var raw [][]byte
	err := st.Envelopes(site, conv, 0, func(p uint64, _ int64, r []byte) error {
		pos = append(pos, p)
		raw = append(raw, r)
		return nil
	})
	if err != nil {
		t.Fatalf("envelopes: %v", err)
	}
	return pos, raw
}

func expectDone(t *testing.T, c *testClient, req uint32, op protocol.Operation, conv ids.ConvID) {
	t.Helper()
	id, fr := c.nextID()
	d, ok := fr.(*protocol.Done)
	if !ok || id != req || d.Op != op || d.Conv != conv {
		t.Fatalf("got %d %T %+v, want Done %d for request %d", id, fr, fr, op, req)
	}
}

func expectErased(t *testing.T, c *testClient, conv ids.ConvID) {
	t.Helper()
	if e, ok := c.next().(*protocol.Erased); !ok || e.Conv != conv {
		t.Fatalf("want Erased %x, got %+v", conv, e)
	}
}

func TestVisitorErases(t *testing.T) {
	f := newRightsFixture(t)
	ctx := context.Background()
	a := f.welcomeAgent()
	vid, _ := envelope.NewIdentity(rand.Reader)
	v, conv := f.visitor(vid)
	v2, _ := f.visitor(vid) // the same visitor in a second tab
	oid, _ := envelope.NewIdentity(rand.Reader)
	o, oconv := f.visitor(oid) // another visitor of the site

	sendEnv(t, v, answerEnv(f, vid, conv, 1, "a@b.de"))
	a.next()  // deliver
	v2.next() // deliver
	if _, err := f.st.AddConsentReceipt(ctx, f.site, conv, store.ConsentReceipt{FlowVersion: 1, Decision: store.ConsentAccepted}); err != nil {
		t.Fatal(err)
	}
	sendEnv(t, o, answerEnv(f, oid, oconv, 1, "o@b.de"))
	a.next()

	v.request(f.site, protocol.OpErase, conv, 1000, nil)
	expectDone(t, v, v.req, protocol.OpErase, conv)
	expectErased(t, v, conv)
	expectErased(t, v2, conv)
	expectErased(t, a, conv)
	o.expectNone()

	if _, err := f.st.Conversation(f.site, conv); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("conversation after erase: %v", err)
	}
	if list, _ := f.st.ConsentReceipts(f.site, conv); len(list) != 0 {
		t.Fatalf("receipts after erase: %+v", list)
	}
	if pos, _ := stored(t, f.st, f.site, oconv); len(pos) != 1 {
		t.Fatalf("the other conversation lost envelopes: %v", pos)
	}
	// The hub dropped the conversation's visitor subscriptions.
	f.srv.Hub.mu.Lock()
	subs := 0
	if s := f.srv.Hub.sites[f.site]; s != nil {
		subs = len(s.visitors[conv])
	}
	f.srv.Hub.mu.Unlock()
	if subs != 0 {
		t.Fatalf("%d visitor subscriptions left for the erased conversation", subs)
	}
	// Nothing of the conversation is pushed any more, even a late publish.
	f.srv.Hub.publish(f.site, conv, 9, protocol.Encode(0, &protocol.Receipt{Conv: conv, Pos: 9}))
	v.expectNone()
	v2.expectNone()
	a.expectNone()

	// The agent no longer lists it; the visitor's Hello is answered with gone.
	a.send(&protocol.List{})
	l := a.next().(*protocol.Conversations)
	if len(l.Entries) != 1 || l.Entries[0].Conv != oconv {
		t.Fatalf("list after erase: %+v", l.Entries)
	}
	c := f.connect()
	c.hello(protocol.RoleVisitor, vid, f.site, 0)
	expectError(t, c.next(), protocol.CodeGone)
	// A replayed envelope cannot revive it.
	v.send(&protocol.Send{Envelope: answerEnv(f, vid, conv, 2, "x@b.de")})
	expectError(t, v.next(), protocol.CodeGone)
	if _, err := f.st.Conversation(f.site, conv); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("conversation revived: %v", err)
	}
	// The same holds after a restart.
	f.restart()
	c = f.connect()
	c.hello(protocol.RoleVisitor, vid, f.site, 0)
	expectError(t, c.next(), protocol.CodeGone)
}

func TestAgentErases(t *testing.T) {
	f := newRightsFixture(t)
	a := f.welcomeAgent()
	a2 := f.connect()
	a2.hello(protocol.RoleAgent, f.agent2, f.site, 0)
	a2.next() // welcome
	vid, _ := envelope.NewIdentity(rand.Reader)
	v, conv := f.visitor(vid)
	sendEnv(t, v, answerEnv(f, vid, conv, 1, "a@b.de"))
	a.next()
	a2.next()

	a.request(f.site, protocol.OpErase, conv, 1, nil)
	expectDone(t, a, a.req, protocol.OpErase, conv)
	expectErased(t, a, conv)
	expectErased(t, a2, conv)
	expectErased(t, v, conv)
	if _, err := f.st.Conversation(f.site, conv); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("conversation after erase: %v", err)
	}
	audit, err := f.st.Audit(f.site)
	if err != nil || len(audit) != 1 || audit[0].Reason != store.EraseAgent {
		t.Fatalf("audit %+v %v", audit, err)
	}
	// Erasing again: gone.
	a.request(f.site, protocol.OpErase, conv, 2, nil)
	expectError(t, a.next(), protocol.CodeGone)
	// A conversation that never existed: not found.
	a.request(f.site, protocol.OpErase, ids.ConvID{1}, 3, nil)
	expectError(t, a.next(), protocol.CodeNotFound)
}

func TestVisitorCorrects(t *testing.T) {
	f := newRightsFixture(t)
	a := f.welcomeAgent()
	vid, _ := envelope.NewIdentity(rand.Reader)
	v, conv := f.visitor(vid)
	old := answerEnv(f, vid, conv, 1, "old@b.de")
	sendEnv(t, v, old)
	text := f.sealAs(vid, conv, 2, envelope.ContentText, []byte("hallo"))
	sendEnv(t, v, text)
	a.next()
	a.next()

	corr := correctionEnv(f, vid, conv, 3, 1, "new@b.de")
	v.request(f.site, protocol.OpCorrect, conv, 7, protocol.CorrectionBody(1, corr))
	expectDone(t, v, v.req, protocol.OpCorrect, conv)
	for name, c := range map[string]*testClient{"visitor": v, "agent": a} {
		d, ok := c.next().(*protocol.Deliver)
		if !ok || d.Pos != 3 || string(d.Envelope) != string(corr) || d.Stored%60 != 0 {
			t.Fatalf("%s: want Deliver of the correction at 3, got %+v", name, d)
		}
		r, ok := c.next().(*protocol.Replaced)
		if !ok || *r != (protocol.Replaced{Conv: conv, OldPos: 1, NewPos: 3}) {
			t.Fatalf("%s: want Replaced 1 -> 3, got %+v", name, r)
		}
	}
	pos, raw := stored(t, f.st, f.site, conv)
	if !slices.Equal(pos, []uint64{2, 3}) || string(raw[0]) != string(text) || string(raw[1]) != string(corr) {
		t.Fatalf("stored positions %v after correction", pos)
	}
	opened, err := envelope.Open(raw[1], f.agent, f.site, conv)
	if err != nil || opened.Type != envelope.ContentCorrection {
		t.Fatalf("agent cannot open the correction: %v", err)
	}
	// A reconnecting visitor gets 2 and 3 only.
	v2, w := f.welcomeVisitor(vid, 0)
	if w.AckedSeq != 3 {
		t.Fatalf("acked seq %d, want 3", w.AckedSeq)
	}
	for _, want := range []uint64{2, 3} {
		if d, ok := v2.next().(*protocol.Deliver); !ok || d.Pos != want {
			t.Fatalf("replay: want %d, got %+v", want, d)
		}
	}
	if fd, ok := v2.next().(*protocol.Fetched); !ok || fd.LastPos != 3 {
		t.Fatalf("want Fetched 3, got %+v", fd)
	}
}

// snapshot is what a refused request must leave unchanged.
type snapshot struct {
	pos  []uint64
	raw  [][]byte
	conv store.Conversation
}

func take(t *testing.T, st *store.Store, site ids.SiteID, conv ids.ConvID) snapshot {
	t.Helper()
	c, err := st.Conversation(site, conv)
	if err != nil {
		t.Fatalf("conversation: %v", err)
	}
	pos, raw := stored(t, st, site, conv)
	return snapshot{pos, raw, c}
}

func (s snapshot) equal(o snapshot) bool {
	if !slices.Equal(s.pos, o.pos) || s.conv != o.conv || len(s.raw) != len(o.raw) {
		return false
	}
	for i := range s.raw {
		if string(s.raw[i]) != string(o.raw[i]) {
			return false
		}
	}
	return true
}

func TestRequestRefusals(t *testing.T) {
	f := newRightsFixture(t)
	a := f.welcomeAgent()
	vid, _ := envelope.NewIdentity(rand.Reader)
	v, conv := f.visitor(vid)
	sendEnv(t, v, answerEnv(f, vid, conv, 1, "a@b.de"))
	a.next()
	reply, err := envelope.Seal(rand.Reader, f.agent, []ids.Key{vid.BoxKey(), f.agent.BoxKey(), f.agent2.BoxKey()},
		envelope.Message{Site: f.site, Conv: conv, Seq: 1, Type: envelope.ContentText, Time: 1, Content: []byte("Danke")})
	if err != nil {
		t.Fatal(err)
	}
	agentPos := sendEnv(t, a, reply)
	v.next() // the agent's reply
	oid, _ := envelope.NewIdentity(rand.Reader)
	o, oconv := f.visitor(oid)
	sendEnv(t, o, answerEnv(f, oid, oconv, 1, "o@b.de"))
	a.next()

	// A second site in the same relay, with a conversation of its own.
	var siteB ids.SiteID
	rand.Read(siteB[:])
	f.addSite(siteB, 1, f.agent2)
	bid, _ := envelope.NewIdentity(rand.Reader)
	b := f.connectTo(siteB)
	b.hello(protocol.RoleVisitor, bid, siteB, 0)
	if _, ok := b.next().(*protocol.Welcome); !ok {
		t.Fatal("site B visitor got no welcome")
	}
	b.next() // Fetched
	bconv := ids.ConversationID(siteB, bid.SignKey())

	before := take(t, f.st, f.site, conv)
	beforeO := take(t, f.st, f.site, oconv)
	beforeB := take(t, f.st, siteB, bconv)
	corrBody := func(seq uint64) []byte {
		return protocol.CorrectionBody(1, correctionEnv(f, vid, conv, seq, 1, "new@b.de"))
	}

	for _, tc := range []struct {
		name string
		c    *testClient
		do   func(c *testClient)
		want protocol.ErrorCode
	}{
		{"before hello", f.connect(), func(c *testClient) {
			c.id = vid
			c.request(f.site, protocol.OpErase, conv, 1, nil)
		}, protocol.CodeState},
		{"signed by another key", v, func(c *testClient) {
			r := &protocol.Request{Op: protocol.OpErase, Conv: conv, Counter: 1}
			protocol.SignRequest(f.site, c.nonce, r, oid.Sign)
			c.send(r)
		}, protocol.CodeBadSignature},
		{"signed over another connection's nonce", v, func(c *testClient) {
			r := &protocol.Request{Op: protocol.OpErase, Conv: conv, Counter: 1}
			protocol.SignRequest(f.site, o.nonce, r, vid.Sign)
			c.send(r)
		}, protocol.CodeBadSignature},
		{"signed for another site", v, func(c *testClient) {
			c.request(siteB, protocol.OpErase, conv, 1, nil)
		}, protocol.CodeBadSignature},
		{"forged signature", v, func(c *testClient) {
			r := &protocol.Request{Op: protocol.OpErase, Conv: conv, Counter: 1}
			protocol.SignRequest(f.site, c.nonce, r, vid.Sign)
			r.Sig[5] ^= 1
			c.send(r)
		}, protocol.CodeBadSignature},
		{"body hash of another body", v, func(c *testClient) {
			r := &protocol.Request{Op: protocol.OpCorrect, Conv: conv, Counter: 1, Body: corrBody(2)}
			protocol.SignRequest(f.site, c.nonce, r, vid.Sign)
			r.Body = corrBody(2) // another envelope (fresh randomness), same hash and signature
			c.send(r)
		}, protocol.CodeMalformed},
		{"truncated erase", v, func(c *testClient) {
			r := &protocol.Request{Op: protocol.OpErase, Conv: conv, Counter: 1}
			protocol.SignRequest(f.site, c.nonce, r, vid.Sign)
			raw := protocol.Encode(99, r)
			c.c.in <- raw[:len(raw)-1]
		}, protocol.CodeMalformed},
		{"truncated correction", v, func(c *testClient) {
			r := &protocol.Request{Op: protocol.OpCorrect, Conv: conv, Counter: 1, Body: corrBody(2)}
			protocol.SignRequest(f.site, c.nonce, r, vid.Sign)
			raw := protocol.Encode(99, r)
			c.c.in <- raw[:len(raw)-10]
		}, protocol.CodeMalformed},
		{"correction with a truncated envelope, signed", v, func(c *testClient) {
			body := corrBody(2)
			c.request(f.site, protocol.OpCorrect, conv, 1, body[:len(body)-10])
		}, protocol.CodeMalformed},
		{"oversized frame", v, func(c *testClient) {
			body := protocol.CorrectionBody(1, make([]byte, protocol.MaxFrameSize))
			r := &protocol.Request{Op: protocol.OpCorrect, Conv: conv, Counter: 1, Body: body}
			protocol.SignRequest(f.site, c.nonce, r, vid.Sign)
			c.send(r)
		}, protocol.CodeMalformed},
		{"oversized envelope, signed", v, func(c *testClient) {
			env := correctionEnv(f, vid, conv, 2, 1, "new@b.de")
			big := append(env, make([]byte, envelope.MaxEnvelopeSize)...)
			c.request(f.site, protocol.OpCorrect, conv, 1, protocol.CorrectionBody(1, big))
		}, protocol.CodeMalformed},
		{"erase of another visitor's conversation", v, func(c *testClient) {
			c.request(f.site, protocol.OpErase, oconv, 1, nil)
		}, protocol.CodeForbidden},
		{"correction in another visitor's conversation", v, func(c *testClient) {
			c.request(f.site, protocol.OpCorrect, oconv, 1, corrBody(2))
		}, protocol.CodeForbidden},
		{"correction envelope of another visitor", o, func(c *testClient) {
			c.request(f.site, protocol.OpCorrect, oconv, 1, corrBody(2))
		}, protocol.CodeForbidden},
		{"correction envelope for another conversation", v, func(c *testClient) {
			env := correctionEnv(f, vid, oconv, 2, 1, "new@b.de")
			c.request(f.site, protocol.OpCorrect, conv, 1, protocol.CorrectionBody(1, env))
		}, protocol.CodeForbidden},
		{"correction envelope for another site", v, func(c *testClient) {
			env, err := envelope.Seal(rand.Reader, vid, []ids.Key{vid.BoxKey()}, envelope.Message{Site: siteB, Conv: conv, Seq: 2,
				Type: envelope.ContentCorrection, Time: 1, Content: content.EncodeCorrection(content.Correction{Pos: 1,
					Answer: content.Answer{Variable: "v", Kind: content.InputText, Value: "x"}})})
			if err != nil {
				t.Fatal(err)
			}
			c.request(f.site, protocol.OpCorrect, conv, 1, protocol.CorrectionBody(1, env))
		}, protocol.CodeForbidden},
		{"erase of another site's conversation by a visitor", v, func(c *testClient) {
			c.request(f.site, protocol.OpErase, bconv, 1, nil)
		}, protocol.CodeForbidden},
		{"erase of another site's conversation by an agent", a, func(c *testClient) {
			c.request(f.site, protocol.OpErase, bconv, 1, nil)
		}, protocol.CodeNotFound},
		{"correction by an agent", a, func(c *testClient) {
			c.request(f.site, protocol.OpCorrect, conv, 1, corrBody(2))
		}, protocol.CodeForbidden},
		{"correction of a missing position", v, func(c *testClient) {
			env := correctionEnv(f, vid, conv, 2, 5, "new@b.de")
			c.request(f.site, protocol.OpCorrect, conv, 1, protocol.CorrectionBody(5, env))
		}, protocol.CodeForbidden},
		{"correction of the agent's envelope", v, func(c *testClient) {
			env := correctionEnv(f, vid, conv, 2, agentPos, "new@b.de")
			c.request(f.site, protocol.OpCorrect, conv, 1, protocol.CorrectionBody(agentPos, env))
		}, protocol.CodeForbidden},
		{"correction in a conversation that does not exist", v, func(c *testClient) {
			// Only an agent could name it; a visitor is refused before.
			c.request(f.site, protocol.OpCorrect, ids.ConvID{7}, 1, corrBody(2))
		}, protocol.CodeForbidden},
		{"correction with a sequence gap", v, func(c *testClient) {
			c.request(f.site, protocol.OpCorrect, conv, 1, corrBody(4))
		}, protocol.CodeSequence},
		{"counter zero", v, func(c *testClient) {
			c.request(f.site, protocol.OpErase, conv, 0, nil)
		}, protocol.CodeReplay},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.do(tc.c)
			expectError(t, tc.c.next(), tc.want)
		})
	}
	a.expectNone()
	v.expectNone()
	o.expectNone()
	b.expectNone()
	for _, s := range []struct {
		before snapshot
		site   ids.SiteID
		conv   ids.ConvID
	}{{before, f.site, conv}, {beforeO, f.site, oconv}, {beforeB, siteB, bconv}} {
		if after := take(t, f.st, s.site, s.conv); !s.before.equal(after) {
			t.Fatalf("a refused request changed the store: %+v -> %+v", s.before.pos, after.pos)
		}
	}
	if audit, _ := f.st.Audit(f.site); len(audit) != 0 {
		t.Fatalf("audit after refusals: %+v", audit)
	}
	// The refusals did not spend a counter: 1 is still accepted.
	v.request(f.site, protocol.OpCorrect, conv, 1, corrBody(2))
	expectDone(t, v, v.req, protocol.OpCorrect, conv)
}

func TestReplay(t *testing.T) {
	f := newRightsFixture(t)
	vid, _ := envelope.NewIdentity(rand.Reader)
	v, conv := f.visitor(vid)
	sendEnv(t, v, answerEnv(f, vid, conv, 1, "a@b.de"))

	v.request(f.site, protocol.OpCorrect, conv, 100, protocol.CorrectionBody(1, correctionEnv(f, vid, conv, 2, 1, "b@b.de")))
	expectDone(t, v, v.req, protocol.OpCorrect, conv)
	v.next() // Deliver
	v.next() // Replaced
	// The same frame again on the same connection.
	corr2 := protocol.CorrectionBody(2, correctionEnv(f, vid, conv, 3, 2, "c@b.de"))
	sent := v.request(f.site, protocol.OpCorrect, conv, 101, corr2)
	expectDone(t, v, v.req, protocol.OpCorrect, conv)
	v.next()
	v.next()
	v.send(sent)
	expectError(t, v.next(), protocol.CodeReplay)
	// A new request with a counter not above the last one, for each operation.
	for _, counter := range []uint64{101, 100, 1} {
		v.request(f.site, protocol.OpErase, conv, counter, nil)
		expectError(t, v.next(), protocol.CodeReplay)
		v.request(f.site, protocol.OpCorrect, conv, counter, protocol.CorrectionBody(3, correctionEnv(f, vid, conv, 4, 3, "d@b.de")))
		expectError(t, v.next(), protocol.CodeReplay)
	}
	before := take(t, f.st, f.site, conv)

	// After a restart: the counter is still known.
	f.restart()
	if after := take(t, f.st, f.site, conv); !before.equal(after) {
		t.Fatal("the store changed over the restart")
	}
	v2, _ := f.visitor(vid)
	// The old frame, signed over the old connection's nonce.
	v2.send(sent)
	expectError(t, v2.next(), protocol.CodeBadSignature)
	v2.request(f.site, protocol.OpErase, conv, 101, nil)
	expectError(t, v2.next(), protocol.CodeReplay)
	v2.request(f.site, protocol.OpCorrect, conv, 50, protocol.CorrectionBody(3, correctionEnv(f, vid, conv, 4, 3, "d@b.de")))
	expectError(t, v2.next(), protocol.CodeReplay)
	if after := take(t, f.st, f.site, conv); !before.equal(after) {
		t.Fatal("a replayed request changed the store")
	}
	// A higher counter works.
	v2.request(f.site, protocol.OpErase, conv, 102, nil)
	expectDone(t, v2, v2.req, protocol.OpErase, conv)
	expectErased(t, v2, conv)
}

func TestAgentRemovedFromRoster(t *testing.T) {
	f := newRightsFixture(t)
	a := f.welcomeAgent()
	a2 := f.connect()
	a2.hello(protocol.RoleAgent, f.agent2, f.site, 0)
	a2.next() // welcome
	vid, _ := envelope.NewIdentity(rand.Reader)
	v, conv := f.visitor(vid)
	sendEnv(t, v, answerEnv(f, vid, conv, 1, "a@b.de"))
	a.next()
	a2.next()

	// The owner removes the first agent; its connection is still open.
	f.addSite(f.site, 2, f.agent2)
	a.request(f.site, protocol.OpErase, conv, 1, nil)
	expectError(t, a.next(), protocol.CodeForbidden)
	if _, err := f.st.Conversation(f.site, conv); err != nil {
		t.Fatalf("conversation after refused erase: %v", err)
	}
	a2.expectNone()
	v.expectNone()
	// The remaining agent may.
	a2.request(f.site, protocol.OpErase, conv, 1, nil)
	expectDone(t, a2, a2.req, protocol.OpErase, conv)
	expectErased(t, a2, conv)
	expectErased(t, v, conv)
}

// TestEraseDuringReplay: an erasure while a client replays drops the held
// pushes of the conversation and ends with Erased.
func TestEraseDuringReplay(t *testing.T) {
	cl := newClient(func() {})
	conv := ids.ConvID{1}
	other := ids.ConvID{2}
	cl.beginReplay()
	cl.push(conv, 5, []byte("deliver 5"))
	cl.push(other, 1, []byte("other 1"))
	cl.erase(conv, []byte("erased"))
	cl.push(conv, 6, []byte("deliver 6"))
	cl.endReplay(conv, 4)
	cl.push(conv, 7, []byte("deliver 7"))
	cl.push(conv, 0, []byte("receipt"))
	var got []string
	for _, b := range cl.take() {
		got = append(got, string(b))
	}
	if !slices.Equal(got, []string{"other 1", "erased"}) {
		t.Fatalf("sent %q", got)
	}
}

// Hub.Erased (the sweeper's erasures) pushes Erased like an erase request.
func TestHubErased(t *testing.T) {
	f := newRightsFixture(t)
	a := f.welcomeAgent()
	vid, _ := envelope.NewIdentity(rand.Reader)
	v, conv := f.visitor(vid)
	oid, _ := envelope.NewIdentity(rand.Reader)
	o, _ := f.visitor(oid)
	if err := f.st.Erase(context.Background(), f.site, conv, store.EraseRetention, nil); err != nil {
		t.Fatal(err)
	}
	f.srv.Hub.Erased(f.site, conv)
	expectErased(t, a, conv)
	expectErased(t, v, conv)
	o.expectNone()
	// Later pushes of the conversation reach nobody.
	f.srv.Hub.publish(f.site, conv, 0, protocol.Encode(0, &protocol.Receipt{Conv: conv, Pos: 1}))
	a.expectNone()
	v.expectNone()
}
