package visitor

import (
	"errors"
	"strings"
	"testing"
	"time"

	"siegel/shared/protocol"
	"siegel/shared/roster"
	"siegel/widget/i18n"
	"siegel/widget/session"
)

var de = i18n.For(i18n.German)

type shown struct {
	from, state, text string
}

func view(m *Model) []shown {
	var out []shown
	for _, msg := range m.Messages() {
		out = append(out, shown{msg.From.String(), msg.State.String(), msg.Text})
	}
	return out
}

func same(a, b []shown) bool {
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

func own(seq, pos uint64, text string, pending bool) session.MessageEvent {
	return session.MessageEvent{Seq: seq, Pos: pos, Own: true, Pending: pending, From: session.FromVisitor, Text: text}
}

func agentMsg(pos uint64, name, text string) session.MessageEvent {
	return session.MessageEvent{Pos: pos, Seq: pos, From: session.FromAgent, Agent: roster.Agent{Name: name}, Text: text}
}

func TestGreetingIsLocal(t *testing.T) {
	m := NewModel(de)
	msgs := m.Messages()
	if len(msgs) != 1 || msgs[0].From != FromBot || msgs[0].Text != "Hallo! Wie können wir Ihnen helfen?" ||
		msgs[0].State != StateNone || msgs[0].Name != de.BotName || msgs[0].ID != 0 {
		t.Fatalf("greeting: %+v", msgs)
	}
	en := NewModel(i18n.For(i18n.English))
	if en.Messages()[0].Text != "Hello! How can we help you?" {
		t.Fatal("english greeting")
	}
	if m.Status() != de.StatusIdle {
		t.Fatalf("status %q", m.Status())
	}
}

func TestOwnMessageLifecycle(t *testing.T) {
	m := NewModel(de)
	c := m.Apply([]session.Event{own(1, 0, "Hallo", true)})
	if len(c.Messages) != 1 || c.Messages[0].State != StatePending || m.StateText(c.Messages[0]) != "Wird gesendet…" {
		t.Fatalf("pending: %+v", c)
	}
	msg := c.Messages[0]
	if msg.ID == 0 || msg.Name != "Sie" {
		t.Fatalf("message %+v", msg)
	}
	c = m.Apply([]session.Event{session.AckEvent{Seq: 1, Pos: 1}})
	if len(c.Messages) != 1 || c.Messages[0] != msg || msg.State != StateSent || msg.Pos != 1 || m.StateText(msg) != "Gesendet" {
		t.Fatalf("ack: %+v", msg)
	}
	// The relay's echo of the same envelope does not duplicate it.
	c = m.Apply([]session.Event{own(1, 1, "Hallo", false)})
	if len(m.Messages()) != 2 || len(c.Messages) != 0 {
		t.Fatalf("echo duplicated: %+v", view(m))
	}
	c = m.Apply([]session.Event{session.ReceiptEvent{Pos: 1}})
	if len(c.Messages) != 1 || msg.State != StateDelivered || m.StateText(msg) != "Zugestellt" {
		t.Fatalf("receipt: %+v", msg)
	}
}

func TestEchoBeforeAck(t *testing.T) {
	m := NewModel(de)
	m.Apply([]session.Event{own(1, 0, "x", true)})
	c := m.Apply([]session.Event{own(1, 3, "x", false), session.AckEvent{Seq: 1, Pos: 3}})
	if len(m.Messages()) != 2 || len(c.Messages) != 1 || c.Messages[0].State != StateSent || c.Messages[0].Pos != 3 {
		t.Fatalf("%+v", view(m))
	}
}

func TestOrderAfterReload(t *testing.T) {
	m := NewModel(de)
	// After a reload the outbox is shown first (pending), then the history
	// arrives from position 1.
	m.Apply([]session.Event{own(3, 0, "wartet", true)})
	c := m.Apply([]session.Event{
		session.ReceiptEvent{Pos: 1},
		own(1, 1, "eins", false),
		agentMsg(2, "Anna", "zwei"),
		own(2, 3, "drei", false),
		session.FetchedEvent{LastPos: 3},
	})
	want := []shown{
		{"bot", "", de.Greeting},
		{"visitor", "delivered", "eins"},
		{"agent", "", "zwei"},
		{"visitor", "sent", "drei"},
		{"visitor", "pending", "wartet"},
	}
	if !same(view(m), want) {
		t.Fatalf("view %+v", view(m))
	}
	if len(c.Messages) != 3 || c.Messages[0].Text != "eins" || c.Messages[2].Text != "drei" {
		t.Fatalf("changes not in display order: %+v", c.Messages)
	}
	if m.After(c.Messages[2]).Text != "wartet" || m.After(m.Messages()[4]) != nil {
		t.Fatal("After")
	}
	if m.Messages()[2].Name != "Anna" {
		t.Fatal("agent name")
	}
	// The queued message is committed after an agent reply at 4: it moves after it.
	m.Apply([]session.Event{agentMsg(4, "", "vier")})
	m.Apply([]session.Event{session.AckEvent{Seq: 3, Pos: 5}})
	last := m.Messages()[len(m.Messages())-1]
	if last.Text != "wartet" || last.Pos != 5 || m.Messages()[4].Name != de.AgentFallback {
		t.Fatalf("view %+v", view(m))
	}
}

func TestFailuresAndRenumbering(t *testing.T) {
	m := NewModel(de)
	m.Apply([]session.Event{own(1, 0, "a", true), own(2, 0, "b", true)})
	c := m.Apply([]session.Event{
		session.SendFailedEvent{Seq: 1, Code: protocol.CodeLimit, Text: "a"},
		session.SeqChangedEvent{Old: 2, New: 1},
		session.AckEvent{Seq: 1, Pos: 1},
	})
	want := []shown{{"bot", "", de.Greeting}, {"visitor", "sent", "b"}, {"visitor", "failed", "a"}}
	if !same(view(m), want) {
		t.Fatalf("view %+v", view(m))
	}
	if !c.Alert || m.Alert() != de.AlertLimit {
		t.Fatalf("alert %q", m.Alert())
	}
}

func TestStatusAndAlerts(t *testing.T) {
	m := NewModel(de)
	step := func(st session.Status) Changes { return m.Apply([]session.Event{session.StatusEvent{Status: st}}) }
	if c := step(session.StatusConnecting); !c.Status || m.Status() != de.StatusConnecting {
		t.Fatalf("connecting %q", m.Status())
	}
	step(session.StatusReady)
	if m.Status() != de.StatusConnected {
		t.Fatal(m.Status())
	}
	step(session.StatusOffline)
	if m.Status() != de.StatusReconnecting || m.Alert() != "" {
		t.Fatal("one drop must not alert")
	}
	for i := 0; i < 3; i++ {
		step(session.StatusConnecting)
		step(session.StatusOffline)
	}
	if m.Alert() != de.AlertOffline {
		t.Fatalf("alert after repeated failures: %q", m.Alert())
	}
	if c := step(session.StatusReady); !c.Alert || m.Alert() != "" {
		t.Fatal("offline alert not cleared on reconnect")
	}
	// A roster failure is sticky; queued messages show as not sent.
	m.Apply([]session.Event{own(1, 0, "wartet", true)})
	c := m.Apply([]session.Event{session.RosterErrorEvent{Err: errors.New("x")}, session.StatusEvent{Status: session.StatusStopped}})
	if !c.Alert || m.Alert() != de.AlertRoster || m.Status() != de.StatusStopped {
		t.Fatalf("roster: %q %q", m.Alert(), m.Status())
	}
	if len(c.Messages) != 1 || c.Messages[0].State != StateFailed || m.StateText(c.Messages[0]) != de.StateFailed {
		t.Fatalf("queued message after stop: %+v", c.Messages)
	}
	if m.SetAlert(de.AlertOffline, false) || m.ClearAlert() || m.Alert() != de.AlertRoster {
		t.Fatal("sticky alert replaced")
	}
	m2 := NewModel(de)
	m2.Apply([]session.Event{session.ErrorEvent{Code: protocol.CodeUnknownSite, Fatal: true}})
	if m2.Alert() != de.AlertUnknownSite {
		t.Fatal(m2.Alert())
	}
	m3 := NewModel(de)
	m3.Apply([]session.Event{session.ErrorEvent{Code: protocol.CodeRateLimited}})
	if m3.Alert() != de.AlertRateLimited {
		t.Fatal(m3.Alert())
	}
	m3.Apply([]session.Event{session.ErrorEvent{Code: protocol.CodeSequence}})
	if m3.Alert() != de.AlertRateLimited {
		t.Fatal("sequence errors are not shown")
	}
}

func TestUnread(t *testing.T) {
	m := NewModel(de)
	if m.SetHidden(true) {
		t.Fatal("nothing to reset")
	}
	c := m.Apply([]session.Event{agentMsg(1, "Anna", "eins"), own(1, 2, "selbst", false)})
	if !c.Unread || m.Unread() != 1 {
		t.Fatalf("unread %d", m.Unread())
	}
	// Messages already seen before a reload do not count.
	seen := agentMsg(3, "Anna", "alt")
	seen.Seen = true
	if c := m.Apply([]session.Event{seen}); c.Unread || m.Unread() != 1 {
		t.Fatal("seen message counted")
	}
	m.Apply([]session.Event{agentMsg(4, "Anna", "zwei")})
	if m.Unread() != 2 {
		t.Fatal(m.Unread())
	}
	if !m.SetHidden(false) || m.Unread() != 0 {
		t.Fatal("open does not reset")
	}
	if c := m.Apply([]session.Event{agentMsg(5, "Anna", "sichtbar")}); c.Unread || m.Unread() != 0 {
		t.Fatal("visible message counted")
	}
}

func TestPrepareText(t *testing.T) {
	if _, err := PrepareText("  \n\t "); !errors.Is(err, ErrEmpty) {
		t.Fatal(err)
	}
	if s, err := PrepareText("  Zeile 1\nZeile 2\n"); err != nil || s != "Zeile 1\nZeile 2" {
		t.Fatalf("%q %v", s, err)
	}
	if _, err := PrepareText(strings.Repeat("ä", MaxChars)); err != nil {
		t.Fatal(err)
	}
	if _, err := PrepareText(strings.Repeat("ä", MaxChars+1)); !errors.Is(err, ErrTooLong) {
		t.Fatal(err)
	}
	// The longest accepted text fits the protocol's limit.
	if len(strings.Repeat("\U0001F600", MaxChars)) > session.MaxText {
		t.Fatal("MaxChars exceeds the protocol limit")
	}
}

func TestBackoff(t *testing.T) {
	const lo, hi = 500 * time.Millisecond, 15 * time.Second
	for n := 0; n < 40; n++ {
		for _, j := range []uint32{0, 1 << 31, ^uint32(0)} {
			d := Backoff(n, j)
			if d < lo || d > hi {
				t.Fatalf("Backoff(%d, %d) = %v", n, j, d)
			}
		}
	}
	if Backoff(0, 0) != lo || Backoff(2, 1<<31) != 2*time.Second || Backoff(30, ^uint32(0)) != hi {
		t.Fatalf("%v %v %v", Backoff(0, 0), Backoff(2, 1<<31), Backoff(30, ^uint32(0)))
	}
	if a, b := Backoff(3, 0), Backoff(3, ^uint32(0)); b-a < time.Second {
		t.Fatalf("no jitter spread: %v %v", a, b)
	}
	if Backoff(4, 1<<31) <= Backoff(3, 1<<31) {
		t.Fatal("not growing")
	}
}
