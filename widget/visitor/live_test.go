package visitor

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"siegel/shared/content"
	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/shared/roster"
	"siegel/widget/session"
)

// lastEnvelope opens the relay's last stored envelope with the agent's key.
func (w *testWorld) lastEnvelope() *envelope.Opened {
	w.t.Helper()
	return w.envelopeAt(len(w.relay.envs) - 1)
}

// envelopeAt opens the relay's stored envelope i with the agent's key.
func (w *testWorld) envelopeAt(i int) *envelope.Opened {
	w.t.Helper()
	raw := w.relay.envs[i]
	e, err := envelope.Parse(raw)
	if err != nil {
		w.t.Fatal(err)
	}
	o, err := envelope.Open(raw, w.agent, w.site, e.Conv)
	if err != nil {
		w.t.Fatal(err)
	}
	return o
}

// push sends a relay frame to the widget.
func (tw *testWidget) push(f protocol.Frame) Update {
	tw.conn.push(0, f)
	var u Update
	for len(tw.conn.toClient) > 0 {
		b := tw.conn.toClient[0]
		tw.conn.toClient = tw.conn.toClient[1:]
		x := tw.chat.Apply(tw.sess.Receive(tw.conn, b))
		u.Live, u.Typing = u.Live || x.Live, u.Typing || x.Typing
		u.Alert = u.Alert || x.Alert
	}
	return u
}

func TestPresenceOnlyOnceConnected(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "de")
	m := tw.chat.Model()
	if known, _ := m.Presence(); known || w.relay.frames != 0 || w.relay.wants != 0 {
		t.Fatal("presence known or something sent while bot-only")
	}
	tw.choose("Mit einem Menschen sprechen")
	if known, online := m.Presence(); !known || !online {
		t.Fatalf("presence after the handoff: %v %v", known, online)
	}
	if u := tw.push(&protocol.Presence{Online: 0}); !u.Live {
		t.Fatal("presence change not reported")
	}
	if known, online := m.Presence(); !known || online {
		t.Fatal("presence 0 not shown as nobody")
	}
	if c := m.Apply([]session.Event{session.StatusEvent{Status: session.StatusOffline}}); !c.Live {
		t.Fatal("going offline did not hide the presence")
	}
	if known, _ := m.Presence(); known {
		t.Fatal("presence known while offline")
	}
}

func TestHandoffAsksForAPerson(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "de")
	tw.choose("Mit einem Menschen sprechen")
	m := tw.chat.Model()
	if w.relay.wants != 1 || m.ConvState() != session.StateWaiting || !m.Asked() {
		t.Fatalf("wants %d, state %d", w.relay.wants, m.ConvState())
	}
	if n, _ := m.Notice(); n != NoticeNone || m.LeaveMode() {
		t.Fatal("leave-message offered while a person is online")
	}
	tw.compose("Hallo")
	if o := w.lastEnvelope(); content.Type(o.Type) != content.TypeText || string(o.Content) != "Hallo" || w.relay.wants != 1 {
		t.Fatalf("message after the handoff: %d %q, wants %d", o.Type, o.Content, w.relay.wants)
	}
}

func TestLeaveMessageWhileNobodyIsOnline(t *testing.T) {
	w := newTestWorld(t)
	w.relay.online = 0
	tw, _ := w.open("", "de")
	u := tw.choose("Mit einem Menschen sprechen")
	m := tw.chat.Model()
	if n, text := m.Notice(); n != NoticeLeave || text != i18nDE().LeaveMessage || !m.LeaveMode() {
		t.Fatalf("notice %d %q, leave %v (update %+v)", n, text, m.LeaveMode(), u.Changes)
	}
	before, envs := len(tw.shown()), len(w.relay.envs)
	tw.compose("Bitte rufen Sie mich an.")
	// A handoff marker (reason 2, no note), then the text as a text envelope.
	if len(w.relay.envs) != envs+2 {
		t.Fatalf("left message stored as %d envelopes", len(w.relay.envs)-envs)
	}
	o := w.envelopeAt(envs)
	h, err := content.DecodeHandoff(o.Content)
	if content.Type(o.Type) != content.TypeHandoff || err != nil || h.Reason != content.HandoffMessage || h.Note != "" {
		t.Fatalf("left-message marker: type %d %+v %v", o.Type, h, err)
	}
	if o2 := w.envelopeAt(envs + 1); content.Type(o2.Type) != content.TypeText || string(o2.Content) != "Bitte rufen Sie mich an." || o2.Seq != o.Seq+1 {
		t.Fatalf("left message: type %d %q seq %d after %d", o2.Type, o2.Content, o2.Seq, o.Seq)
	}
	got := tw.shown()
	if len(got) != before+1 {
		t.Fatalf("left message shown as %d entries: %q", len(got)-before, got[before:])
	}
	if l := got[len(got)-1]; l != (shown{"visitor", "sent", "Bitte rufen Sie mich an."}) {
		t.Fatalf("left message shown as %q", l)
	}
	if m.LeaveMode() {
		t.Fatal("still in leave mode after the message was left")
	}
	envs = len(w.relay.envs)
	tw.compose("Noch etwas.")
	if o := w.lastEnvelope(); len(w.relay.envs) != envs+1 || content.Type(o.Type) != content.TypeText {
		t.Fatalf("second message: %d envelopes, type %d", len(w.relay.envs)-envs, o.Type)
	}
	// After a reload the left message is known from the own handoff envelope
	// with reason 2, and the text shows once, as the visitor's.
	tw2, _ := w.open(tw.stored(), "de")
	tw2.note(Update{Connect: true})
	if tw2.chat.Model().LeaveMode() || !tw2.chat.Model().Asked() {
		t.Fatal("reload forgot that a message was left")
	}
	n := 0
	for _, s := range tw2.shown() {
		if s.text == "Bitte rufen Sie mich an." {
			n++
			if s.from != "visitor" {
				t.Fatalf("left message after a reload shown as %q", s)
			}
		}
	}
	if n != 1 {
		t.Fatalf("left message shown %d times after a reload", n)
	}
}

func TestLeaveMessageNeedsRoomForMarkerAndText(t *testing.T) {
	w := newTestWorld(t)
	w.relay.online = 0
	tw, _ := w.open("", "de")
	tw.choose("Mit einem Menschen sprechen")
	// Fill the outbox up to one free place (the relay's acks are not read yet).
	for tw.sess.Room() > 1 {
		if _, err := tw.sess.Send("x"); err != nil {
			t.Fatal(err)
		}
	}
	envs := len(w.relay.envs)
	u := tw.chat.Compose("Bitte rufen Sie mich an.")
	m := tw.chat.Model()
	if len(w.relay.envs) != envs || tw.sess.Room() != 1 || u.Clear || !u.Alert || m.Alert() != i18nDE().AlertOutboxFull {
		t.Fatalf("without room for both: %d envelopes sent, room %d, update %+v, alert %q",
			len(w.relay.envs)-envs, tw.sess.Room(), u, m.Alert())
	}
	if !m.LeaveMode() {
		t.Fatal("leave mode ended although nothing was left")
	}
	// Once the acks are read there is room, and the message is left.
	tw.pump()
	envs = len(w.relay.envs)
	tw.compose("Bitte rufen Sie mich an.")
	if len(w.relay.envs) != envs+2 || m.LeaveMode() {
		t.Fatalf("after the acks: %d envelopes, leave mode %v", len(w.relay.envs)-envs, m.LeaveMode())
	}
}

func TestTakeoverCloseAndReopen(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "en")
	tw.choose("Talk to a person")
	m := tw.chat.Model()
	u := tw.push(&protocol.ConvStateFrame{Conv: tw.sess.Conv(), State: protocol.StateLive, Agent: w.agent.SignKey()})
	if n, text := m.Notice(); !u.Live || n != NoticeJoined || text != "Anna is here for you now" {
		t.Fatalf("takeover: %v %d %q", u.Live, n, text)
	}
	// An agent the roster does not name is shown with the fallback name.
	var other ids.Key
	other[0] = 9
	tw.push(&protocol.ConvStateFrame{Conv: tw.sess.Conv(), State: protocol.StateLive, Agent: other})
	if _, text := m.Notice(); text != "Support is here for you now" {
		t.Fatalf("unknown agent: %q", text)
	}
	w.relay.state = protocol.StateClosed
	u = tw.push(&protocol.ConvStateFrame{Conv: tw.sess.Conv(), State: protocol.StateClosed})
	if n, text := m.Notice(); !u.Live || n != NoticeClosed || text != tw.chat.s.Closed {
		t.Fatalf("closed: %d %q", n, text)
	}
	tw.compose("One more question")
	if w.relay.wants != 2 || m.ConvState() != session.StateWaiting {
		t.Fatalf("a message after closing did not re-open: wants %d state %d", w.relay.wants, m.ConvState())
	}
	if o := w.lastEnvelope(); content.Type(o.Type) != content.TypeText || string(o.Content) != "One more question" {
		t.Fatalf("message after closing: %d %q", o.Type, o.Content)
	}
}

func TestVisitorTypingOnlyAfterHandoff(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "de")
	now := w.now
	tw.chat.SetClock(func() time.Time { return now })
	tw.chat.Typed("Hallo")
	if len(w.relay.typing) != 0 || w.relay.frames != 0 {
		t.Fatal("typing sent while bot-only")
	}
	tw.choose("Mit einem Menschen sprechen")
	tw.chat.Typed("H")
	tw.chat.Typed("Ha")
	now = now.Add(2 * time.Second)
	tw.chat.Typed("Hal")
	if len(w.relay.typing) != 1 || !w.relay.typing[0] {
		t.Fatalf("typing within 3 s: %v", w.relay.typing)
	}
	now = now.Add(time.Second)
	tw.chat.Typed("Hall")
	tw.chat.Typed("")
	tw.chat.Typed("")
	if want := []bool{true, true, false}; !sameBools(w.relay.typing, want) {
		t.Fatalf("typing %v, want %v", w.relay.typing, want)
	}
	tw.chat.Typed("x")
	tw.chat.Blurred()
	tw.chat.Typed("y")
	tw.compose("y")
	if want := []bool{true, true, false, true, false, true, false}; !sameBools(w.relay.typing, want) {
		t.Fatalf("typing %v, want %v", w.relay.typing, want)
	}
	// Without a connection nothing is sent.
	tw.chat.Apply(tw.sess.Disconnected(tw.conn))
	tw.chat.Typed("z")
	if len(w.relay.typing) != 7 {
		t.Fatalf("typing while offline: %v", w.relay.typing)
	}
}

func sameBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAgentTypingIndicator(t *testing.T) {
	m := NewModel(i18nDE())
	now := time.Unix(1750000000, 0)
	m.SetClock(func() time.Time { return now })
	var anna ids.Key
	anna[0] = 1
	ag := roster.Agent{Name: "Anna", Sign: anna}
	on := session.TypingEvent{Key: anna, Agent: ag, From: session.FromAgent, On: true}
	if c := m.Apply([]session.Event{on}); !c.Typing || m.Typing() != "Anna schreibt …" {
		t.Fatalf("typing: %v %q", c.Typing, m.Typing())
	}
	// A refresh is not a new announcement, and extends the indicator.
	now = now.Add(4 * time.Second)
	if c := m.Apply([]session.Event{on}); c.Typing {
		t.Fatal("refresh announced again")
	}
	now = now.Add(5 * time.Second)
	if m.ExpireTyping(now) {
		t.Fatal("expired before 6 s without a refresh")
	}
	if !m.ExpireTyping(now.Add(time.Second)) || m.Typing() != "" || !m.TypingUntil().IsZero() {
		t.Fatal("not dropped 6 s after the last refresh")
	}
	// Off, and an agent message, end it; the visitor's own typing is not shown.
	m.Apply([]session.Event{on})
	if c := m.Apply([]session.Event{session.TypingEvent{Key: anna, From: session.FromAgent}}); !c.Typing || m.Typing() != "" {
		t.Fatal("off did not hide it")
	}
	m.Apply([]session.Event{on})
	c := m.Apply([]session.Event{session.MessageEvent{Pos: 1, From: session.FromAgent, Agent: ag, Sender: anna, Text: "Hallo"}})
	if !c.Typing || m.Typing() != "" {
		t.Fatal("a message did not end the indicator")
	}
	if c := m.Apply([]session.Event{session.TypingEvent{Key: ids.Key{2}, From: session.FromVisitor, On: true}}); c.Typing || m.Typing() != "" {
		t.Fatal("visitor typing shown")
	}
	m.Apply([]session.Event{on})
	if c := m.Apply([]session.Event{session.StatusEvent{Status: session.StatusOffline}}); !c.Typing || m.Typing() != "" {
		t.Fatal("offline kept the indicator")
	}
}

// A roster pushed by the relay that does not verify stops the widget with the
// plain warning, and nothing is sent afterwards; a good one is sealed to.
func TestRosterUpdate(t *testing.T) {
	newRoster := func(w *testWorld, priv ed25519.PrivateKey, version uint64, notAfter int64, agents ...*envelope.Identity) []byte {
		r := roster.Roster{Site: w.site, Version: version, NotAfter: notAfter}
		for i, a := range agents {
			r.Agents = append(r.Agents, roster.Agent{ID: ids.AgentID{byte(i + 1)}, Name: "A", Sign: a.SignKey(), Box: a.BoxKey()})
		}
		raw, err := r.Encode(priv)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	cases := []struct {
		name string
		raw  func(w *testWorld) []byte
		want error
	}{
		{"wrong signer", func(w *testWorld) []byte {
			return newRoster(w, stranger, 2, w.now.Unix()+3600, w.agent)
		}, roster.ErrWrongOwner},
		{"expired", func(w *testWorld) []byte {
			return newRoster(w, w.owner, 2, w.now.Unix()-1, w.agent)
		}, roster.ErrExpired},
		{"rolled back", func(w *testWorld) []byte {
			return newRoster(w, w.owner, 2, w.now.Unix()+3600, w.agent)
		}, roster.ErrRollback},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newTestWorld(t)
			tw, _ := w.open("", "de")
			tw.choose("Mit einem Menschen sprechen")
			if tc.want == roster.ErrRollback {
				tw.push(&protocol.RosterUpdate{Roster: newRoster(w, w.owner, 3, w.now.Unix()+3600, w.agent)})
			}
			var got error
			u := Update{}
			tw.conn.push(0, &protocol.RosterUpdate{Roster: tc.raw(w)})
			for len(tw.conn.toClient) > 0 {
				b := tw.conn.toClient[0]
				tw.conn.toClient = tw.conn.toClient[1:]
				evs := tw.sess.Receive(tw.conn, b)
				for _, ev := range evs {
					if re, ok := ev.(session.RosterErrorEvent); ok {
						got = re.Err
					}
				}
				u = tw.chat.Apply(evs)
			}
			if !errors.Is(got, tc.want) {
				t.Fatalf("roster error %v, want %v", got, tc.want)
			}
			if !u.Alert || tw.chat.Model().Alert() != i18nDE().AlertRoster {
				t.Fatalf("alert %q", tw.chat.Model().Alert())
			}
			frames := w.relay.frames
			tw.compose("Hallo?")
			tw.chat.Typed("Hallo")
			if w.relay.frames != frames {
				t.Fatal("something was sent after the roster failed")
			}
		})
	}
	t.Run("new agent", func(t *testing.T) {
		w := newTestWorld(t)
		tw, _ := w.open("", "de")
		tw.choose("Mit einem Menschen sprechen")
		bob, _ := envelope.NewIdentity(rand.Reader)
		tw.push(&protocol.RosterUpdate{Roster: newRoster(w, w.owner, 2, w.now.Unix()+3600, bob)})
		tw.compose("Hallo Bob")
		raw := w.relay.envs[len(w.relay.envs)-1]
		e, _ := envelope.Parse(raw)
		if _, err := envelope.Open(raw, bob, w.site, e.Conv); err != nil {
			t.Fatalf("new agent cannot open: %v", err)
		}
		if _, err := envelope.Open(raw, w.agent, w.site, e.Conv); !errors.Is(err, envelope.ErrNotRecipient) {
			t.Fatalf("removed agent: %v", err)
		}
	})
}
