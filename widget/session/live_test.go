package session

import (
	"errors"
	"testing"

	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/shared/roster"
)

// live handles the frames of docs/PROTOCOL.md §6.7 in the fake relay.
func (r *fakeRelay) live(c *fakeConn, reqID uint32, f protocol.Frame) bool {
	agent := c.hello.Role == protocol.RoleAgent
	if r.states == nil {
		r.states = map[ids.ConvID]protocol.ConvStateFrame{}
	}
	setState := func(conv ids.ConvID, st protocol.ConvState, key ids.Key) {
		fr := protocol.ConvStateFrame{Conv: conv, State: st, Agent: key}
		r.states[conv] = fr
		c.push(reqID, &fr)
		for _, s := range r.subscribers(conv) {
			if s != c {
				s.push(0, &fr)
			}
		}
	}
	switch f := f.(type) {
	case *protocol.Typing:
		r.typings++
		if !agent && f.Conv != c.conv {
			c.fail(reqID, protocol.CodeForbidden)
			return true
		}
		for _, s := range r.subscribers(f.Conv) {
			if s != c {
				s.push(0, &protocol.TypingPush{Conv: f.Conv, Key: c.hello.SignKey, On: f.On})
			}
		}
	case *protocol.WantPerson:
		r.wantPeople++
		if agent || f.Conv != c.conv {
			c.fail(reqID, protocol.CodeForbidden)
			return true
		}
		if r.wantCode != 0 {
			c.fail(reqID, r.wantCode)
			return true
		}
		setState(f.Conv, protocol.StateWaiting, ids.Key{})
	case *protocol.Takeover:
		if !agent || r.convs[f.Conv] == nil {
			c.fail(reqID, protocol.CodeForbidden)
			return true
		}
		setState(f.Conv, protocol.StateLive, c.hello.SignKey)
	case *protocol.Close:
		if !agent || r.convs[f.Conv] == nil {
			c.fail(reqID, protocol.CodeForbidden)
			return true
		}
		setState(f.Conv, protocol.StateClosed, ids.Key{})
	default:
		return false
	}
	return true
}

func hasReq(s *Session, k reqKind) bool {
	for _, r := range s.reqs {
		if r.kind == k {
			return true
		}
	}
	return false
}

// pushAll sends f to every connection that completed its hello.
func (r *fakeRelay) pushAll(f protocol.Frame) {
	for _, c := range r.conns {
		if !c.closed && c.hello != nil {
			c.push(0, f)
		}
	}
}

// liveWorld is a world with a connected visitor and two connected agents that
// have fetched the visitor's conversation.
func liveWorld(t *testing.T) (*world, *client, *client, *client) {
	t.Helper()
	w := newWorld(t, "Anna", "Ben")
	v := w.visitor(nil, State{})
	v.connect(w.relay)
	mustSend(t, v, "Hallo")
	a, b := w.agent(0), w.agent(1)
	a.connect(w.relay)
	b.connect(w.relay)
	pump(w.relay, v, a, b)
	for _, ag := range []*client{a, b} {
		if err := ag.s.Fetch(v.s.Conv()); err != nil {
			t.Fatal(err)
		}
	}
	pump(w.relay, v, a, b)
	v.take()
	a.take()
	b.take()
	return w, v, a, b
}

func TestWantPersonTakeoverClose(t *testing.T) {
	w, v, a, b := liveWorld(t)
	conv := v.s.Conv()
	if err := v.s.WantPerson(); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, v, a, b)
	for name, cl := range map[string]*client{"visitor": v, "anna": a, "ben": b} {
		cs := only[ConvStateEvent](cl.take())
		if len(cs) != 1 || cs[0].Conv != conv || cs[0].State != StateWaiting || cs[0].AgentKey != (ids.Key{}) {
			t.Fatalf("%s: %#v", name, cs)
		}
	}
	// Anna takes over: Ben and the visitor see who.
	if err := a.s.Takeover(conv); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, v, a, b)
	for name, cl := range map[string]*client{"visitor": v, "anna": a, "ben": b} {
		cs := only[ConvStateEvent](cl.take())
		if len(cs) != 1 || cs[0].State != StateLive || cs[0].AgentKey != w.agents[0].id.SignKey() || cs[0].Agent.Name != "Anna" {
			t.Fatalf("%s: %#v", name, cs)
		}
	}
	if hasReq(a.s, reqTakeover) {
		t.Fatalf("takeover answer left a request open: %v", a.s.reqs)
	}
	if err := b.s.Close(conv); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, v, a, b)
	for name, cl := range map[string]*client{"visitor": v, "anna": a, "ben": b} {
		cs := only[ConvStateEvent](cl.take())
		if len(cs) != 1 || cs[0].State != StateClosed || cs[0].Agent != (roster.Agent{}) {
			t.Fatalf("%s: %#v", name, cs)
		}
	}
	// Roles.
	if err := v.s.Takeover(conv); !errors.Is(err, ErrRole) {
		t.Fatalf("visitor takeover: %v", err)
	}
	if err := v.s.Close(conv); !errors.Is(err, ErrRole) {
		t.Fatalf("visitor close: %v", err)
	}
	if err := a.s.WantPerson(); !errors.Is(err, ErrRole) {
		t.Fatalf("agent want person: %v", err)
	}
}

func TestWantPersonWaitsForConnection(t *testing.T) {
	w := newWorld(t, "Anna")
	v := w.visitor(nil, State{})
	if err := v.s.WantPerson(); err != nil {
		t.Fatal(err)
	}
	mustSend(t, v, "Bitte einen Menschen")
	if w.relay.wantPeople != 0 {
		t.Fatal("sent while offline")
	}
	// The first connection drops before the answer: sent again after the next Welcome.
	w.relay.wantCode = protocol.CodeInternal
	v.connect(w.relay)
	pump(w.relay, v)
	if w.relay.wantPeople != 1 || w.relay.sends != 1 {
		t.Fatalf("want person %d, sends %d", w.relay.wantPeople, w.relay.sends)
	}
	v.take()
	w.relay.wantCode = 0
	v.connect(w.relay)
	pump(w.relay, v)
	cs := only[ConvStateEvent](v.take())
	if w.relay.wantPeople != 2 || len(cs) != 1 || cs[0].State != StateWaiting {
		t.Fatalf("want person %d, %#v", w.relay.wantPeople, cs)
	}
	// Answered: not sent again after a reconnect.
	v.conn.Close()
	pump(w.relay, v)
	v.connect(w.relay)
	pump(w.relay, v)
	if w.relay.wantPeople != 2 {
		t.Fatalf("sent again: %d", w.relay.wantPeople)
	}
	// A permanent refusal drops it.
	w.relay.wantCode = protocol.CodeForbidden
	if err := v.s.WantPerson(); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, v)
	if ev := only[ErrorEvent](v.take()); len(ev) != 1 || ev[0].Code != protocol.CodeForbidden {
		t.Fatalf("%#v", ev)
	}
	v.conn.Close()
	pump(w.relay, v)
	v.connect(w.relay)
	pump(w.relay, v)
	if w.relay.wantPeople != 3 {
		t.Fatalf("refused want person sent again: %d", w.relay.wantPeople)
	}
}

func TestTypingBothWays(t *testing.T) {
	w, v, a, b := liveWorld(t)
	conv := v.s.Conv()
	if err := v.s.Typing(conv, true); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, v, a, b)
	for name, cl := range map[string]*client{"anna": a, "ben": b} {
		te := only[TypingEvent](cl.take())
		if len(te) != 1 || te[0].Conv != conv || te[0].From != FromVisitor || !te[0].On || te[0].Key != v.s.me.SignKey() {
			t.Fatalf("%s: %#v", name, te)
		}
	}
	if te := only[TypingEvent](v.take()); len(te) != 0 {
		t.Fatalf("own typing echoed: %#v", te)
	}
	if err := a.s.Typing(conv, false); err != nil {
		t.Fatal(err)
	}
	pump(w.relay, v, a, b)
	te := only[TypingEvent](v.take())
	if len(te) != 1 || te[0].From != FromAgent || te[0].Agent.Name != "Anna" || te[0].On {
		t.Fatalf("visitor: %#v", te)
	}
	if te := only[TypingEvent](b.take()); len(te) != 1 || te[0].Agent.Name != "Anna" {
		t.Fatalf("ben: %#v", te)
	}
	if len(v.s.reqs) != 0 {
		t.Fatalf("typing registered a request: %v", v.s.reqs)
	}
	// A visitor types only in its own conversation; nothing is sent offline.
	var other ids.ConvID
	other[0] = 1
	if err := v.s.Typing(other, true); !errors.Is(err, ErrRole) {
		t.Fatalf("other conv: %v", err)
	}
	v.conn.Close()
	pump(w.relay, v)
	n := w.relay.typings
	if err := v.s.Typing(conv, true); !errors.Is(err, ErrNotReady) || w.relay.typings != n {
		t.Fatalf("offline typing: %v", err)
	}
	// Typing of a key outside the roster is not shown.
	stranger := newParty(t, "X")
	a.conn.push(0, &protocol.TypingPush{Conv: conv, Key: stranger.id.SignKey(), On: true})
	pump(w.relay, a)
	if te := only[TypingEvent](a.take()); len(te) != 0 {
		t.Fatalf("stranger typing shown: %#v", te)
	}
}

func TestPresenceEvent(t *testing.T) {
	w, v, a, b := liveWorld(t)
	v.conn.push(0, &protocol.Presence{Online: 2})
	pump(w.relay, v, a, b)
	if pe := only[PresenceEvent](v.take()); len(pe) != 1 || pe[0].Online != 2 {
		t.Fatalf("%#v", pe)
	}
	// Before the Welcome a Presence is a protocol error.
	v2 := w.visitor(nil, State{})
	v2.connect(w.relay)
	v2.conn.toClient = append([][]byte{protocol.Encode(0, &protocol.Presence{Online: 1})}, v2.conn.toClient...)
	pump(w.relay, v2)
	if only[PresenceEvent](v2.take()) != nil {
		t.Fatal("presence before welcome accepted")
	}
}

func TestRosterUpdate(t *testing.T) {
	w, v, a, b := liveWorld(t)
	conv := v.s.Conv()
	// Version 2 removes Ben.
	w.relay.roster = w.roster(2, w.agents[0])
	w.relay.pushAll(&protocol.RosterUpdate{Roster: w.relay.roster})
	pump(w.relay, v, a, b)
	for name, cl := range map[string]*client{"visitor": v, "anna": a} {
		re := only[RosterEvent](cl.take())
		if len(re) != 1 || re[0].Roster.Version != 2 || len(re[0].Roster.Agents) != 1 {
			t.Fatalf("%s: %#v", name, re)
		}
		if cl.s.Stopped() {
			t.Fatalf("%s stopped", name)
		}
	}
	evs := b.take()
	if re := only[RosterErrorEvent](evs); len(re) != 1 || !errors.Is(re[0].Err, ErrRemoved) || !b.s.Stopped() {
		t.Fatalf("removed agent: %#v", evs)
	}
	if v.s.State().RosterVersion != 2 {
		t.Fatal("roster version not kept")
	}
	// New messages have no stanza for Ben.
	mustSend(t, v, "nur Anna")
	pump(w.relay, v, a)
	envs := w.relay.convs[conv].envs
	if got := w.open(conv, w.agents[0].id); got[len(got)-1] != "nur Anna" {
		t.Fatalf("anna reads %q", got)
	}
	if _, err := envelope.Open(envs[len(envs)-1], w.agents[1].id, w.site, conv); !errors.Is(err, envelope.ErrNotRecipient) {
		t.Fatal("removed agent can open a new message")
	}
}

func TestRosterUpdateRefused(t *testing.T) {
	cases := []struct {
		name string
		raw  func(w *world) []byte
		want error
	}{
		{"rollback", func(w *world) []byte {
			w.relay.roster = w.roster(3, w.agents...)
			return w.roster(2, w.agents...)
		}, roster.ErrRollback},
		{"expired", func(w *world) []byte {
			r := roster.Roster{Site: w.site, Version: 5, NotAfter: w.now.Unix() - 1}
			b, err := r.Encode(w.owner)
			if err != nil {
				w.t.Fatal(err)
			}
			return b
		}, roster.ErrExpired},
		{"wrong signer", func(w *world) []byte {
			other := *w
			other.owner = newWorld(w.t).owner
			return other.roster(5, w.agents...)
		}, roster.ErrWrongOwner},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, "Anna")
			raw := c.raw(w)
			v := w.visitor(nil, State{})
			v.connect(w.relay)
			pump(w.relay, v)
			v.take()
			sends := w.relay.sends
			v.conn.push(0, &protocol.RosterUpdate{Roster: raw})
			pump(w.relay, v)
			evs := v.take()
			re := only[RosterErrorEvent](evs)
			if len(re) != 1 || !errors.Is(re[0].Err, c.want) {
				t.Fatalf("%#v, want %v", evs, c.want)
			}
			if !v.s.Stopped() || !v.conn.closed || lastStatus(t, evs) != StatusStopped {
				t.Fatal("not stopped")
			}
			if _, err := v.s.Send("x"); !errors.Is(err, ErrStopped) {
				t.Fatalf("send: %v", err)
			}
			if err := v.s.WantPerson(); !errors.Is(err, ErrStopped) {
				t.Fatalf("want person: %v", err)
			}
			if err := v.s.Typing(v.s.Conv(), true); !errors.Is(err, ErrStopped) {
				t.Fatalf("typing: %v", err)
			}
			if w.relay.sends != sends || w.relay.wantPeople != 0 || w.relay.typings != 0 {
				t.Fatal("something was sent")
			}
		})
	}
}
