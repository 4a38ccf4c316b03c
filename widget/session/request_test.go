package session

import (
	"errors"
	"testing"
	"time"

	"siegel/shared/content"
	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
)

// request carries out a signed request like the relay of docs/PROTOCOL.md
// §6.5: it checks the body hash, the signature over the connection's nonce,
// the counter and the conversation, then erases or corrects.
func (r *fakeRelay) request(c *fakeConn, reqID uint32, f *protocol.Request) {
	r.requests++
	agent := c.hello.Role == protocol.RoleAgent
	switch {
	case !f.BodyHashValid():
		c.fail(reqID, protocol.CodeMalformed)
		return
	case !protocol.VerifyRequest(c.hello.SignKey, r.site, c.nonce, f):
		c.fail(reqID, protocol.CodeBadSignature)
		return
	case f.Counter <= r.counters[c.hello.SignKey]:
		c.fail(reqID, protocol.CodeReplay)
		return
	case !agent && f.Conv != c.conv, agent && (!r.agentKey(c.hello.SignKey) || f.Op != protocol.OpErase):
		c.fail(reqID, protocol.CodeForbidden)
		return
	case r.gone[f.Conv]:
		c.fail(reqID, protocol.CodeGone)
		return
	case r.convs[f.Conv] == nil:
		c.fail(reqID, protocol.CodeNotFound)
		return
	case r.requestCode != 0:
		c.fail(reqID, r.requestCode)
		return
	}
	if f.Op == protocol.OpErase {
		r.counters[c.hello.SignKey] = f.Counter
		subs := r.subscribers(f.Conv)
		delete(r.convs, f.Conv)
		r.gone[f.Conv] = true
		if !r.dropDone {
			c.push(reqID, &protocol.Done{Op: f.Op, Conv: f.Conv})
		}
		for _, s := range subs {
			s.push(0, &protocol.Erased{Conv: f.Conv})
		}
		return
	}
	orig, raw, ok := f.Correction()
	e, err := envelope.Verify(raw)
	cv := r.convs[f.Conv]
	if !ok || err != nil || e.Conv != f.Conv || e.SenderSign != c.hello.SignKey || orig > uint64(len(cv.envs)) ||
		cv.envs[orig-1] == nil {
		c.fail(reqID, protocol.CodeMalformed)
		return
	}
	if e.Seq != cv.lastSeq[e.SenderSign]+1 {
		c.fail(reqID, protocol.CodeSequence)
		return
	}
	r.counters[c.hello.SignKey] = f.Counter
	pos := r.appendEnv(f.Conv, e.SenderSign, e.Seq, raw)
	cv.envs[orig-1] = nil // the original's bytes are gone
	if !r.dropDone {
		c.push(reqID, &protocol.Done{Op: f.Op, Conv: f.Conv})
	}
	r.fanOut(f.Conv, pos, nil)
	for _, s := range r.subscribers(f.Conv) {
		s.push(0, &protocol.Replaced{Conv: f.Conv, OldPos: orig, NewPos: pos})
	}
}

func newRequestWorld(t *testing.T) *world {
	w := newWorld(t, "Anna")
	w.relay.counters = map[ids.Key]uint64{}
	w.relay.gone = map[ids.ConvID]bool{}
	return w
}

func answer(variable, value string) content.Answer {
	return content.Answer{Variable: variable, Personal: true, Kind: content.InputEmail, Value: value}
}

// sendAnswer queues an answer and runs the relay until it is stored.
func sendAnswer(t *testing.T, w *world, v *client, a content.Answer) {
	t.Helper()
	evs, err := v.s.SendContent(content.TypeAnswer, content.EncodeAnswer(a), w.now.UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	v.evs = append(v.evs, evs...)
	pump(w.relay, v)
}

func TestVisitorEraseIsSignedAndStops(t *testing.T) {
	w := newRequestWorld(t)
	v := w.visitor(nil, State{})
	ag := w.agent(0)
	v.connect(w.relay)
	ag.connect(w.relay)
	mustSend(t, v, "Hallo")
	pump(w.relay, v, ag)
	v.take()
	ag.take()

	evs, err := v.s.Erase(ids.ConvID{}) // ignored for visitors: always the own conversation
	if err != nil {
		t.Fatal(err)
	}
	v.evs = append(v.evs, evs...)
	pump(w.relay, v, ag)
	evs = v.take()
	done := only[DoneEvent](evs)
	if len(done) != 1 || done[0].Op != protocol.OpErase || done[0].Conv != v.s.Conv() {
		t.Fatalf("visitor events: %#v", evs)
	}
	if lastStatus(t, evs) != StatusStopped || !v.s.Stopped() {
		t.Fatalf("visitor not stopped after erase: %#v", evs)
	}
	if !w.relay.gone[v.s.Conv()] || w.relay.convs[v.s.Conv()] != nil {
		t.Fatal("relay did not erase")
	}
	if got, want := v.s.State().Counter, uint64(w.now.UnixMilli()); got != want {
		t.Fatalf("counter %d, want %d", got, want)
	}
	if er := only[ErasedEvent](ag.take()); len(er) != 1 || er[0].Conv != v.s.Conv() {
		t.Fatalf("agent did not learn of the erasure: %#v", er)
	}
	if _, err := v.s.Send("noch etwas"); !errors.Is(err, ErrStopped) {
		t.Fatalf("Send after erase: %v", err)
	}
}

func TestRequestSignatureVerifies(t *testing.T) {
	w := newRequestWorld(t)
	id := newParty(t, "").id
	v := w.visitor(id, State{Counter: 41})
	w.now = time.UnixMilli(40) // the clock is behind the stored counter
	v.connect(w.relay)
	c := v.conn
	// Run the handshake only, then capture the Request before the relay sees it.
	for len(c.toClient) > 0 || len(c.toRelay) > 0 {
		for len(c.toClient) > 0 {
			b := c.toClient[0]
			c.toClient = c.toClient[1:]
			v.s.Receive(c, b)
		}
		for len(c.toRelay) > 0 {
			b := c.toRelay[0]
			c.toRelay = c.toRelay[1:]
			w.relay.handle(c, b)
		}
	}
	if v.s.Status() != StatusReady {
		t.Fatal("not ready")
	}
	if _, err := v.s.Erase(ids.ConvID{}); err != nil {
		t.Fatal(err)
	}
	if len(c.toRelay) != 1 {
		t.Fatalf("%d frames sent, want 1", len(c.toRelay))
	}
	_, f, err := protocol.Decode(c.toRelay[0])
	if err != nil {
		t.Fatal(err)
	}
	r, ok := f.(*protocol.Request)
	if !ok {
		t.Fatalf("sent %T", f)
	}
	if r.Op != protocol.OpErase || r.Conv != v.s.Conv() || r.Counter != 42 || len(r.Body) != 0 || !r.BodyHashValid() {
		t.Fatalf("request %+v", r)
	}
	if !protocol.VerifyRequest(id.SignKey(), w.site, c.nonce, r) {
		t.Fatal("signature does not verify")
	}
	var otherNonce [32]byte
	if protocol.VerifyRequest(id.SignKey(), w.site, otherNonce, r) {
		t.Fatal("signature verifies with another nonce")
	}
	var otherSite ids.SiteID
	if protocol.VerifyRequest(id.SignKey(), otherSite, c.nonce, r) {
		t.Fatal("signature verifies for another site")
	}
	if v.s.Counter() != 42 {
		t.Fatalf("counter %d", v.s.Counter())
	}
}

func TestEraseQueuedUntilReady(t *testing.T) {
	w := newRequestWorld(t)
	v := w.visitor(nil, State{})
	if _, err := v.s.Erase(ids.ConvID{}); err != nil {
		t.Fatal(err)
	}
	if v.s.Requests() != 1 || w.relay.requests != 0 {
		t.Fatal("request not queued")
	}
	v.connect(w.relay)
	pump(w.relay, v)
	if d := only[DoneEvent](v.take()); len(d) != 1 {
		t.Fatal("no Done after connecting")
	}
	if v.s.Requests() != 0 {
		t.Fatal("request still queued")
	}
}

func TestEraseAnswerLostThenGone(t *testing.T) {
	w := newRequestWorld(t)
	w.relay.dropDone = true
	id := newParty(t, "").id
	v := w.visitor(id, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	if _, err := v.s.Erase(ids.ConvID{}); err != nil {
		t.Fatal(err)
	}
	w.relay.noEcho = true
	// The Erased push to the own connection is lost too: drop the connection
	// after the relay carried out the request.
	for _, b := range v.conn.toRelay {
		w.relay.handle(v.conn, b)
	}
	v.conn.toRelay, v.conn.toClient = nil, nil
	v.conn.closed = true
	pump(w.relay, v)
	v.take()
	if v.s.Requests() != 1 {
		t.Fatal("request forgotten with the connection")
	}
	// The next Hello learns that the conversation is gone.
	v.connect(w.relay)
	pump(w.relay, v)
	evs := v.take()
	if er := only[ErasedEvent](evs); len(er) != 1 || er[0].Conv != v.s.Conv() {
		t.Fatalf("no ErasedEvent: %#v", evs)
	}
	if !v.s.Stopped() || lastStatus(t, evs) != StatusStopped {
		t.Fatal("visitor of an erased conversation not stopped")
	}
	if w.relay.requests != 1 {
		t.Fatalf("%d requests, want 1", w.relay.requests)
	}
}

func TestVisitorCorrect(t *testing.T) {
	w := newRequestWorld(t)
	id := newParty(t, "").id
	v := w.visitor(id, State{})
	ag := w.agent(0)
	v.connect(w.relay)
	ag.connect(w.relay)
	pump(w.relay, v, ag)
	sendAnswer(t, w, v, answer("email", "alt@example.com"))
	pump(w.relay, v, ag)
	v.take()
	ag.take()
	conv := v.s.Conv()

	evs, err := v.s.Correct(1, answer("email", "neu@example.com"), w.now.UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	v.evs = append(v.evs, evs...)
	pump(w.relay, v, ag)
	evs = v.take()
	if d := only[DoneEvent](evs); len(d) != 1 || d[0].Op != protocol.OpCorrect || d[0].Pos != 1 {
		t.Fatalf("visitor events: %#v", evs)
	}
	for name, got := range map[string][]Event{"visitor": evs, "agent": ag.take()} {
		rep := only[ReplacedEvent](got)
		if len(rep) != 1 || rep[0].Conv != conv || rep[0].Old != 1 || rep[0].New != 2 {
			t.Fatalf("%s: replaced %#v", name, got)
		}
		msgs := only[MessageEvent](got)
		if len(msgs) != 1 || msgs[0].Type != content.TypeCorrection || msgs[0].Pos != 2 {
			t.Fatalf("%s: messages %#v", name, msgs)
		}
		c, err := content.DecodeCorrection(msgs[0].Content)
		if err != nil || c.Pos != 1 || c.Answer.Value != "neu@example.com" || c.Answer.Variable != "email" {
			t.Fatalf("%s: correction %+v %v", name, c, err)
		}
	}
	if w.relay.convs[conv].envs[0] != nil {
		t.Fatal("original still stored")
	}
	// The sequence numbers go on after the correction.
	mustSend(t, v, "danke")
	pump(w.relay, v, ag)
	evs = v.take()
	if len(only[ErrorEvent](evs)) != 0 || len(only[AckEvent](evs)) != 1 {
		t.Fatalf("send after correction: %#v", evs)
	}
	// A new session (a reload) sees only the correction.
	v2 := w.visitor(id, v.s.State())
	v2.connect(w.relay)
	pump(w.relay, v2)
	var types []content.Type
	for _, m := range only[MessageEvent](v2.take()) {
		types = append(types, m.Type)
	}
	if len(types) != 2 || types[0] != content.TypeCorrection || types[1] != content.TypeText {
		t.Fatalf("replay after reload: %v", types)
	}
}

func TestCorrectionWaitsForOutbox(t *testing.T) {
	w := newRequestWorld(t)
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	sendAnswer(t, w, v, answer("email", "a@example.com"))
	v.conn.closed = true
	pump(w.relay, v)
	// Offline: a message, then a correction.
	mustSend(t, v, "eins")
	if _, err := v.s.Correct(1, answer("email", "b@example.com"), 5); err != nil {
		t.Fatal(err)
	}
	v.take()
	v.connect(w.relay)
	pump(w.relay, v)
	evs := v.take()
	if len(only[ErrorEvent](evs)) != 0 || len(only[DoneEvent](evs)) != 1 {
		t.Fatalf("events: %#v", evs)
	}
	cv := w.relay.convs[v.s.Conv()]
	if len(cv.envs) != 3 || cv.envs[0] != nil {
		t.Fatalf("stored %d envelopes (first nil: %v)", len(cv.envs), cv.envs[0] == nil)
	}
	if got := w.open(v.s.Conv(), v.s.me); len(got) != 2 || got[0] != "eins" {
		t.Fatalf("stored contents %q", got)
	}
}

func TestCorrectionRefused(t *testing.T) {
	w := newRequestWorld(t)
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	sendAnswer(t, w, v, answer("email", "a@example.com"))
	v.take()
	w.relay.requestCode = protocol.CodeRateLimited
	if _, err := v.s.Correct(1, answer("email", "b@example.com"), 5); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, v)
	evs := v.take()
	f := only[RequestFailedEvent](evs)
	if len(f) != 1 || f[0].Op != protocol.OpCorrect || f[0].Code != protocol.CodeRateLimited {
		t.Fatalf("events: %#v", evs)
	}
	if v.s.Status() != StatusReady {
		t.Fatal("a refused request ended the connection")
	}
	// The reserved sequence number was given back: the next message fits.
	mustSend(t, v, "weiter")
	pump(w.relay, v)
	if evs := v.take(); len(only[ErrorEvent](evs)) != 0 || len(only[AckEvent](evs)) != 1 {
		t.Fatalf("send after refusal: %#v", evs)
	}
	if w.relay.convs[v.s.Conv()].envs[0] == nil {
		t.Fatal("refused correction changed the store")
	}
}

func TestCorrectionAnswerLost(t *testing.T) {
	w := newRequestWorld(t)
	w.relay.dropDone = true
	w.relay.noEcho = true
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	sendAnswer(t, w, v, answer("email", "a@example.com"))
	if _, err := v.s.Correct(1, answer("email", "b@example.com"), 5); err != nil {
		t.Fatal(err)
	}
	// The relay carries it out; the connection drops before anything returns.
	for _, b := range v.conn.toRelay {
		w.relay.handle(v.conn, b)
	}
	v.conn.toRelay, v.conn.toClient = nil, nil
	v.conn.closed = true
	pump(w.relay, v)
	v.take()
	w.relay.noEcho = false
	v.connect(w.relay)
	pump(w.relay, v)
	evs := v.take()
	if d := only[DoneEvent](evs); len(d) != 1 || d[0].Pos != 1 {
		t.Fatalf("events: %#v", evs)
	}
	if w.relay.requests != 1 {
		t.Fatalf("correction sent %d times", w.relay.requests)
	}
	mustSend(t, v, "weiter")
	pump(w.relay, v)
	if evs := v.take(); len(only[ErrorEvent](evs)) != 0 {
		t.Fatalf("send after correction: %#v", evs)
	}
}

func TestCorrectArguments(t *testing.T) {
	w := newRequestWorld(t)
	v := w.visitor(nil, State{})
	bad := []struct {
		pos uint64
		a   content.Answer
	}{
		{0, answer("email", "x@example.com")},
		{1, content.Answer{Kind: content.InputChoice, Value: "Ja"}},
		{1, content.Answer{Kind: content.InputText, Value: "x"}}, // no variable
		{1, answer("email", "")},
		{1, answer("e-mail", "x")},
	}
	for _, b := range bad {
		if _, err := v.s.Correct(b.pos, b.a, 1); !errors.Is(err, ErrNotAnswer) {
			t.Errorf("Correct(%d, %+v) = %v", b.pos, b.a, err)
		}
	}
	if _, err := v.s.Correct(1, answer("email", "x@example.com"), -1); err == nil {
		t.Error("negative time accepted")
	}
	ag := w.agent(0)
	if _, err := ag.s.Correct(1, answer("email", "x@example.com"), 1); !errors.Is(err, ErrRole) {
		t.Errorf("agent Correct: %v", err)
	}
	for i := 0; i < MaxRequests; i++ {
		if _, err := v.s.Erase(ids.ConvID{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.s.Erase(ids.ConvID{}); !errors.Is(err, ErrBusy) {
		t.Fatalf("queue limit: %v", err)
	}
}

func TestAgentEraseForgetsConversation(t *testing.T) {
	w := newRequestWorld(t)
	v := w.visitor(nil, State{})
	ag := w.agent(0)
	other := w.agent(0) // the same agent on another page
	v.connect(w.relay)
	ag.connect(w.relay)
	other.connect(w.relay)
	mustSend(t, v, "Hallo")
	pump(w.relay, v, ag, other)
	conv := v.s.Conv()
	if err := ag.s.Fetch(conv); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, v, ag, other)
	if _, ok := ag.s.VisitorKey(conv); !ok {
		t.Fatal("visitor key not learnt")
	}
	v.take()
	ag.take()
	other.take()

	if _, err := ag.s.Erase(conv); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, v, ag, other)
	evs := ag.take()
	if d := only[DoneEvent](evs); len(d) != 1 || d[0].Conv != conv || d[0].Op != protocol.OpErase {
		t.Fatalf("agent events: %#v", evs)
	}
	if ag.s.Stopped() || ag.s.Status() != StatusReady {
		t.Fatal("agent session stopped")
	}
	if _, ok := ag.s.VisitorKey(conv); ok || ag.s.LastPos(conv) != 0 || ag.s.Synced(conv) {
		t.Fatal("agent session still holds the conversation")
	}
	if er := only[ErasedEvent](other.take()); len(er) != 1 || er[0].Conv != conv {
		t.Fatal("other agent page not told")
	}
	evs = v.take()
	if er := only[ErasedEvent](evs); len(er) != 1 || !v.s.Stopped() {
		t.Fatalf("visitor events: %#v", evs)
	}
	if _, err := ag.s.Reply(conv, "hallo?"); !errors.Is(err, ErrNotSynced) {
		t.Fatalf("reply to an erased conversation: %v", err)
	}
	// Erasing it again: the relay says gone, the session reports it as erased.
	if _, err := ag.s.Erase(conv); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, ag)
	evs = ag.take()
	if f := only[RequestFailedEvent](evs); len(f) != 1 || f[0].Code != protocol.CodeGone {
		t.Fatalf("second erase: %#v", evs)
	}
	if len(only[ErasedEvent](evs)) != 1 {
		t.Fatalf("second erase: %#v", evs)
	}
}

func TestReplayRefusedWithoutStoredCounter(t *testing.T) {
	w := newRequestWorld(t)
	v1, v2 := w.visitor(nil, State{}), w.visitor(nil, State{})
	ag := w.agent(0)
	for _, c := range []*client{v1, v2, ag} {
		c.connect(w.relay)
	}
	pump(w.relay, v1, v2, ag)
	if _, err := ag.s.Erase(v1.s.Conv()); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, v1, v2, ag)
	counter := ag.s.Counter()
	ag.take()

	// The same agent key on a fresh page that lost its counter, at the same
	// millisecond: the relay refuses the counter as a replay.
	fresh := w.agent(0)
	fresh.connect(w.relay)
	pump(w.relay, fresh)
	if _, err := fresh.s.Erase(v2.s.Conv()); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, fresh)
	if f := only[RequestFailedEvent](fresh.take()); len(f) != 1 || f[0].Code != protocol.CodeReplay {
		t.Fatalf("want a replay refusal, got %#v", f)
	}
	if w.relay.convs[v2.s.Conv()] == nil {
		t.Fatal("a refused request changed something")
	}
	// With the stored counter it goes through.
	s, err := New(w.cfg(protocol.RoleAgent, w.agents[0].id, State{Counter: counter}))
	if err != nil {
		t.Fatal(err)
	}
	kept := &client{s: s}
	kept.connect(w.relay)
	pump(w.relay, kept)
	if _, err := kept.s.Erase(v2.s.Conv()); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, kept)
	if d := only[DoneEvent](kept.take()); len(d) != 1 || kept.s.Counter() != counter+1 {
		t.Fatalf("done %v, counter %d", d, kept.s.Counter())
	}
}

func TestRequestFramesOnlyWhenExpected(t *testing.T) {
	w := newRequestWorld(t)
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	v.take()
	// A Done nobody asked for is a protocol error.
	evs := v.s.Receive(v.conn, protocol.Encode(7, &protocol.Done{Op: protocol.OpErase, Conv: v.s.Conv()}))
	if e := only[ErrorEvent](evs); len(e) != 1 || !errors.Is(e[0].Err, ErrProtocol) {
		t.Fatalf("unexpected Done: %#v", evs)
	}
	// An Erased or Replaced push for another conversation too.
	v.connect(w.relay)
	pump(w.relay, v)
	v.take()
	var other ids.ConvID
	other[0] = 1
	for _, f := range []protocol.Frame{&protocol.Erased{Conv: other}, &protocol.Replaced{Conv: other, OldPos: 1, NewPos: 2}} {
		evs := v.s.Receive(v.conn, protocol.Encode(0, f))
		if e := only[ErrorEvent](evs); len(e) != 1 || !errors.Is(e[0].Err, ErrProtocol) || v.s.Stopped() {
			t.Fatalf("%T for another conversation: %#v", f, evs)
		}
		v.connect(w.relay)
		pump(w.relay, v)
		v.take()
	}
	if v.s.Status() != StatusReady {
		t.Fatal("not ready")
	}
}

func TestSendWhileCorrectionInFlight(t *testing.T) {
	w := newRequestWorld(t)
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	sendAnswer(t, w, v, answer("email", "a@example.com"))
	v.take()
	if _, err := v.s.Correct(1, answer("email", "b@example.com"), 5); err != nil {
		t.Fatal(err)
	}
	mustSend(t, v, "gleich danach") // before the relay answered the correction
	pump(w.relay, v)
	evs := v.take()
	if len(only[ErrorEvent](evs)) != 0 || len(only[DoneEvent](evs)) != 1 || len(only[AckEvent](evs)) != 1 {
		t.Fatalf("events: %#v", evs)
	}
	if n := len(w.relay.convs[v.s.Conv()].envs); n != 3 {
		t.Fatalf("%d envelopes stored, want 3", n)
	}
}

// A replaced position is never delivered again; a Fetch (or a visitor's
// replay) that skips it still completes the conversation.
func TestReplacedPositionLeavesNoGap(t *testing.T) {
	w := newRequestWorld(t)
	id := newParty(t, "").id
	v := w.visitor(id, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	sendAnswer(t, w, v, answer("email", "a@example.com"))
	mustSend(t, v, "zwei")
	pump(w.relay, v)
	if _, err := v.s.Correct(1, answer("email", "b@example.com"), 5); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, v)
	if got := v.s.LastPos(v.s.Conv()); got != 3 {
		t.Fatalf("visitor cursor %d, want 3", got)
	}
	conv := v.s.Conv()
	ag := w.agent(0)
	ag.connect(w.relay)
	pump(w.relay, ag)
	if err := ag.s.Fetch(conv); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, ag)
	if !ag.s.Synced(conv) || ag.s.LastPos(conv) != 3 {
		t.Fatalf("agent: synced %v, cursor %d", ag.s.Synced(conv), ag.s.LastPos(conv))
	}
	if _, err := ag.s.Reply(conv, "Danke!"); err != nil {
		t.Fatalf("reply after a correction: %v", err)
	}
	// A reload replays from the start and ends at the same cursor.
	v2 := w.visitor(id, v.s.State())
	v2.connect(w.relay)
	pump(w.relay, v2)
	if got := v2.s.LastPos(conv); got != 4 {
		t.Fatalf("visitor cursor after reload %d, want 4", got)
	}
}

// An agent's erase answered by the Erased push before the Done: the Done is
// absorbed, the connection stays.
func TestErasedBeforeDone(t *testing.T) {
	w := newRequestWorld(t)
	v := w.visitor(nil, State{})
	ag := w.agent(0)
	v.connect(w.relay)
	ag.connect(w.relay)
	mustSend(t, v, "Hallo")
	pump(w.relay, v, ag)
	conv := v.s.Conv()
	ag.take()
	if _, err := ag.s.Erase(conv); err != nil {
		t.Fatal(err)
	}
	// Let the relay carry it out, then swap Done and Erased on the way back.
	for _, b := range ag.conn.toRelay {
		w.relay.handle(ag.conn, b)
	}
	ag.conn.toRelay = nil
	if len(ag.conn.toClient) != 2 {
		t.Fatalf("%d frames to the agent, want Done and Erased", len(ag.conn.toClient))
	}
	ag.conn.toClient[0], ag.conn.toClient[1] = ag.conn.toClient[1], ag.conn.toClient[0]
	pump(w.relay, v, ag)
	evs := ag.take()
	if len(only[ErasedEvent](evs)) != 1 || len(only[ErrorEvent](evs)) != 0 || ag.s.Status() != StatusReady {
		t.Fatalf("agent events: %#v", evs)
	}
	if ag.s.Requests() != 0 {
		t.Fatal("request still queued")
	}
}
