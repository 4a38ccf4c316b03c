package agent

import (
	"crypto/rand"
	"crypto/sha256"
	"slices"
	"strings"
	"testing"
	"time"

	"siegel/shared/content"
	"siegel/shared/envelope"
	"siegel/shared/protocol"
	"siegel/widget/session"
)

var (
	consentText = "Ich willige ein, dass meine Angaben zur Terminvereinbarung verarbeitet werden."
	consentHash = sha256.Sum256([]byte(consentText))
	// 2025-11-28 14:05:09 UTC
	consentAt = time.Date(2025, 11, 28, 14, 5, 9, 0, time.UTC).UnixMilli()
)

func answer(v string, personal bool, k content.InputKind, val string) []byte {
	return content.EncodeAnswer(content.Answer{Variable: v, Personal: personal, Kind: k, Value: val})
}

func consent(accepted bool) []byte {
	return content.EncodeConsent(content.Consent{FlowVersion: 7, TextHash: consentHash, Accepted: accepted, Time: consentAt})
}

func decoded(from From, t content.Type, b []byte) Message {
	m := Message{From: from}
	m.setContent(t, b, "")
	return m
}

func TestSetContent(t *testing.T) {
	m := decoded(FromVisitor, content.TypeText, []byte("Hallo <b>da</b>"))
	if m.Kind != KindText || m.Text != "Hallo <b>da</b>" || m.From != FromVisitor || m.Unreadable {
		t.Errorf("text: %+v", m)
	}
	m = decoded(FromAgent, content.TypeText, []byte("Guten Tag"))
	if m.Kind != KindText || m.Text != "Guten Tag" || m.From != FromAgent {
		t.Errorf("agent text: %+v", m)
	}
	m = decoded(FromVisitor, content.TypeBot, []byte("Wie kann ich helfen?"))
	if m.Kind != KindBot || m.From != FromBot || m.Text != "Wie kann ich helfen?" {
		t.Errorf("bot: %+v", m)
	}
	m = decoded(FromVisitor, content.TypeAnswer, answer("email", true, content.InputEmail, "a@example.org"))
	if m.Kind != KindAnswer || m.From != FromVisitor || m.Variable != "email" || !m.Personal ||
		m.Input != content.InputEmail || m.Text != "a@example.org" {
		t.Errorf("answer: %+v", m)
	}
	m = decoded(FromVisitor, content.TypeAnswer, answer("", false, content.InputChoice, "Termin vereinbaren"))
	if m.Kind != KindAnswer || m.Variable != "" || m.Personal || m.Input != content.InputChoice || m.Text != "Termin vereinbaren" {
		t.Errorf("choice: %+v", m)
	}
	m = decoded(FromVisitor, content.TypeConsent, consent(true))
	if m.Kind != KindConsent || !m.Consent.Accepted || m.Consent.FlowVersion != 7 ||
		m.Consent.TextHash != consentHash || m.Consent.Time != consentAt || m.Text != "" {
		t.Errorf("consent: %+v", m)
	}
	m = decoded(FromVisitor, content.TypeHandoff, content.EncodeHandoff(content.Handoff{Reason: content.HandoffMessage, Note: "Bitte zurückrufen"}))
	if m.Kind != KindHandoff || m.Reason != content.HandoffMessage || m.Text != "Bitte zurückrufen" {
		t.Errorf("handoff: %+v", m)
	}
	// A pending own reply carries its text without a content type.
	p := Message{From: FromAgent, Pending: true}
	p.setContent(0, nil, "Moment bitte")
	if p.Kind != KindText || p.Text != "Moment bitte" || p.Unreadable {
		t.Errorf("pending: %+v", p)
	}

	// Malformed or unknown contents, and bot contents from an agent: unreadable, nothing kept.
	bad := []struct {
		name string
		from From
		t    content.Type
		b    []byte
	}{
		{"empty text", FromVisitor, content.TypeText, nil},
		{"invalid UTF-8", FromVisitor, content.TypeText, []byte{'a', 0xff}},
		{"empty bot text", FromVisitor, content.TypeBot, nil},
		{"answer with bad flags", FromVisitor, content.TypeAnswer, []byte{2, 1, 1, 'x', 'v'}},
		{"personal choice", FromVisitor, content.TypeAnswer, []byte{1, 0, 0, 'J', 'a'}},
		{"answer without value", FromVisitor, content.TypeAnswer, []byte{0, 1, 1, 'x'}},
		{"short consent", FromVisitor, content.TypeConsent, consent(true)[:44]},
		{"consent decision 3", FromVisitor, content.TypeConsent, func() []byte { b := consent(true); b[36] = 3; return b }()},
		{"handoff reason 0", FromVisitor, content.TypeHandoff, []byte{0, 'x'}},
		{"empty handoff", FromVisitor, content.TypeHandoff, nil},
		{"unknown type", FromVisitor, 0x09, []byte("geheim")},
		{"type 0 not pending", FromVisitor, 0, []byte("geheim")},
		{"bot text by an agent", FromAgent, content.TypeBot, []byte("geheim")},
		{"answer by an agent", FromAgent, content.TypeAnswer, answer("email", true, content.InputEmail, "geheim@example.org")},
		{"handoff by an agent", FromAgent, content.TypeHandoff, []byte{1}},
	}
	for _, c := range bad {
		m := decoded(c.from, c.t, c.b)
		if !m.Unreadable || m.Kind != KindText || m.Text != "" || m.Variable != "" || m.Personal ||
			m.Consent != (content.Consent{}) || m.Reason != 0 {
			t.Errorf("%s: %+v", c.name, m)
		}
		for _, l := range []Lang{German, English} {
			sh := Strings(l).Show(&m, time.UTC)
			if sh != (Shown{Text: Strings(l).Unreadable}) {
				t.Errorf("%s (%s): shown %+v", c.name, l.Code(), sh)
			}
		}
	}
	// A readable copy replaces a stale state completely.
	m = decoded(FromVisitor, content.TypeAnswer, answer("email", true, content.InputEmail, "a@example.org"))
	m.setContent(content.TypeBot, []byte("Danke"), "")
	if m.Kind != KindBot || m.Text != "Danke" {
		t.Errorf("reused: %+v", m)
	}
}

func TestShow(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	de, en := Strings(German), Strings(English)
	cases := []struct {
		name   string
		m      Message
		de, en Shown
	}{
		{"visitor text", decoded(FromVisitor, content.TypeText, []byte("Hallo")),
			Shown{Name: "Besucher", Text: "Hallo"}, Shown{Name: "Visitor", Text: "Hallo"}},
		{"agent text", func() Message { m := decoded(FromAgent, content.TypeText, []byte("Hi")); m.Name = "Anna"; return m }(),
			Shown{Name: "Anna", Text: "Hi"}, Shown{Name: "Anna", Text: "Hi"}},
		{"bot", decoded(FromVisitor, content.TypeBot, []byte("Wie ist Ihre E-Mail-Adresse?")),
			Shown{Name: "Bot", Text: "Wie ist Ihre E-Mail-Adresse?"}, Shown{Name: "Bot", Text: "Wie ist Ihre E-Mail-Adresse?"}},
		{"personal email", decoded(FromVisitor, content.TypeAnswer, answer("email", true, content.InputEmail, "a@example.org")),
			Shown{Name: "Besucher", Label: "E-Mail", Text: "a@example.org", Marker: "personenbezogen"},
			Shown{Name: "Visitor", Label: "Email", Text: "a@example.org", Marker: "personal data"}},
		{"anonymous number", decoded(FromVisitor, content.TypeAnswer, answer("anzahl_personen", false, content.InputNumber, "4")),
			Shown{Name: "Besucher", Label: "Anzahl personen", Text: "4"},
			Shown{Name: "Visitor", Label: "Anzahl personen", Text: "4"}},
		{"choice", decoded(FromVisitor, content.TypeAnswer, answer("", false, content.InputChoice, "Rückruf")),
			Shown{Name: "Besucher", Text: "Rückruf"}, Shown{Name: "Visitor", Text: "Rückruf"}},
		{"consent accepted", decoded(FromVisitor, content.TypeConsent, consent(true)),
			Shown{Text: "Einwilligung erteilt", Detail: "28.11.2025 15:05 · Flow-Version 7 · Text " + HashPrefix(consentHash)},
			Shown{Text: "Consent given", Detail: "2025-11-28 15:05 · flow version 7 · text " + HashPrefix(consentHash)}},
		{"consent declined", decoded(FromVisitor, content.TypeConsent, consent(false)),
			Shown{Text: "Einwilligung abgelehnt", Detail: "28.11.2025 15:05 · Flow-Version 7 · Text " + HashPrefix(consentHash)},
			Shown{Text: "Consent declined", Detail: "2025-11-28 15:05 · flow version 7 · text " + HashPrefix(consentHash)}},
		{"handoff person", decoded(FromVisitor, content.TypeHandoff, []byte{content.HandoffPerson}),
			Shown{Text: "Der Besucher möchte mit einem Menschen sprechen"},
			Shown{Text: "The visitor wants to talk to a person"}},
		{"handoff message", decoded(FromVisitor, content.TypeHandoff, content.EncodeHandoff(content.Handoff{Reason: content.HandoffMessage, Note: "Bitte\nzurückrufen"})),
			Shown{Text: "Der Besucher hat eine Nachricht hinterlassen", Detail: "Bitte\nzurückrufen"},
			Shown{Text: "The visitor left a message", Detail: "Bitte\nzurückrufen"}},
	}
	for _, c := range cases {
		if got := de.Show(&c.m, loc); got != c.de {
			t.Errorf("%s (de): %+v, want %+v", c.name, got, c.de)
		}
		if got := en.Show(&c.m, loc); got != c.en {
			t.Errorf("%s (en): %+v, want %+v", c.name, got, c.en)
		}
	}
	if HashPrefix(consentHash) != HashHex(consentHash)[:8] || len(HashHex(consentHash)) != 64 {
		t.Error("hash forms")
	}
	var h [32]byte
	h[0], h[1], h[2], h[3], h[4] = 0xde, 0xad, 0x0b, 0xef, 0xff
	if HashPrefix(h) != "dead0bef" {
		t.Errorf("HashPrefix = %q", HashPrefix(h))
	}
}

func TestKindStrings(t *testing.T) {
	want := map[Kind]string{KindText: "text", KindBot: "bot", KindAnswer: "answer", KindConsent: "consent", KindHandoff: "handoff"}
	for k, s := range want {
		if k.String() != s {
			t.Errorf("%d: %q", k, k.String())
		}
		if k.System() != (k == KindConsent || k == KindHandoff) {
			t.Errorf("%s: system %v", s, k.System())
		}
	}
	if FromBot.String() != "bot" || FromVisitor.String() != "visitor" || FromAgent.String() != "agent" {
		t.Error("from strings")
	}
}

func TestVariableLabel(t *testing.T) {
	de, en := Strings(German), Strings(English)
	cases := []struct{ in, de, en string }{
		{"email", "E-Mail", "Email"},
		{"E_Mail", "E-Mail", "Email"},
		{"telefon", "Telefon", "Phone"},
		{"phone_number", "Telefon", "Phone"},
		{"name", "Name", "Name"},
		{"vorname", "Vorname", "First name"},
		{"last_name", "Nachname", "Last name"},
		{"datum", "Datum", "Date"},
		{"wunschtermin", "Termin", "Appointment"},
		{"nachricht", "Nachricht", "Message"},
		{"firma", "Firma", "Company"},
		{"anzahl_personen", "Anzahl personen", "Anzahl personen"},
		{"Budget", "Budget", "Budget"},
		{"x", "X", "X"},
		{"_", "", ""},
		{"42_tage", "42 tage", "42 tage"},
	}
	for _, c := range cases {
		if got := de.VariableLabel(c.in); got != c.de {
			t.Errorf("de %q: %q, want %q", c.in, got, c.de)
		}
		if got := en.VariableLabel(c.in); got != c.en {
			t.Errorf("en %q: %q, want %q", c.in, got, c.en)
		}
	}
}

func TestFormatDateTime(t *testing.T) {
	at := time.Date(2025, 3, 4, 23, 7, 0, 0, time.UTC)
	loc := time.FixedZone("CET", 3600)
	if got := Strings(German).FormatDateTime(at, loc); got != "05.03.2025 00:07" {
		t.Errorf("de: %q", got)
	}
	if got := Strings(English).FormatDateTime(at, loc); got != "2025-03-05 00:07" {
		t.Errorf("en: %q", got)
	}
	if got := Strings(German).FormatDateTime(at, nil); got != "04.03.2025 23:07" {
		t.Errorf("no location: %q", got)
	}
}

func TestWaiting(t *testing.T) {
	handoff := decoded(FromVisitor, content.TypeHandoff, []byte{content.HandoffPerson})
	bot := decoded(FromVisitor, content.TypeBot, []byte("Einen Moment"))
	text := decoded(FromVisitor, content.TypeText, []byte("Hallo?"))
	reply := decoded(FromAgent, content.TypeText, []byte("Hier Anna"))
	failed := reply
	failed.Failed = true
	pending := reply
	pending.Pending = true
	broken := decoded(FromVisitor, 0x09, []byte{1})
	brokenAgent := Message{From: FromAgent, Unreadable: true}
	cases := []struct {
		name string
		msgs []Message
		want bool
	}{
		{"empty", nil, false},
		{"no handoff", []Message{bot, text}, false},
		{"handoff", []Message{bot, handoff}, true},
		{"handoff then visitor text", []Message{handoff, text, bot}, true},
		{"answered", []Message{handoff, reply}, false},
		{"answered, then a new handoff", []Message{handoff, reply, text, handoff}, true},
		{"reply before handoff", []Message{reply, handoff}, true},
		{"reply pending", []Message{handoff, pending}, false},
		{"reply failed", []Message{handoff, failed}, true},
		{"unreadable entries", []Message{broken, brokenAgent}, false},
		{"unreadable agent entry", []Message{handoff, brokenAgent}, true},
	}
	for _, c := range cases {
		conv := &Conversation{Messages: c.msgs}
		if got := conv.Waiting(); got != c.want {
			t.Errorf("%s: %v", c.name, got)
		}
	}
}

// TestTranscriptFromSession drives the App with the session events of a bot
// transcript that reached the relay: every entry is shown in order, decoded,
// and locking forgets all of it.
func TestTranscriptFromSession(t *testing.T) {
	w := newWorld(t)
	v := w.newVisitor()
	w.say(v, "Hallo")
	w.unlock()
	w.app.Select(v.conv)
	w.relay.pump()
	c := w.app.Inbox().Get(v.conv)
	if c == nil || len(c.Messages) != 1 {
		t.Fatalf("conversation %+v", c)
	}
	ev := func(pos uint64, ty content.Type, b []byte) session.Event {
		e := session.MessageEvent{Conv: v.conv, Pos: pos, Stored: uint64(w.p.now.Unix()), Seq: pos, From: session.FromVisitor,
			Sender: v.id.SignKey(), Time: w.p.now.UnixMilli(), Type: ty, Content: b}
		if ty == content.TypeText || ty == content.TypeBot {
			e.Text = string(b)
		}
		return e
	}
	w.app.apply([]session.Event{
		ev(2, content.TypeBot, []byte("Worum geht es?")),
		ev(3, content.TypeAnswer, answer("", false, content.InputChoice, "Termin")),
		ev(5, content.TypeAnswer, answer("email", true, content.InputEmail, "a@example.org")),
		ev(4, content.TypeConsent, consent(true)),
		ev(6, content.TypeHandoff, []byte{content.HandoffPerson}),
		ev(7, 0x09, []byte("geheim")),
		session.RejectedEvent{Conv: v.conv, Pos: 8},
	})
	kinds := func() []string {
		var out []string
		for i := range c.Messages {
			m := &c.Messages[i]
			s := m.Kind.String() + "/" + m.From.String()
			if m.Unreadable {
				s = "unreadable"
			}
			out = append(out, s)
		}
		return out
	}
	want := []string{"text/visitor", "bot/bot", "answer/visitor", "consent/visitor", "answer/visitor", "handoff/visitor", "unreadable", "unreadable"}
	if got := kinds(); !slices.Equal(got, want) {
		t.Fatalf("kinds %v, want %v", got, want)
	}
	if !c.Waiting() {
		t.Error("handoff not waiting")
	}
	de := Strings(German)
	var lines []string
	for i := range c.Messages {
		sh := de.Show(&c.Messages[i], time.UTC)
		lines = append(lines, sh.Label+"|"+sh.Text+"|"+sh.Marker)
	}
	wantLines := []string{"|Hallo|", "|Worum geht es?|", "|Termin|", "|Einwilligung erteilt|", "E-Mail|a@example.org|personenbezogen",
		"|Der Besucher möchte mit einem Menschen sprechen|", "|" + de.Unreadable + "|", "|" + de.Unreadable + "|"}
	if !slices.Equal(lines, wantLines) {
		t.Errorf("shown %q", lines)
	}
	for _, l := range lines {
		if strings.Contains(l, "geheim") {
			t.Errorf("raw bytes of an unknown content shown: %q", l)
		}
	}
	// Every entry counts as unread until confirmed (the page is visible and
	// the conversation open, so all are confirmed).
	if c.Unread() != 0 {
		t.Errorf("unread %d", c.Unread())
	}

	// The agent answers: no longer waiting. (The fake relay holds copies at
	// the positions the events above came with, so the reply goes after them.)
	fc := w.relay.convs[v.conv]
	for len(fc.envs) < 8 {
		fc.envs, fc.stored = append(fc.envs, fc.envs[0]), append(fc.stored, fc.stored[0])
	}
	if !w.app.Reply("Guten Tag, hier Anna.") {
		t.Fatalf("reply: %s", w.app.Error())
	}
	if c.Waiting() {
		t.Error("still waiting after a reply")
	}
	w.relay.pump()
	if last := c.Messages[len(c.Messages)-1]; last.Pos != 9 || last.From != FromAgent || c.Waiting() {
		t.Errorf("after the reply was stored: %+v, waiting %v", last, c.Waiting())
	}

	msgs := c.Messages
	w.app.Lock()
	for _, m := range msgs {
		if m.Text != "" || m.Variable != "" || m.Consent != (content.Consent{}) || m.Personal {
			t.Errorf("lock kept %+v", m)
		}
	}
}

func TestReceipts(t *testing.T) {
	var in Inbox
	at := time.Date(2025, 11, 28, 14, 5, 0, 0, time.UTC).Unix()
	rs := []Receipt{{FlowVersion: 7, TextHash: consentHash, Accepted: true, Time: at}, {FlowVersion: 8, TextHash: consentHash, Time: at + 60}}
	if !in.SetReceipts(cid(1), rs) {
		t.Fatal("not changed")
	}
	c := in.Get(cid(1))
	rs[0].FlowVersion = 99 // the inbox keeps its own copy
	if c == nil || len(c.Receipts) != 2 || c.Receipts[0].FlowVersion != 7 {
		t.Fatalf("receipts %+v", c)
	}
	if in.SetReceipts(cid(1), c.Receipts) {
		t.Error("same list reported as a change")
	}
	h := HashPrefix(consentHash)
	if got := Strings(German).ReceiptLine(c.Receipts[0], time.UTC); got != "28.11.2025 14:05 · Einwilligung erteilt · Flow-Version 7 · Text "+h {
		t.Errorf("de: %q", got)
	}
	if got := Strings(English).ReceiptLine(c.Receipts[1], time.UTC); got != "2025-11-28 14:06 · Consent declined · flow version 8 · text "+h {
		t.Errorf("en: %q", got)
	}
	in.Remove(cid(1))
	if c.Receipts != nil || in.Get(cid(1)) != nil {
		t.Error("remove kept receipts")
	}
}

func TestReceiptsOf(t *testing.T) {
	got := receiptsOf([]protocol.ConsentReceipt{
		{FlowVersion: 3, TextHash: consentHash, Decision: protocol.ConsentAccepted, Time: 1767225600},
		{FlowVersion: 4, Decision: protocol.ConsentDeclined, Time: 1 << 63},
	})
	want := []Receipt{{FlowVersion: 3, TextHash: consentHash, Accepted: true, Time: 1767225600}, {FlowVersion: 4}}
	if !slices.Equal(got, want) {
		t.Errorf("receipts %+v", got)
	}
	if got := receiptsOf(nil); len(got) != 0 {
		t.Errorf("nil: %+v", got)
	}
}

// sayContent sends one transcript entry of the visitor through the relay.
func (w *world) sayContent(v *visitor, ty content.Type, b []byte) uint64 {
	w.t.Helper()
	v.seq++
	raw, err := envelope.Seal(rand.Reader, v.id, sortedKeys(v.id.BoxKey(), w.agent.BoxKey(), w.other.BoxKey()),
		envelope.Message{Site: w.site, Conv: v.conv, Seq: v.seq, Type: envelope.ContentType(ty), Time: w.p.now.UnixMilli(), Content: b})
	if err != nil {
		w.t.Fatal(err)
	}
	e, _ := envelope.Parse(raw)
	pos, ok := w.relay.append(v.conv, e, raw)
	if !ok {
		w.t.Fatal("relay refused visitor message")
	}
	w.relay.pump()
	return pos
}

// TestTranscriptThroughRelay: a bot transcript sealed by the visitor's
// browser arrives at the agent page, decrypted and decoded, in order.
func TestTranscriptThroughRelay(t *testing.T) {
	w := newWorld(t)
	v := w.newVisitor()
	w.sayContent(v, content.TypeBot, []byte("Guten Tag! Worum geht es?"))
	w.sayContent(v, content.TypeAnswer, answer("", false, content.InputChoice, "Rückruf"))
	w.sayContent(v, content.TypeConsent, consent(true))
	w.sayContent(v, content.TypeAnswer, answer("telefon", true, content.InputPhone, "+49 30 1234567"))
	w.sayContent(v, content.TypeHandoff, content.EncodeHandoff(content.Handoff{Reason: content.HandoffMessage, Note: "Ab 16 Uhr"}))
	w.unlock()
	w.app.Select(v.conv)
	w.relay.pump()
	c := w.app.Inbox().Get(v.conv)
	if c == nil || !c.Loaded || len(c.Messages) != 5 {
		t.Fatalf("conversation %+v", c)
	}
	en := Strings(English)
	var got []string
	for i := range c.Messages {
		m := &c.Messages[i]
		sh := en.Show(m, time.UTC)
		got = append(got, m.From.String()+"|"+m.Kind.String()+"|"+sh.Name+"|"+sh.Label+"|"+sh.Text+"|"+sh.Marker+"|"+sh.Detail)
	}
	want := []string{
		"bot|bot|Bot||Guten Tag! Worum geht es?||",
		"visitor|answer|Visitor||Rückruf||",
		"visitor|consent|||Consent given||2025-11-28 14:05 · flow version 7 · text " + HashPrefix(consentHash),
		"visitor|answer|Visitor|Phone|+49 30 1234567|personal data|",
		"visitor|handoff|||The visitor left a message||Ab 16 Uhr",
	}
	if !slices.Equal(got, want) {
		t.Errorf("transcript\n%q\nwant\n%q", got, want)
	}
	if !c.Waiting() || c.Unread() != 0 {
		t.Errorf("waiting %v unread %d", c.Waiting(), c.Unread())
	}
	// The agent can answer: the visitor's box key came with the transcript.
	if !w.app.Reply("Wir rufen Sie an.") {
		t.Fatalf("reply: %s", w.app.Error())
	}
	w.relay.pump()
	if c.Waiting() {
		t.Error("waiting after the reply")
	}
	if got := w.read(v); got[5] != "Wir rufen Sie an." {
		t.Errorf("visitor reads %q", got)
	}
}

// TestPrefetchShowsWaiting: after unlocking, the list knows which
// conversations wait for a person without any being opened or confirmed.
func TestPrefetchShowsWaiting(t *testing.T) {
	w := newWorld(t)
	waiting := w.newVisitor()
	w.sayContent(waiting, content.TypeBot, []byte("Möchten Sie mit jemandem sprechen?"))
	w.sayContent(waiting, content.TypeHandoff, []byte{content.HandoffPerson})
	answered := w.newVisitor()
	w.sayContent(answered, content.TypeHandoff, []byte{content.HandoffMessage})
	w.relay.convs[answered.conv].delivered = 1 // an agent saw it earlier
	other := w.newVisitor()
	w.say(other, "Frage")
	w.unlock()
	in := w.app.Inbox()
	if c := in.Get(waiting.conv); !c.Loaded || !c.Waiting() || c.Unread() != 2 {
		t.Errorf("waiting conversation: loaded %v waiting %v unread %d", c.Loaded, c.Waiting(), c.Unread())
	}
	if c := in.Get(other.conv); !c.Loaded || c.Waiting() || c.Unread() != 1 {
		t.Errorf("other conversation: loaded %v waiting %v unread %d", c.Loaded, c.Waiting(), c.Unread())
	}
	if c := in.Get(answered.conv); c.Loaded || c.Waiting() {
		t.Errorf("read conversation fetched (%v) or waiting (%v)", c.Loaded, c.Waiting())
	}
	for _, f := range w.relay.frames {
		if _, ok := f.(*protocol.Delivered); ok {
			t.Errorf("confirmed without opening: %+v", f)
		}
	}
}

// TestPrefetchBounded: no more than MaxPrefetch conversations are fetched
// by themselves.
func TestPrefetchBounded(t *testing.T) {
	w := newWorld(t)
	for i := range MaxPrefetch + 3 {
		w.say(w.newVisitor(), "Frage "+itoa(i))
	}
	w.unlock()
	fetches, loaded := 0, 0
	for _, f := range w.relay.frames {
		if _, ok := f.(*protocol.Fetch); ok {
			fetches++
		}
	}
	for _, c := range w.app.Inbox().Sorted() {
		if c.Loaded {
			loaded++
		}
	}
	if fetches != MaxPrefetch || loaded != MaxPrefetch {
		t.Errorf("%d fetches, %d loaded, want %d", fetches, loaded, MaxPrefetch)
	}
}

// TestReceiptsFromRelay: the relay's consent receipts reach the conversation
// through the session, replace the earlier list, and go with a lock.
func TestReceiptsFromRelay(t *testing.T) {
	w := newWorld(t)
	v := w.newVisitor()
	w.say(v, "Hallo")
	w.unlock()
	push := func(rs ...protocol.ConsentReceipt) {
		for _, s := range w.relay.socks {
			if s.authed && !s.closed {
				s.push(0, &protocol.ConsentReceipts{Conv: v.conv, Receipts: rs})
			}
		}
		w.relay.pump()
	}
	r1 := protocol.ConsentReceipt{FlowVersion: 3, TextHash: consentHash, Decision: protocol.ConsentDeclined, Time: 1767225600}
	r2 := protocol.ConsentReceipt{FlowVersion: 3, TextHash: consentHash, Decision: protocol.ConsentAccepted, Time: 1767225660}
	push(r1)
	c := w.app.Inbox().Get(v.conv)
	if len(c.Receipts) != 1 || c.Receipts[0].Accepted || c.Receipts[0].Time != 1767225600 {
		t.Fatalf("receipts %+v", c.Receipts)
	}
	push(r1, r2)
	if len(c.Receipts) != 2 || !c.Receipts[1].Accepted || c.Receipts[1].FlowVersion != 3 || c.Receipts[1].TextHash != consentHash {
		t.Fatalf("receipts %+v", c.Receipts)
	}
	w.app.Lock()
	if c.Receipts != nil || w.app.Inbox().Len() != 0 {
		t.Error("lock kept receipts")
	}
}
