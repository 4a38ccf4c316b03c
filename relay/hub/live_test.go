package hub

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/shared/roster"
)

// putRoster signs and stores a roster of the given agents with version v and
// returns its bytes.
func (f *fixture) putRoster(v uint64, agents ...*envelope.Identity) []byte {
	f.t.Helper()
	r := &roster.Roster{Site: f.site, Owner: ids.Key(f.owner.Public().(ed25519.PublicKey)), Version: v, NotAfter: time.Now().Add(time.Hour).Unix()}
	for i, a := range agents {
		r.Agents = append(r.Agents, roster.Agent{ID: ids.AgentID{byte(i + 1)}, Name: "Agent" + string(rune('A'+i)), Sign: a.SignKey(), Box: a.BoxKey()})
	}
	raw, err := r.Encode(f.owner)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.st.PutRoster(context.Background(), f.site, v, raw); err != nil {
		f.t.Fatal(err)
	}
	return raw
}

func (f *fixture) welcomeAgentID(id *envelope.Identity) *testClient {
	f.t.Helper()
	a := f.connect()
	a.hello(protocol.RoleAgent, id, f.site, 0)
	if w, ok := a.next().(*protocol.Welcome); !ok {
		f.t.Fatalf("agent got no welcome: %+v", w)
	}
	return a
}

// twoAgents stores a roster of the fixture's agent and a second one, connects
// both, and connects a visitor with one stored envelope.
func twoAgents(t *testing.T) (f *fixture, a1, a2, v *testClient, second *envelope.Identity, conv ids.ConvID) {
	f = newFixture(t)
	second, _ = envelope.NewIdentity(rand.Reader)
	f.putRoster(2, f.agent, second)
	a1 = f.welcomeAgentID(f.agent)
	a2 = f.welcomeAgentID(second)
	vid, _ := envelope.NewIdentity(rand.Reader)
	v, w := f.welcomeVisitor(vid, 0)
	v.next() // Fetched
	v.send(&protocol.Send{Envelope: f.seal(vid, w.Conv, 1, "hi", vid.BoxKey(), f.agent.BoxKey(), second.BoxKey())})
	if _, ok := v.next().(*protocol.Ack); !ok {
		t.Fatal("no ack")
	}
	v.next() // Deliver (own)
	for _, a := range []*testClient{a1, a2} {
		if _, ok := a.next().(*protocol.Deliver); !ok {
			t.Fatal("agent got no deliver")
		}
	}
	return f, a1, a2, v, second, w.Conv
}

func expectState(t *testing.T, c *testClient, wantID uint32, conv ids.ConvID, st protocol.ConvState, agent ids.Key) {
	t.Helper()
	id, fr := c.nextID()
	s, ok := fr.(*protocol.ConvStateFrame)
	if !ok || id != wantID || s.Conv != conv || s.State != st || s.Agent != agent {
		t.Fatalf("got %d %T %+v, want ConvState %v by %x (request %d)", id, fr, fr, st, agent[:4], wantID)
	}
}

func TestWantPersonTakeoverClose(t *testing.T) {
	f, a1, a2, v, second, conv := twoAgents(t)
	req := v.send(&protocol.WantPerson{Conv: conv})
	expectState(t, v, req, conv, protocol.StateWaiting, ids.Key{})
	expectState(t, a1, 0, conv, protocol.StateWaiting, ids.Key{})
	expectState(t, a2, 0, conv, protocol.StateWaiting, ids.Key{})
	// Asking again changes nothing: answered, not pushed.
	req = v.send(&protocol.WantPerson{Conv: conv})
	expectState(t, v, req, conv, protocol.StateWaiting, ids.Key{})
	a1.expectNone()

	// Agent 1 takes over; agent 2 and the visitor see who.
	req = a1.send(&protocol.Takeover{Conv: conv})
	expectState(t, a1, req, conv, protocol.StateLive, f.agent.SignKey())
	expectState(t, a2, 0, conv, protocol.StateLive, f.agent.SignKey())
	expectState(t, v, 0, conv, protocol.StateLive, f.agent.SignKey())
	// A WantPerson while live keeps it live.
	req = v.send(&protocol.WantPerson{Conv: conv})
	expectState(t, v, req, conv, protocol.StateLive, f.agent.SignKey())
	// Hand-over to agent 2.
	req = a2.send(&protocol.Takeover{Conv: conv})
	expectState(t, a2, req, conv, protocol.StateLive, second.SignKey())
	expectState(t, a1, 0, conv, protocol.StateLive, second.SignKey())
	expectState(t, v, 0, conv, protocol.StateLive, second.SignKey())
	// Close, then the visitor reopens it.
	req = a2.send(&protocol.Close{Conv: conv})
	expectState(t, a2, req, conv, protocol.StateClosed, ids.Key{})
	expectState(t, a1, 0, conv, protocol.StateClosed, ids.Key{})
	expectState(t, v, 0, conv, protocol.StateClosed, ids.Key{})
	req = v.send(&protocol.WantPerson{Conv: conv})
	expectState(t, v, req, conv, protocol.StateWaiting, ids.Key{})
	expectState(t, a1, 0, conv, protocol.StateWaiting, ids.Key{})
	expectState(t, a2, 0, conv, protocol.StateWaiting, ids.Key{})
	c, err := f.st.Conversation(f.site, conv)
	if err != nil || c.State != 1 {
		t.Fatalf("stored state %+v %v", c, err)
	}

	// List answers Conversations, then the state of every non-bot conversation.
	req = a1.send(&protocol.List{})
	if id, fr := a1.nextID(); id != req {
		t.Fatalf("list: %d %T", id, fr)
	}
	expectState(t, a1, req, conv, protocol.StateWaiting, ids.Key{})
	// A reconnecting visitor gets the state after its replay.
	v2, _ := f.welcomeVisitor(v.id, 1)
	if _, ok := v2.next().(*protocol.Fetched); !ok {
		t.Fatal("no fetched")
	}
	expectState(t, v2, 0, conv, protocol.StateWaiting, ids.Key{})

	// Refusals.
	var other ids.ConvID
	other[0] = 9
	for _, c := range []struct {
		cl   *testClient
		fr   protocol.Frame
		code protocol.ErrorCode
	}{
		{v, &protocol.Takeover{Conv: conv}, protocol.CodeForbidden},
		{v, &protocol.Close{Conv: conv}, protocol.CodeForbidden},
		{v, &protocol.WantPerson{Conv: other}, protocol.CodeForbidden},
		{a1, &protocol.WantPerson{Conv: conv}, protocol.CodeForbidden},
		{a1, &protocol.Takeover{Conv: other}, protocol.CodeNotFound},
		{a1, &protocol.Close{Conv: other}, protocol.CodeNotFound},
		{v, &protocol.Typing{Conv: other, On: true}, protocol.CodeForbidden},
	} {
		c.cl.send(c.fr)
		expectError(t, c.cl.next(), c.code)
	}
}

func TestTypingForwarded(t *testing.T) {
	f, a1, a2, v, _, conv := twoAgents(t)
	v.send(&protocol.Typing{Conv: conv, On: true})
	for _, a := range []*testClient{a1, a2} {
		p, ok := a.next().(*protocol.TypingPush)
		if !ok || p.Conv != conv || p.Key != v.id.SignKey() || !p.On {
			t.Fatalf("agent: %+v", p)
		}
	}
	v.expectNone()
	a1.send(&protocol.Typing{Conv: conv, On: false})
	for _, c := range []*testClient{v, a2} {
		p, ok := c.next().(*protocol.TypingPush)
		if !ok || p.Key != f.agent.SignKey() || p.On {
			t.Fatalf("typing push: %+v", p)
		}
	}
	a1.expectNone()
	// Not stored.
	c, err := f.st.Conversation(f.site, conv)
	if err != nil || c.LastPos != 1 || c.State != 0 {
		t.Fatalf("stored: %+v %v", c, err)
	}
}

func TestPresence(t *testing.T) {
	f := newFixture(t)
	vid, _ := envelope.NewIdentity(rand.Reader)
	v := f.connect()
	v.presence = true
	v.hello(protocol.RoleVisitor, vid, f.site, 0)
	if _, ok := v.next().(*protocol.Welcome); !ok {
		t.Fatal("no welcome")
	}
	if _, ok := v.next().(*protocol.Fetched); !ok {
		t.Fatal("no fetched")
	}
	expectPresence := func(n uint16) {
		t.Helper()
		p, ok := v.next().(*protocol.Presence)
		if !ok || p.Online != n {
			t.Fatalf("got %T %+v, want presence %d", p, p, n)
		}
	}
	expectPresence(0)
	a := f.welcomeAgent()
	expectPresence(1)
	// A second connection of the same agent changes nothing.
	b := f.welcomeAgent()
	v.expectNone()
	if f.srv.Hub.Online(f.site) != 1 {
		t.Fatal("online count")
	}
	close(a.c.in) // ends the agent's first connection
	<-a.done
	v.expectNone()
	close(b.c.in)
	<-b.done
	expectPresence(0)
	// A visitor connecting while an agent is online is told so.
	f.welcomeAgent()
	expectPresence(1)
	v2 := f.connect()
	v2.presence = true
	v2.hello(protocol.RoleVisitor, vid, f.site, 0)
	v2.next() // Welcome
	v2.next() // Fetched
	if p, ok := v2.next().(*protocol.Presence); !ok || p.Online != 1 {
		t.Fatalf("after welcome: %+v", p)
	}
}

func TestRosterChangedKicksRemovedAgent(t *testing.T) {
	f, a1, a2, v, second, conv := twoAgents(t)
	raw := f.putRoster(3, f.agent) // the second agent is removed
	if err := f.srv.Hub.RosterChanged(f.site, raw); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*testClient{a1, a2, v} {
		u, ok := c.next().(*protocol.RosterUpdate)
		if !ok || string(u.Roster) != string(raw) {
			t.Fatalf("no roster update: %+v", u)
		}
	}
	select {
	case code := <-a2.c.closed:
		if code != ClosePolicyViolation {
			t.Fatalf("close code %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("removed agent not closed")
	}
	select {
	case code := <-a1.c.closed:
		t.Fatalf("remaining agent closed: %d", code)
	default:
	}
	// Its reconnect is refused.
	r := f.connect()
	r.hello(protocol.RoleAgent, second, f.site, 0)
	expectError(t, r.next(), protocol.CodeForbidden)
	// The remaining agent still works.
	a1.send(&protocol.Fetch{Conv: conv})
	if _, ok := a1.next().(*protocol.Deliver); !ok {
		t.Fatal("remaining agent cannot fetch")
	}
	if err := f.srv.Hub.RosterChanged(f.site, []byte("junk")); err == nil {
		t.Fatal("junk roster accepted")
	}
}

// An agent connection that is not closed (for example one authenticated just
// before the roster was stored) is refused on every request by the stored roster.
func TestRemovedAgentRequestsRefused(t *testing.T) {
	f, _, a2, v, second, conv := twoAgents(t)
	f.putRoster(3, f.agent) // stored, but RosterChanged not called
	env := f.seal(second, conv, 1, "still here?", v.id.BoxKey(), second.BoxKey())
	for _, fr := range []protocol.Frame{
		&protocol.Send{Envelope: env},
		&protocol.Fetch{Conv: conv},
		&protocol.List{},
		&protocol.Takeover{Conv: conv},
		&protocol.Close{Conv: conv},
		&protocol.Delivered{Conv: conv, Pos: 1},
	} {
		a2.send(fr)
		expectError(t, a2.next(), protocol.CodeForbidden)
	}
	c, err := f.st.Conversation(f.site, conv)
	if err != nil || c.LastPos != 1 || c.State != 0 || c.DeliveredPos != 0 {
		t.Fatalf("changed: %+v %v", c, err)
	}
}
