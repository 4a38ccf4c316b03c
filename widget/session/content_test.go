package session

import (
	"errors"
	"testing"

	"siegel/shared/content"
	"siegel/shared/envelope"
	"siegel/shared/protocol"
)

// The bot's transcript entries are sealed with their type and time, queued
// offline, and read back by agents and after a reload.
func TestSendContent(t *testing.T) {
	w := newWorld(t, "Anna")
	v := w.visitor(nil, State{})
	answer := content.EncodeAnswer(content.Answer{Variable: "email", Personal: true, Kind: content.InputEmail, Value: "a@b.de"})
	entries := []struct {
		typ content.Type
		c   []byte
		at  int64
	}{
		{content.TypeBot, content.EncodeText("Wie ist Ihre E-Mail-Adresse?"), 1000},
		{content.TypeAnswer, answer, 2000},
		{content.TypeConsent, content.EncodeConsent(content.Consent{FlowVersion: 3, Accepted: true, Time: 1500}), 1500},
		{content.TypeHandoff, content.EncodeHandoff(content.Handoff{Reason: content.HandoffPerson}), 3000},
	}
	for i, e := range entries {
		evs, err := v.s.SendContent(e.typ, e.c, e.at)
		if err != nil {
			t.Fatal(err)
		}
		m := only[MessageEvent](evs)
		if len(m) != 1 || !m[0].Pending || m[0].Type != e.typ || string(m[0].Content) != string(e.c) ||
			m[0].Time != e.at || m[0].Seq != uint64(i+1) {
			t.Fatalf("entry %d: %#v", i, evs)
		}
		if (e.typ == content.TypeBot) != (m[0].Text != "") {
			t.Fatalf("entry %d text %q", i, m[0].Text)
		}
	}
	if v.s.Room() != MaxOutbox-4 {
		t.Fatalf("room %d", v.s.Room())
	}
	// Queued after a reload, with their types.
	q := only[MessageEvent](mustVisitor(t, w, v).s.Queued())
	if len(q) != 4 || q[1].Type != content.TypeAnswer || q[3].Type != content.TypeHandoff {
		t.Fatalf("queued: %#v", q)
	}
	v.connect(w.relay)
	pump(w.relay, v)
	conv := v.s.Conv()
	for i, raw := range w.relay.convs[conv].envs {
		o, err := envelope.Open(raw, w.agents[0].id, w.site, conv)
		if err != nil || content.Type(o.Type) != entries[i].typ || string(o.Content) != string(entries[i].c) || o.Time != entries[i].at {
			t.Fatalf("stored %d: %+v %v", i, o, err)
		}
	}
	// An agent sees the types; a reloaded visitor too.
	a := w.agent(0)
	a.connect(w.relay)
	pump(w.relay, a)
	a.s.Fetch(conv)
	pump(w.relay, a)
	got := only[MessageEvent](a.take())
	if len(got) != 4 || got[1].Type != content.TypeAnswer || got[1].From != FromVisitor || got[0].Text == "" {
		t.Fatalf("agent: %#v", got)
	}
	v2 := w.visitor(v.s.me, v.s.State())
	v2.connect(w.relay)
	pump(w.relay, v2)
	if got := only[MessageEvent](v2.take()); len(got) != 4 || got[2].Type != content.TypeConsent || !got[2].Own {
		t.Fatalf("reload: %#v", got)
	}
	// Invalid content and times are refused; agents cannot use it.
	for _, bad := range []struct {
		typ content.Type
		c   []byte
		at  int64
	}{
		{content.TypeAnswer, []byte{2, 1, 0}, 1},
		{content.TypeConsent, []byte{1}, 1},
		{content.TypeBot, nil, 1},
		{content.Type(9), []byte("x"), 1},
		{content.TypeBot, []byte("x"), -1},
	} {
		if _, err := v.s.SendContent(bad.typ, bad.c, bad.at); !errors.Is(err, content.ErrMalformed) {
			t.Errorf("SendContent(%d, %q, %d): %v", bad.typ, bad.c, bad.at, err)
		}
	}
	if _, err := a.s.SendContent(content.TypeBot, []byte("x"), 1); !errors.Is(err, ErrRole) {
		t.Fatalf("agent SendContent: %v", err)
	}
}

func mustVisitor(t *testing.T, w *world, v *client) *client {
	t.Helper()
	return w.visitor(v.s.me, v.s.State())
}

func TestConsentReceipts(t *testing.T) {
	w := newWorld(t, "Anna")
	v := w.visitor(nil, State{})
	c1 := Consent{FlowVersion: 4, TextHash: [32]byte{1}, Accepted: true}
	c2 := Consent{FlowVersion: 4, TextHash: [32]byte{2}}
	for _, c := range []Consent{c1, c2} {
		if _, err := v.s.SendConsent(c); err != nil {
			t.Fatal(err)
		}
	}
	if w.relay.consents != 0 || v.s.Consents() != 2 {
		t.Fatal("sent before connecting")
	}
	// Kept over a reload.
	st := v.s.State()
	if len(st.Consents) != 2 || st.Consents[0] != c1 || st.Consents[1] != c2 {
		t.Fatalf("state %+v", st.Consents)
	}
	v = w.visitor(v.s.me, st)
	a := w.agent(0)
	a.connect(w.relay)
	pump(w.relay, a)
	a.take()
	v.connect(w.relay)
	pump(w.relay, v, a)
	evs := only[ConsentReceiptsEvent](v.take())
	if len(evs) != 2 || len(evs[1].Receipts) != 2 || evs[1].Conv != v.s.Conv() ||
		evs[1].Receipts[0].Decision != protocol.ConsentAccepted || evs[1].Receipts[1].Decision != protocol.ConsentDeclined ||
		evs[1].Receipts[1].TextHash != c2.TextHash || evs[1].Receipts[0].FlowVersion != 4 {
		t.Fatalf("visitor receipts: %#v", evs)
	}
	if v.s.Consents() != 0 || len(v.s.State().Consents) != 0 || w.relay.consents != 2 {
		t.Fatalf("left %d, relay got %d", v.s.Consents(), w.relay.consents)
	}
	// Pushed to the agent.
	if got := only[ConsentReceiptsEvent](a.take()); len(got) != 2 || len(got[1].Receipts) != 2 {
		t.Fatalf("agent receipts: %#v", got)
	}
	// A refused receipt is dropped and reported; the next one goes out.
	w.relay.consentCode = protocol.CodeLimit
	v.s.SendConsent(c1)
	v.s.SendConsent(c2)
	pump(w.relay, v)
	failed := only[ConsentFailedEvent](v.take())
	if len(failed) != 2 || failed[0].Consent != c1 || failed[0].Code != protocol.CodeLimit || v.s.Consents() != 0 {
		t.Fatalf("failed: %#v", failed)
	}
	// A transient refusal keeps it for the next connection.
	w.relay.consentCode = protocol.CodeRateLimited
	v.s.SendConsent(c1)
	pump(w.relay, v)
	if v.s.Consents() != 1 || v.s.Status() != StatusOffline {
		t.Fatalf("after a transient refusal: %d %v", v.s.Consents(), v.s.Status())
	}
	w.relay.consentCode = 0
	v.connect(w.relay)
	pump(w.relay, v)
	if v.s.Consents() != 0 {
		t.Fatal("not resent")
	}
	// Limits and roles.
	for i := 0; i < MaxConsents; i++ {
		v.s.consents = append(v.s.consents, c1)
	}
	if _, err := v.s.SendConsent(c1); !errors.Is(err, ErrOutboxFull) {
		t.Fatalf("full: %v", err)
	}
	if _, err := v.s.SendConsent(Consent{}); !errors.Is(err, ErrConfig) {
		t.Fatalf("zero flow version: %v", err)
	}
	if _, err := a.s.SendConsent(c1); !errors.Is(err, ErrRole) {
		t.Fatalf("agent: %v", err)
	}
	bad := v.s.State()
	bad.Consents = append(bad.Consents, Consent{})
	if _, err := New(w.cfg(protocol.RoleVisitor, v.s.me, bad)); !errors.Is(err, ErrConfig) {
		t.Fatalf("invalid stored consent: %v", err)
	}
	// Receipts of another conversation are a protocol error for a visitor.
	other := v.s.Conv()
	other[0] ^= 1
	evs2 := v.s.Receive(v.conn, protocol.Encode(0, &protocol.ConsentReceipts{Conv: other}))
	if len(only[ErrorEvent](evs2)) != 1 {
		t.Fatalf("foreign receipts: %#v", evs2)
	}
}
