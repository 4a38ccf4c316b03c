package session

import (
	"crypto/rand"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/shared/roster"
)

func only[T Event](evs []Event) []T {
	var out []T
	for _, e := range evs {
		if v, ok := e.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

func lastStatus(t *testing.T, evs []Event) Status {
	t.Helper()
	st := only[StatusEvent](evs)
	if len(st) == 0 {
		t.Fatalf("no status event in %#v", evs)
	}
	return st[len(st)-1].Status
}

// texts returns the texts of the message events from the given side.
func texts(evs []Event, own bool) []string {
	var out []string
	for _, m := range only[MessageEvent](evs) {
		if m.Own == own && !m.Pending {
			out = append(out, m.Text)
		}
	}
	return out
}

// open decrypts every stored envelope of conv for id, failing on any error.
func (w *world) open(conv ids.ConvID, id *envelope.Identity) []string {
	w.t.Helper()
	var out []string
	for _, raw := range w.relay.convs[conv].envs {
		if raw == nil {
			continue
		}
		o, err := envelope.Open(raw, id, w.site, conv)
		if err != nil {
			w.t.Fatalf("open stored envelope: %v", err)
		}
		out = append(out, string(o.Content))
	}
	return out
}

func mustSend(t *testing.T, cl *client, text string) {
	t.Helper()
	evs, err := cl.s.Send(text)
	if err != nil {
		t.Fatalf("Send(%q): %v", text, err)
	}
	cl.evs = append(cl.evs, evs...)
}

func TestVisitorFirstMessage(t *testing.T) {
	w := newWorld(t, "Anna", "Ben")
	v := w.visitor(nil, State{})
	mustSend(t, v, "Hallo, ich habe eine Frage")
	evs := v.take()
	msgs := only[MessageEvent](evs)
	if len(msgs) != 1 || !msgs[0].Pending || !msgs[0].Own || msgs[0].Seq != 1 || msgs[0].From != FromVisitor {
		t.Fatalf("pending message: %#v", evs)
	}
	if w.relay.sends != 0 {
		t.Fatal("sent before connecting")
	}
	// Sealed before any roster was known: only the visitor can open it.
	st := v.s.State()
	e, err := envelope.Parse(st.Outbox[0])
	if err != nil || len(e.Recipients) != 1 || e.Recipients[0] != v.s.me.BoxKey() {
		t.Fatalf("offline envelope recipients: %v %v", e, err)
	}

	v.connect(w.relay)
	pump(w.relay, v)
	evs = v.take()
	if lastStatus(t, evs) != StatusReady {
		t.Fatalf("status: %#v", evs)
	}
	if r := only[RosterEvent](evs); len(r) != 1 || len(r[0].Roster.Agents) != 2 {
		t.Fatalf("roster events: %#v", r)
	}
	acks := only[AckEvent](evs)
	if len(acks) != 1 || acks[0].Seq != 1 || acks[0].Pos != 1 {
		t.Fatalf("acks: %#v", acks)
	}
	if got := v.s.State(); len(got.Outbox) != 0 || got.NextSeq != 2 || got.RosterVersion != 1 || len(got.Roster) == 0 {
		t.Fatalf("state after ack: %+v", got)
	}
	// Resealed to the agents and the visitor; everyone can read it.
	conv := v.s.Conv()
	for _, p := range append([]party{{id: v.s.me}}, w.agents...) {
		if got := w.open(conv, p.id); len(got) != 1 || got[0] != "Hallo, ich habe eine Frage" {
			t.Fatalf("stored: %q", got)
		}
	}
	e, _ = envelope.Parse(w.relay.convs[conv].envs[0])
	if len(e.Recipients) != 3 {
		t.Fatalf("recipients: %d", len(e.Recipients))
	}
}

func TestConversationWithAgent(t *testing.T) {
	w := newWorld(t, "Anna")
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	mustSend(t, v, "Wo ist meine Bestellung?")
	pump(w.relay, v)
	v.take()

	a := w.agent(0)
	a.connect(w.relay)
	pump(w.relay, a, v)
	if lastStatus(t, a.take()) != StatusReady {
		t.Fatal("agent not ready")
	}
	conv := v.s.Conv()
	if _, err := a.s.Reply(conv, "zu früh"); !errors.Is(err, ErrNotSynced) {
		t.Fatalf("reply before fetch: %v", err)
	}
	if err := a.s.List(); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, a, v)
	lists := only[ConversationsEvent](a.take())
	if len(lists) != 1 || len(lists[0].Entries) != 1 || lists[0].Entries[0].Conv != conv || lists[0].Entries[0].LastPos != 1 {
		t.Fatalf("list: %#v", lists)
	}
	if err := a.s.Fetch(conv); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, a, v)
	evs := a.take()
	msgs := only[MessageEvent](evs)
	if len(msgs) != 1 || msgs[0].From != FromVisitor || msgs[0].Own || msgs[0].Text != "Wo ist meine Bestellung?" || msgs[0].Pos != 1 {
		t.Fatalf("agent got: %#v", evs)
	}
	if f := only[FetchedEvent](evs); len(f) != 1 || f[0].LastPos != 1 || !a.s.Synced(conv) {
		t.Fatalf("fetched: %#v", f)
	}
	if k, ok := a.s.VisitorKey(conv); !ok || k != v.s.me.BoxKey() {
		t.Fatal("visitor box key not learnt")
	}

	evs, err := a.s.Reply(conv, "Sie ist unterwegs.")
	if err != nil {
		t.Fatal(err)
	}
	if m := only[MessageEvent](evs); len(m) != 1 || !m[0].Pending || m[0].From != FromAgent || m[0].Seq != 1 {
		t.Fatalf("reply event: %#v", evs)
	}
	pump(w.relay, a, v)
	if acks := only[AckEvent](a.take()); len(acks) != 1 || acks[0].Pos != 2 {
		t.Fatalf("agent acks: %#v", acks)
	}
	msgs = only[MessageEvent](v.take())
	if len(msgs) != 1 || msgs[0].From != FromAgent || msgs[0].Agent.Name != "Anna" || msgs[0].Text != "Sie ist unterwegs." || msgs[0].Pos != 2 {
		t.Fatalf("visitor got: %#v", msgs)
	}
	if err := a.s.MarkDelivered(conv, 2); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, a, v)
	if r := only[ReceiptEvent](v.take()); len(r) != 1 || r[0].Pos != 2 {
		t.Fatalf("receipt: %#v", r)
	}
	// The agent's second reply continues its own sequence.
	if _, err := a.s.Reply(conv, "Noch etwas?"); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, a, v)
	if acks := only[AckEvent](a.take()); len(acks) != 1 || acks[0].Seq != 2 || acks[0].Pos != 3 {
		t.Fatalf("second reply: %#v", acks)
	}
	if got := w.open(conv, v.s.me); !slices.Equal(got, []string{"Wo ist meine Bestellung?", "Sie ist unterwegs.", "Noch etwas?"}) {
		t.Fatalf("transcript: %q", got)
	}
}

func TestReloadShowsWholeConversation(t *testing.T) {
	w := newWorld(t, "Anna")
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	mustSend(t, v, "eins")
	mustSend(t, v, "zwei")
	pump(w.relay, v)
	a := w.agent(0)
	a.connect(w.relay)
	pump(w.relay, a, v)
	a.s.Fetch(v.s.Conv())
	pump(w.relay, a, v)
	a.s.Reply(v.s.Conv(), "drei")
	pump(w.relay, a, v)
	a.s.MarkDelivered(v.s.Conv(), 3)
	pump(w.relay, a, v)
	st := v.s.State()
	if st.LastPos != 3 || st.NextSeq != 3 || len(st.Outbox) != 0 {
		t.Fatalf("state: %+v", st)
	}

	// A reload: a new session with the same keys and state, since = 0.
	v.conn.Close()
	pump(w.relay, v)
	v2 := w.visitor(v.s.me, st)
	v2.connect(w.relay)
	pump(w.relay, v2)
	evs := v2.take()
	msgs := only[MessageEvent](evs)
	if len(msgs) != 3 {
		t.Fatalf("history: %#v", msgs)
	}
	want := []struct {
		text string
		own  bool
	}{{"eins", true}, {"zwei", true}, {"drei", false}}
	for i, m := range msgs {
		if m.Text != want[i].text || m.Own != want[i].own || m.Pos != uint64(i+1) || !m.Seen {
			t.Fatalf("history[%d]: %#v", i, m)
		}
	}
	if r := only[ReceiptEvent](evs); len(r) != 1 || r[0].Pos != 3 {
		t.Fatalf("receipt from welcome: %#v", r)
	}
	if f := only[FetchedEvent](evs); len(f) != 1 || f[0].LastPos != 3 {
		t.Fatalf("fetched: %#v", f)
	}
	mustSend(t, v2, "vier")
	pump(w.relay, v2)
	if acks := only[AckEvent](v2.take()); len(acks) != 1 || acks[0].Seq != 3 || acks[0].Pos != 4 {
		t.Fatalf("ack after reload: %#v", acks)
	}
	// Reconnecting within the page asks only for what is new.
	v2.conn.Close()
	pump(w.relay, v2)
	v2.take()
	v2.connect(w.relay)
	pump(w.relay, v2)
	if m := only[MessageEvent](v2.take()); len(m) != 0 {
		t.Fatalf("repeated history after reconnect: %#v", m)
	}
}

func TestOutboxSurvivesReloadAndResends(t *testing.T) {
	w := newWorld(t, "Anna")
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	st0 := v.s.State()
	// Offline: the relay is gone; three messages wait.
	v.conn.Close()
	pump(w.relay, v)
	for _, s := range []string{"a", "b", "c"} {
		mustSend(t, v, s)
	}
	st := v.s.State()
	if len(st.Outbox) != 3 || st.NextSeq != 4 {
		t.Fatalf("state: %+v", st)
	}
	// Sealed with the cached verified roster: already for the agent too.
	e, _ := envelope.Parse(st.Outbox[0])
	if len(e.Recipients) != 2 || len(st0.Roster) == 0 {
		t.Fatalf("offline sealing with cached roster: %d recipients", len(e.Recipients))
	}

	v2 := w.visitor(v.s.me, st)
	q := only[MessageEvent](v2.s.Queued())
	if len(q) != 3 || q[0].Text != "a" || q[2].Text != "c" || !q[1].Pending || q[1].Seq != 2 {
		t.Fatalf("queued: %#v", q)
	}
	v2.connect(w.relay)
	pump(w.relay, v2)
	acks := only[AckEvent](v2.take())
	if len(acks) != 3 || acks[0].Seq != 1 || acks[2].Seq != 3 || acks[2].Pos != 3 {
		t.Fatalf("acks: %#v", acks)
	}
	if got := w.open(v.s.Conv(), w.agents[0].id); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("stored: %q", got)
	}
}

func TestLostAcksAndPartialSends(t *testing.T) {
	w := newWorld(t, "Anna")
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	v.take()

	// The relay commits but the acks never arrive.
	w.relay.dropAcks = true
	w.relay.noEcho = true
	mustSend(t, v, "one")
	mustSend(t, v, "two")
	pump(w.relay, v)
	if len(v.s.State().Outbox) != 2 {
		t.Fatal("outbox emptied without ack")
	}
	// Then the connection breaks after one more message reached the relay.
	mustSend(t, v, "three")
	w.relay.conns[len(w.relay.conns)-1].toRelay = nil // lost in transit
	v.conn.Close()
	pump(w.relay, v)
	v.take()

	w.relay.dropAcks = false
	v.connect(w.relay)
	pump(w.relay, v)
	evs := v.take()
	acks := only[AckEvent](evs)
	// one and two were committed (Welcome acked seq 2): dropped with Pos 0;
	// three is resent and acknowledged.
	if len(acks) != 3 || acks[0] != (AckEvent{Conv: v.s.Conv(), Seq: 1}) || acks[1].Seq != 2 || acks[2].Seq != 3 || acks[2].Pos != 3 {
		t.Fatalf("acks: %#v", acks)
	}
	if got := w.open(v.s.Conv(), v.s.me); !slices.Equal(got, []string{"one", "two", "three"}) {
		t.Fatalf("stored: %q (duplicates or loss)", got)
	}
	if len(v.s.State().Outbox) != 0 {
		t.Fatal("outbox not empty")
	}
}

func TestResendIdenticalBytesIsAcked(t *testing.T) {
	w := newWorld(t, "Anna")
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	mustSend(t, v, "once")
	// The connection drops while the Send is still in flight.
	old := v.conn
	held := old.toRelay
	old.toRelay = nil
	old.Close()
	pump(w.relay, v)
	v.take()
	// The relay answers the new Hello (acked seq 0) and only then commits the
	// frame that was in flight; the session resends identical bytes.
	v.connect(w.relay)
	ch := v.conn.toClient[0]
	v.conn.toClient = nil
	v.s.Receive(v.conn, ch) // Hello
	w.relay.handle(v.conn, v.conn.toRelay[0])
	v.conn.toRelay = nil // the Welcome (acked seq 0) now waits for the client
	for _, b := range held {
		w.relay.handle(old, b)
	}
	pump(w.relay, v)
	acks := only[AckEvent](v.take())
	if len(acks) != 1 || acks[0].Seq != 1 || acks[0].Pos != 1 {
		t.Fatalf("acks %#v", acks)
	}
	if n := len(w.relay.convs[v.s.Conv()].envs); n != 1 || w.relay.sends != 2 {
		t.Fatalf("stored %d envelopes from %d sends", n, w.relay.sends)
	}
	if len(v.s.State().Outbox) != 0 {
		t.Fatal("outbox not emptied")
	}
}

func TestRosterFailuresStopTheSession(t *testing.T) {
	cases := []struct {
		name string
		prep func(w *world) State
		want error
	}{
		{"wrong owner", func(w *world) State {
			w.fp[0] ^= 1
			return State{}
		}, roster.ErrWrongOwner},
		{"rollback", func(w *world) State { return State{RosterVersion: 5} }, roster.ErrRollback},
		{"expired", func(w *world) State {
			w.now = w.now.Add(48 * 3600e9)
			return State{}
		}, roster.ErrExpired},
		{"other site", func(w *world) State {
			other := *w
			other.site[0] ^= 1
			w.relay.roster = other.roster(1, w.agents...)
			return State{}
		}, roster.ErrWrongSite},
		{"garbage", func(w *world) State {
			w.relay.roster = []byte{1, 2, 3}
			return State{}
		}, roster.ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, "Anna")
			st := c.prep(w)
			v := w.visitor(nil, st)
			mustSend(t, v, "geheim")
			v.connect(w.relay)
			pump(w.relay, v)
			evs := v.take()
			re := only[RosterErrorEvent](evs)
			if len(re) != 1 || !errors.Is(re[0].Err, c.want) {
				t.Fatalf("roster error: %#v, want %v", evs, c.want)
			}
			if lastStatus(t, evs) != StatusStopped || !v.s.Stopped() || !v.conn.closed {
				t.Fatalf("not stopped: %#v", evs)
			}
			if w.relay.sends != 0 || len(w.relay.convs[v.s.Conv()].envs) != 0 {
				t.Fatal("something was sent after a roster failure")
			}
			if _, err := v.s.Send("noch was"); !errors.Is(err, ErrStopped) {
				t.Fatalf("send after stop: %v", err)
			}
			// A stopped session refuses new connections.
			c2 := w.relay.dial()
			if v.s.Connect(c2) != nil || !c2.closed {
				t.Fatal("stopped session accepted a connection")
			}
			if v.s.Status() != StatusStopped {
				t.Fatal("status")
			}
		})
	}
}

func TestNewerRosterReseals(t *testing.T) {
	w := newWorld(t, "Anna")
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	v.conn.Close()
	pump(w.relay, v)
	mustSend(t, v, "für alle")
	st := v.s.State()

	// The owner adds Ben (version 2) and removes nobody.
	ben := newParty(t, "Ben")
	w.agents = append(w.agents, ben)
	w.relay.roster = w.roster(2, w.agents...)
	v2 := w.visitor(v.s.me, st)
	v2.connect(w.relay)
	pump(w.relay, v2)
	if got := w.open(v.s.Conv(), ben.id); !slices.Equal(got, []string{"für alle"}) {
		t.Fatalf("Ben reads %q", got)
	}
	if got := v2.s.State().RosterVersion; got != 2 {
		t.Fatalf("roster version %d", got)
	}
	// Going back to version 1 is refused now.
	w.relay.roster = w.roster(1, w.agents[0])
	v2.conn.Close()
	pump(w.relay, v2)
	v2.take()
	v2.connect(w.relay)
	pump(w.relay, v2)
	if re := only[RosterErrorEvent](v2.take()); len(re) != 1 || !errors.Is(re[0].Err, roster.ErrRollback) {
		t.Fatalf("rollback accepted: %#v", re)
	}
}

func TestRemovedAgentNoLongerReads(t *testing.T) {
	w := newWorld(t, "Anna", "Ben")
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	v.conn.Close()
	pump(w.relay, v)
	mustSend(t, v, "nur für Anna")
	w.relay.roster = w.roster(2, w.agents[0])
	v.connect(w.relay)
	pump(w.relay, v)
	raw := w.relay.convs[v.s.Conv()].envs[0]
	if _, err := envelope.Open(raw, w.agents[1].id, w.site, v.s.Conv()); !errors.Is(err, envelope.ErrNotRecipient) {
		t.Fatalf("removed agent: %v", err)
	}
}

func TestDuplicatesAndUnknownSenders(t *testing.T) {
	w := newWorld(t, "Anna")
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	v.take()
	conv := v.s.Conv()
	a := w.agents[0]
	seal := func(from *envelope.Identity, seq uint64, text string) []byte {
		raw, err := envelope.Seal(rand.Reader, from, []ids.Key{v.s.me.BoxKey(), a.id.BoxKey()},
			envelope.Message{Site: w.site, Conv: conv, Seq: seq, Type: envelope.ContentText, Time: 1, Content: []byte(text)})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	raw := seal(a.id, 1, "hallo")
	push := func(pos uint64, raw []byte) []Event {
		return v.s.Receive(v.conn, protocol.Encode(0, &protocol.Deliver{Conv: conv, Pos: pos, Envelope: raw}))
	}
	if m := only[MessageEvent](push(1, raw)); len(m) != 1 || m[0].Agent.Name != "Anna" {
		t.Fatalf("first: %#v", m)
	}
	if evs := push(1, raw); len(evs) != 0 {
		t.Fatalf("same position again: %#v", evs)
	}
	if r := only[RejectedEvent](push(2, raw)); len(r) != 1 || !errors.Is(r[0].Err, envelope.ErrDuplicate) {
		t.Fatalf("replayed envelope: %#v", r)
	}
	stranger := newParty(t, "x")
	if r := only[RejectedEvent](push(3, seal(stranger.id, 1, "böse"))); len(r) != 1 || !errors.Is(r[0].Err, ErrUnknownSender) {
		t.Fatalf("stranger: %#v", r)
	}
	if r := only[RejectedEvent](push(4, []byte{1, 2, 3})); len(r) != 1 || !errors.Is(r[0].Err, envelope.ErrMalformed) {
		t.Fatalf("garbage: %#v", r)
	}
	// Out of order positions: 6 before 5, then 5; both shown once.
	if m := only[MessageEvent](push(6, seal(a.id, 3, "sechs"))); len(m) != 1 {
		t.Fatal("pos 6")
	}
	if m := only[MessageEvent](push(5, seal(a.id, 2, "fünf"))); len(m) != 1 {
		t.Fatal("pos 5")
	}
	if evs := push(6, seal(a.id, 4, "sechs bis")); len(evs) != 0 {
		t.Fatal("pos 6 twice")
	}
	if v.s.LastPos(conv) != 6 || v.s.State().LastPos != 6 {
		t.Fatalf("cursor %d", v.s.LastPos(conv))
	}
	// A Deliver for another conversation is a protocol error.
	var other ids.ConvID
	evs := v.s.Receive(v.conn, protocol.Encode(0, &protocol.Deliver{Conv: other, Pos: 7, Envelope: raw}))
	if lastStatus(t, evs) != StatusOffline || !v.conn.closed || v.s.Stopped() {
		t.Fatalf("foreign conversation: %#v", evs)
	}
}

func TestSequenceErrorResynchronises(t *testing.T) {
	w := newWorld(t, "Anna")
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	refused := false
	w.relay.refuse = func(c *fakeConn, e *envelope.Envelope) protocol.ErrorCode {
		if !refused {
			refused = true
			return protocol.CodeSequence
		}
		return 0
	}
	mustSend(t, v, "x")
	pump(w.relay, v)
	evs := v.take()
	if e := only[ErrorEvent](evs); len(e) != 1 || e[0].Code != protocol.CodeSequence || e[0].Fatal {
		t.Fatalf("error: %#v", evs)
	}
	if lastStatus(t, evs) != StatusOffline || len(v.s.State().Outbox) != 1 {
		t.Fatal("expected offline with the message kept")
	}
	v.connect(w.relay)
	pump(w.relay, v)
	if acks := only[AckEvent](v.take()); len(acks) != 1 || acks[0].Seq != 1 {
		t.Fatalf("acks: %#v", acks)
	}
}

func TestPermanentRefusalRenumbers(t *testing.T) {
	w := newWorld(t, "Anna")
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	v.take()
	w.relay.refuse = func(c *fakeConn, e *envelope.Envelope) protocol.ErrorCode {
		if e.Seq == 1 && w.relay.sends == 1 {
			return protocol.CodeLimit
		}
		return 0
	}
	mustSend(t, v, "first")
	mustSend(t, v, "second")
	pump(w.relay, v)
	evs := v.take()
	f := only[SendFailedEvent](evs)
	if len(f) != 1 || f[0].Seq != 1 || f[0].Code != protocol.CodeLimit || f[0].Text != "first" {
		t.Fatalf("send failed: %#v", evs)
	}
	v.connect(w.relay)
	pump(w.relay, v)
	evs = v.take()
	if sc := only[SeqChangedEvent](evs); len(sc) != 1 || sc[0].Old != 2 || sc[0].New != 1 {
		t.Fatalf("renumber: %#v", evs)
	}
	if acks := only[AckEvent](evs); len(acks) != 1 || acks[0].Seq != 1 {
		t.Fatalf("acks: %#v", acks)
	}
	if got := w.open(v.s.Conv(), v.s.me); !slices.Equal(got, []string{"second"}) {
		t.Fatalf("stored %q", got)
	}
	if v.s.State().NextSeq != 2 {
		t.Fatal("next seq")
	}
}

func TestFatalHelloErrors(t *testing.T) {
	w := newWorld(t, "Anna")
	w.relay.unknownSite = true
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	evs := v.take()
	e := only[ErrorEvent](evs)
	if len(e) != 1 || e[0].Code != protocol.CodeUnknownSite || !e[0].Fatal || !v.s.Stopped() {
		t.Fatalf("unknown site: %#v", evs)
	}

	// An agent key that is not in the roster.
	w2 := newWorld(t, "Anna")
	outsider := newParty(t, "Eve")
	s, _ := New(w2.cfg(protocol.RoleAgent, outsider.id, State{}))
	a := &client{s: s}
	a.connect(w2.relay)
	pump(w2.relay, a)
	if e := only[ErrorEvent](a.take()); len(e) != 1 || e[0].Code != protocol.CodeForbidden || !s.Stopped() {
		t.Fatalf("forbidden agent: %#v", e)
	}
}

func TestProtocolErrorsFromRelay(t *testing.T) {
	w := newWorld(t, "Anna")
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	// Garbage instead of a challenge.
	evs := v.s.Receive(v.conn, []byte{1, 99, 0, 0, 0, 0})
	if e := only[ErrorEvent](evs); len(e) != 1 || e[0].Err == nil || !v.conn.closed || lastStatus(t, evs) != StatusOffline {
		t.Fatalf("garbage: %#v", evs)
	}
	// A Welcome before the Hello.
	v.connect(w.relay)
	evs = v.s.Receive(v.conn, protocol.Encode(0, &protocol.Welcome{Conv: v.s.Conv(), Roster: w.relay.roster}))
	if e := only[ErrorEvent](evs); len(e) != 1 || !errors.Is(e[0].Err, ErrProtocol) {
		t.Fatalf("early welcome: %#v", evs)
	}
	// A Welcome for another conversation.
	v.connect(w.relay)
	v.conn.toClient = nil
	v.s.Receive(v.conn, protocol.Encode(0, &protocol.Challenge{}))
	evs = v.s.Receive(v.conn, protocol.Encode(1, &protocol.Welcome{Roster: w.relay.roster}))
	if e := only[ErrorEvent](evs); len(e) != 1 || !errors.Is(e[0].Err, ErrProtocol) || v.s.Stopped() {
		t.Fatalf("foreign welcome: %#v", evs)
	}
	// Frames from a transport that is no longer current are ignored.
	old := v.conn
	v.connect(w.relay)
	if evs := v.s.Receive(old, protocol.Encode(0, &protocol.Challenge{})); evs != nil {
		t.Fatalf("stale transport: %#v", evs)
	}
	if evs := v.s.Disconnected(old); evs != nil {
		t.Fatalf("stale close: %#v", evs)
	}
	pump(w.relay, v)
	if v.s.Status() != StatusReady {
		t.Fatal("not ready after all")
	}
}

func TestTextChecks(t *testing.T) {
	w := newWorld(t, "Anna")
	v := w.visitor(nil, State{})
	for _, c := range []struct {
		text string
		want error
	}{
		{"", ErrEmpty},
		{strings.Repeat("x", MaxText+1), ErrTooLong},
		{"\xff", ErrInvalidText},
	} {
		if _, err := v.s.Send(c.text); !errors.Is(err, c.want) {
			t.Errorf("Send(%.10q) = %v, want %v", c.text, err, c.want)
		}
	}
	if _, err := v.s.Send(strings.Repeat("ü", MaxText/2)); err != nil {
		t.Fatalf("longest text: %v", err)
	}
	for i := 1; i < MaxOutbox; i++ {
		if _, err := v.s.Send("m" + strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.s.Send("one too many"); !errors.Is(err, ErrOutboxFull) {
		t.Fatalf("full outbox: %v", err)
	}
	if _, err := v.s.Reply(v.s.Conv(), "x"); !errors.Is(err, ErrRole) {
		t.Fatalf("visitor reply: %v", err)
	}
	if err := v.s.List(); !errors.Is(err, ErrRole) {
		t.Fatalf("visitor list: %v", err)
	}
	a := w.agent(0)
	if _, err := a.s.Send("x"); !errors.Is(err, ErrRole) {
		t.Fatalf("agent send: %v", err)
	}
	if err := a.s.Fetch(v.s.Conv()); !errors.Is(err, ErrNotReady) {
		t.Fatalf("fetch offline: %v", err)
	}
}

func TestNewValidatesState(t *testing.T) {
	w := newWorld(t, "Anna")
	v := w.visitor(nil, State{})
	mustSend(t, v, "a")
	mustSend(t, v, "b")
	st := v.s.State()
	good := w.cfg(protocol.RoleVisitor, v.s.me, st)
	if _, err := New(good); err != nil {
		t.Fatalf("good state: %v", err)
	}
	bad := func(name string, f func(c *Config)) {
		c := good
		c.State.Outbox = slices.Clone(st.Outbox)
		f(&c)
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad("no identity", func(c *Config) { c.Identity = nil })
	bad("no rand", func(c *Config) { c.Rand = nil })
	bad("role", func(c *Config) { c.Role = 9 })
	bad("gap", func(c *Config) { c.State.Outbox = c.State.Outbox[1:]; c.State.NextSeq = 2 })
	bad("next seq", func(c *Config) { c.State.NextSeq = 5 })
	bad("short next seq", func(c *Config) { c.State.NextSeq = 2 })
	bad("order", func(c *Config) { c.State.Outbox[0], c.State.Outbox[1] = c.State.Outbox[1], c.State.Outbox[0] })
	bad("garbage", func(c *Config) { c.State.Outbox[0] = []byte("x") })
	bad("other identity", func(c *Config) { c.Identity = newParty(t, "").id })
	bad("agent outbox", func(c *Config) { c.Role = protocol.RoleAgent })
	// A cached roster that no longer verifies is ignored, not fatal.
	c := good
	c.State.Roster = []byte("junk")
	if s, err := New(c); err != nil || s.Roster() != nil {
		t.Fatalf("junk cached roster: %v", err)
	}
}

func TestAgentEdgeCases(t *testing.T) {
	w := newWorld(t, "Anna")
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	conv := v.s.Conv()
	a := w.agent(0)
	a.connect(w.relay)
	pump(w.relay, a, v)
	a.s.Fetch(conv)
	pump(w.relay, a, v)
	if _, err := a.s.Reply(conv, "hallo?"); !errors.Is(err, ErrNoVisitorKey) {
		t.Fatalf("reply without visitor key: %v", err)
	}
	mustSend(t, v, "Hallo")
	pump(w.relay, a, v)
	a.take()
	if _, err := a.s.Reply(conv, "Hallo zurück"); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, a, v)
	a.take()

	// The same agent on a second device writes in the meantime.
	a2 := w.agent(0)
	a2.connect(w.relay)
	pump(w.relay, a2)
	a2.s.Fetch(conv)
	pump(w.relay, a2)
	if _, err := a2.s.Reply(conv, "vom Tablet"); err != nil {
		t.Fatal(err)
	}
	// a is offline while a2 sends, so it does not learn about seq 2.
	a.conn.Close()
	pump(w.relay, a, a2, v)
	a.take()
	a.connect(w.relay)
	pump(w.relay, a, v)
	if _, err := a.s.Reply(conv, "vom PC"); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, a, v)
	evs := a.take()
	if e := only[ErrorEvent](evs); len(e) != 1 || e[0].Code != protocol.CodeSequence {
		t.Fatalf("expected a sequence error: %#v", evs)
	}
	if a.s.Synced(conv) {
		t.Fatal("still synced after a sequence error")
	}
	a.connect(w.relay)
	pump(w.relay, a, v)
	if w.relay.sends != 4 {
		t.Fatalf("resent before refetching: %d sends", w.relay.sends)
	}
	a.s.Fetch(conv)
	pump(w.relay, a, v)
	evs = a.take()
	if sc := only[SeqChangedEvent](evs); len(sc) != 1 || sc[0].Old != 2 || sc[0].New != 3 {
		t.Fatalf("renumber: %#v", evs)
	}
	if acks := only[AckEvent](evs); len(acks) != 1 || acks[0].Seq != 3 {
		t.Fatalf("acks: %#v", evs)
	}
	want := []string{"Hallo", "Hallo zurück", "vom Tablet", "vom PC"}
	if got := w.open(conv, v.s.me); !slices.Equal(got, want) {
		t.Fatalf("transcript %q", got)
	}
	// The agent's own echo after the fetch shows as own, once.
	own := 0
	for _, m := range only[MessageEvent](evs) {
		if m.Own {
			own++
		}
	}
	if own != 2 { // "vom Tablet" is own (same key) when fetched; "vom PC" echo
		t.Fatalf("own messages: %#v", only[MessageEvent](evs))
	}
}

func TestLiveDeliverBeforeFetch(t *testing.T) {
	w := newWorld(t, "Anna")
	a := w.agent(0)
	a.connect(w.relay)
	pump(w.relay, a)
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	mustSend(t, v, "eins")
	pump(w.relay, a, v)
	mustSend(t, v, "zwei")
	pump(w.relay, a, v)
	conv := v.s.Conv()
	if got := texts(a.take(), false); !slices.Equal(got, []string{"eins", "zwei"}) {
		t.Fatalf("live: %q", got)
	}
	if a.s.Synced(conv) || a.s.LastPos(conv) != 2 {
		t.Fatal("synced without a fetch")
	}
	a.s.Fetch(conv)
	pump(w.relay, a, v)
	evs := a.take()
	if len(only[MessageEvent](evs)) != 0 || !a.s.Synced(conv) {
		t.Fatalf("fetch repeated messages: %#v", evs)
	}
}

func TestConcurrentUse(t *testing.T) {
	w := newWorld(t, "Anna")
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	pump(w.relay, v)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				if _, err := v.s.Send("g" + strconv.Itoa(g) + "-" + strconv.Itoa(i)); err != nil {
					t.Error(err)
				}
				v.s.State()
				v.s.Queued()
				v.s.Status()
			}
		}()
	}
	wg.Wait()
	pump(w.relay, v)
	if n := len(w.relay.convs[v.s.Conv()].envs); n != 20 {
		t.Fatalf("stored %d", n)
	}
	if st := v.s.State(); len(st.Outbox) != 0 || st.NextSeq != 21 {
		t.Fatalf("state %+v", st)
	}
}

func TestPosSet(t *testing.T) {
	var p posSet
	for _, x := range []uint64{2, 5, 1, 3} {
		if p.has(x) {
			t.Fatalf("has %d before add", x)
		}
		p.add(x)
	}
	if p.upTo != 3 || !p.has(5) || p.has(4) || !p.has(0) {
		t.Fatalf("posSet %+v", p)
	}
	p.add(4)
	if p.upTo != 5 || len(p.above) != 0 {
		t.Fatalf("posSet %+v", p)
	}
}

func TestEventsCarryOwnText(t *testing.T) {
	// Queued messages of a restored state open with the visitor's own key only
	// (they were sealed before any roster was known).
	w := newWorld(t, "Anna")
	v := w.visitor(nil, State{})
	mustSend(t, v, "vor der Verbindung")
	v2 := w.visitor(v.s.me, v.s.State())
	q := only[MessageEvent](v2.s.Queued())
	if len(q) != 1 || q[0].Text != "vor der Verbindung" || q[0].Sender != v.s.me.SignKey() {
		t.Fatalf("queued %#v", q)
	}
}
