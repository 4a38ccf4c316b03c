package visitor

import (
	"crypto/sha256"
	"strings"
	"testing"

	"siegel/shared/content"
	"siegel/shared/envelope"
	"siegel/shared/flow"
	"siegel/shared/protocol"
	"siegel/widget/flowengine"
)

const consentDE = "Dürfen wir Name und E-Mail-Adresse speichern, um Sie zurückzurufen?"

// line is one stored envelope as an agent reads it.
type line struct {
	typ      content.Type
	text     string // text, bot text, answer value; "accepted"/"declined"; "handoff"
	variable string
	personal bool
}

// transcript opens every envelope the relay stored, as the agent.
func (w *testWorld) transcript() []line {
	w.t.Helper()
	var out []line
	conv := w.relay.conns[0].conv
	for _, raw := range w.relay.envs {
		if raw == nil { // replaced by a correction
			continue
		}
		o, err := envelope.Open(raw, w.agent, w.site, conv)
		if err != nil {
			w.t.Fatalf("agent cannot open: %v", err)
		}
		l := line{typ: content.Type(o.Type)}
		switch l.typ {
		case content.TypeText, content.TypeBot:
			l.text = string(o.Content)
		case content.TypeAnswer:
			a, err := content.DecodeAnswer(o.Content)
			if err != nil {
				w.t.Fatal(err)
			}
			l.text, l.variable, l.personal = a.Value, a.Variable, a.Personal
		case content.TypeConsent:
			c, err := content.DecodeConsent(o.Content)
			if err != nil {
				w.t.Fatal(err)
			}
			if c.FlowVersion != w.revision || c.TextHash != sha256.Sum256([]byte(consentDE)) {
				w.t.Fatalf("consent record %+v", c)
			}
			l.text = "declined"
			if c.Accepted {
				l.text = "accepted"
			}
		case content.TypeHandoff:
			h, err := content.DecodeHandoff(o.Content)
			if err != nil || h.Reason != content.HandoffPerson {
				w.t.Fatalf("handoff %+v %v", h, err)
			}
			l.text = "handoff"
		}
		out = append(out, l)
	}
	return out
}

func sameLines(t *testing.T, got, want []line) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d envelopes, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("envelope %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// talkLocally walks the flow as a visitor who only talks to the bot: FAQ
// questions, choices, anonymous answers, a consent shown and declined.
func talkLocally(t *testing.T, tw *testWidget) {
	t.Helper()
	tw.choose("Frage stellen")
	if p := tw.chat.Prompt(); p.Kind != PromptQuestion {
		t.Fatalf("faq prompt: %+v", p)
	}
	if u := tw.compose("Wann habt ihr geöffnet?"); !u.Clear || u.Reask != "" {
		t.Fatalf("faq question: %+v", u)
	}
	tw.choose("Rückruf")
	tw.answer("Haarschnitt")
	if u := tw.answer("elf"); u.Reask == "" || u.Clear {
		t.Fatalf("invalid number not re-asked: %+v", u)
	}
	tw.answer("2")
	p := tw.chat.Prompt()
	if p.Kind != PromptConsent || p.Text != consentDE || p.PrivacyURL != "https://example.com/datenschutz" ||
		len(p.Options) != 2 {
		t.Fatalf("consent prompt: %+v", p)
	}
	// Text typed while the consent dialog is open is refused and kept nowhere.
	if u := tw.compose("SENTINEL-typed-at-consent@example.com"); u.Reask == "" || u.Clear {
		t.Fatalf("text at consent: %+v", u)
	}
	tw.consent(false)
}

func TestBotOnlyConversationSendsNothing(t *testing.T) {
	w := newTestWorld(t)
	tw, u := w.open("", "de")
	if !u.Prompt || tw.chat.Prompt().Kind != PromptChoices {
		t.Fatalf("start: %+v %+v", u, tw.chat.Prompt())
	}
	if got := tw.chat.Model().Status(); got != tw.chat.s.StatusLocal {
		t.Fatalf("status %q", got)
	}
	talkLocally(t, tw)
	if tw.connect || w.relay.dials != 0 || w.relay.frames != 0 {
		t.Fatalf("bot-only talk reached the relay: connect=%v dials=%d frames=%d", tw.connect, w.relay.dials, w.relay.frames)
	}
	st := tw.sess.State()
	if st.NextSeq != 1 || len(st.Outbox) != 0 || len(st.Consents) != 0 || tw.chat.Bot().Sealed() != 0 {
		t.Fatalf("something was sealed: %+v sealed=%d", st, tw.chat.Bot().Sealed())
	}
	// The visitor saw the whole conversation, answers as visitor bubbles.
	want := []shown{
		{"bot", "", "Willkommen!"},
		{"bot", "", "Was möchten Sie tun?"},
		{"visitor", "", "Frage stellen"},
		{"bot", "", "Ihre Frage bitte."},
		{"visitor", "", "Wann habt ihr geöffnet?"},
		{"bot", "", "Montag bis Freitag von 9 bis 17 Uhr."},
		{"bot", "", "Was möchten Sie tun?"},
		{"visitor", "", "Rückruf"},
		{"bot", "", "Worum geht es?"},
		{"visitor", "", "Haarschnitt"},
		{"bot", "", "Wie viele Personen?"},
		{"visitor", "", "2"},
		{"bot", "", consentDE},
		{"visitor", "", "Abgelehnt"},
		{"bot", "", "Gut, dann speichern wir nichts."},
		{"bot", "", "Was möchten Sie tun?"},
	}
	if got := tw.shown(); !same(got, want) {
		t.Fatalf("shown:\n%q\nwant\n%q", got, want)
	}
	// Still local after a reload.
	tw2, _ := w.open(tw.stored(), "de")
	if tw2.connect || w.relay.dials != 0 {
		t.Fatal("reload connected")
	}
	if got := tw2.shown(); !same(got, want) {
		t.Fatalf("after reload:\n%q\nwant\n%q", got, want)
	}
}

func TestHandoffSharesTranscriptInOrder(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "de")
	talkLocally(t, tw)
	if w.relay.frames != 0 {
		t.Fatal("frames before the handoff")
	}
	u := tw.choose("Mit einem Menschen sprechen")
	if !u.Connect || w.relay.dials != 1 {
		t.Fatalf("handoff did not connect: %+v", u)
	}
	sameLines(t, w.transcript(), []line{
		{typ: content.TypeBot, text: "Willkommen!"},
		{typ: content.TypeBot, text: "Was möchten Sie tun?"},
		{typ: content.TypeAnswer, text: "Frage stellen"},
		{typ: content.TypeBot, text: "Ihre Frage bitte."},
		{typ: content.TypeText, text: "Wann habt ihr geöffnet?"},
		{typ: content.TypeBot, text: "Montag bis Freitag von 9 bis 17 Uhr."},
		{typ: content.TypeBot, text: "Was möchten Sie tun?"},
		{typ: content.TypeAnswer, text: "Rückruf"},
		{typ: content.TypeBot, text: "Worum geht es?"},
		{typ: content.TypeAnswer, text: "Haarschnitt", variable: "topic"},
		{typ: content.TypeBot, text: "Wie viele Personen?"},
		{typ: content.TypeAnswer, text: "2", variable: "count"},
		{typ: content.TypeBot, text: consentDE},
		{typ: content.TypeConsent, text: "declined"},
		{typ: content.TypeBot, text: "Gut, dann speichern wir nichts."},
		{typ: content.TypeBot, text: "Was möchten Sie tun?"},
		{typ: content.TypeAnswer, text: "Mit einem Menschen sprechen"},
		{typ: content.TypeBot, text: "Ich verbinde Sie mit einem Menschen."},
		{typ: content.TypeHandoff, text: "handoff"},
	})
	// The declined consent's receipt went along.
	if len(w.relay.receipts) != 1 || w.relay.receipts[0].Decision != protocol.ConsentDeclined ||
		w.relay.receipts[0].FlowVersion != 7 || w.relay.receipts[0].TextHash != sha256.Sum256([]byte(consentDE)) {
		t.Fatalf("receipts %+v", w.relay.receipts)
	}
	for _, l := range w.transcript() {
		if strings.Contains(l.text, "SENTINEL") {
			t.Fatal("text typed at the consent dialog was sent")
		}
	}
	if st := tw.sess.State(); len(st.Outbox) != 0 || len(st.Consents) != 0 {
		t.Fatalf("not everything acknowledged: %+v", st)
	}
	// Nothing shown twice, visitor answers now sent.
	got := tw.shown()
	if len(got) != 18 || got[17] != (shown{"bot", "", "Ich verbinde Sie mit einem Menschen."}) ||
		got[2] != (shown{"visitor", "sent", "Frage stellen"}) {
		t.Fatalf("shown after handoff: %q", got)
	}
	// Now the composer talks to the person.
	if u := tw.compose("Hallo, ist jemand da?"); !u.Clear {
		t.Fatalf("composer after handoff: %+v", u)
	}
	tr := w.transcript()
	if l := tr[len(tr)-1]; l != (line{typ: content.TypeText, text: "Hallo, ist jemand da?"}) {
		t.Fatalf("last envelope %+v", l)
	}
	if tw.chat.Model().Status() == tw.chat.s.StatusLocal {
		t.Fatal("status still says local")
	}
}

func TestAcceptedConsentSharesPersonalAnswers(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "de")
	tw.choose("Rückruf")
	tw.answer("Farbe")
	tw.answer("1")
	tw.consent(true)
	if w.relay.frames != 0 {
		t.Fatal("accepting alone reached the relay")
	}
	if p := tw.chat.Prompt(); p.Kind != PromptField || !p.Field.Personal || p.Field.Autocomplete != "name" {
		t.Fatalf("name prompt %+v", p)
	}
	u := tw.answer("Erika Mustermann")
	if !u.Connect || w.relay.dials != 1 {
		t.Fatalf("personal answer after consent did not share: %+v", u)
	}
	sameLines(t, w.transcript(), []line{
		{typ: content.TypeBot, text: "Willkommen!"},
		{typ: content.TypeBot, text: "Was möchten Sie tun?"},
		{typ: content.TypeAnswer, text: "Rückruf"},
		{typ: content.TypeBot, text: "Worum geht es?"},
		{typ: content.TypeAnswer, text: "Farbe", variable: "topic"},
		{typ: content.TypeBot, text: "Wie viele Personen?"},
		{typ: content.TypeAnswer, text: "1", variable: "count"},
		{typ: content.TypeBot, text: consentDE},
		{typ: content.TypeConsent, text: "accepted"},
		{typ: content.TypeBot, text: "Wie heißen Sie?"},
		{typ: content.TypeAnswer, text: "Erika Mustermann", variable: "name", personal: true},
		{typ: content.TypeBot, text: "Ihre E-Mail-Adresse?"},
	})
	if len(w.relay.receipts) != 1 || w.relay.receipts[0].Decision != protocol.ConsentAccepted {
		t.Fatalf("receipts %+v", w.relay.receipts)
	}
	// An invalid email is re-asked and not sent; a valid one is, at once.
	n := len(w.relay.envs)
	if u := tw.answer("erika@"); u.Reask == "" || len(w.relay.envs) != n {
		t.Fatalf("invalid email: %+v", u)
	}
	tw.answer("erika@example.com")
	tr := w.transcript()
	if l := tr[n]; l != (line{typ: content.TypeAnswer, text: "erika@example.com", variable: "email", personal: true}) {
		t.Fatalf("email envelope %+v", l)
	}
	if tr[len(tr)-1].typ != content.TypeHandoff {
		t.Fatalf("flow should end in a handoff: %+v", tr[len(tr)-1])
	}
}

// A personal answer after a declined consent is never sealed, whatever the
// transcript says (the engine never produces one; this checks the guard).
func TestPersonalAnswerAfterDeclineIsNeverSealed(t *testing.T) {
	w := newTestWorld(t)
	b := NewBot(w.flow, w.revision, "de", "", w.clock)
	b.Start()
	b.Choose(1)
	b.Input("Farbe")
	b.Input("3")
	b.Consent(false) // → "declined" → menu
	// Inject personal answers behind the decline, and one flagged only by its
	// step (email input), then reach the handoff.
	inject := []flowengine.Entry{
		{Who: flowengine.Visitor, Step: "name", Text: "SENTINEL-name", Variable: "name", Personal: true},
		{Who: flowengine.Visitor, Step: "email", Text: "sentinel@example.com", Variable: "email"},
	}
	b.Choose(2) // handoff
	tr := b.Transcript()
	i := len(tr) - 3 // before the menu's answer
	b.t = append(append(append([]flowengine.Entry(nil), tr[:i]...), inject...), tr[i:]...)
	if !b.Shared() {
		t.Fatal("handoff did not share")
	}
	var seen []Item
	for {
		it, ok := b.Next()
		if !ok {
			break
		}
		seen = append(seen, it)
		b.Done()
	}
	if len(seen) != len(b.t) {
		t.Fatalf("%d items for %d entries", len(seen), len(b.t))
	}
	for _, it := range seen {
		for _, e := range it.Envelopes {
			if strings.Contains(strings.ToLower(string(e.Content)), "sentinel") {
				t.Fatalf("entry %d sealed: %+v", it.Index, b.t[it.Index])
			}
			if e.Type == content.TypeAnswer {
				if a, _ := content.DecodeAnswer(e.Content); a.Personal {
					t.Fatalf("personal answer sealed: %+v", a)
				}
			}
		}
	}
	// The same entries after an accept are sealed.
	b.t[i-2].Consent.Accepted = true
	b.sealed = 0
	found := 0
	for {
		it, ok := b.Next()
		if !ok {
			break
		}
		for _, e := range it.Envelopes {
			if strings.Contains(strings.ToLower(string(e.Content)), "sentinel") {
				found++
			}
		}
		b.Done()
	}
	if found != 2 {
		t.Fatalf("%d personal answers sealed after an accept, want 2", found)
	}
}

func TestResumeBotOnlyContinuesTheFlow(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "en")
	tw.choose("Callback")
	tw.answer("Colour")
	before := tw.shown()
	tw2, u := w.open(tw.stored(), "de") // the stored language wins
	if !u.Prompt || tw2.connect {
		t.Fatalf("reload: %+v", u)
	}
	if got := tw2.shown(); !same(got, before) {
		t.Fatalf("after reload:\n%q\nwant\n%q", got, before)
	}
	p := tw2.chat.Prompt()
	if p.Kind != PromptField || p.Field.Type != "number" || p.Field.Label != "Your answer (a number)" {
		t.Fatalf("prompt after reload: %+v", p)
	}
	tw2.answer("4")
	if p := tw2.chat.Prompt(); p.Kind != PromptConsent || p.Options[0] != "Accept" {
		t.Fatalf("consent after reload: %+v", p)
	}
	// Reload with the consent dialog open: its text is in the dialog, not
	// (yet) in the chat.
	tw3, _ := w.open(tw2.stored(), "en")
	if p := tw3.chat.Prompt(); p.Kind != PromptConsent || !strings.HasPrefix(p.Text, "May we store") {
		t.Fatalf("consent prompt after reload: %+v", p)
	}
	for _, m := range tw3.shown() {
		if strings.HasPrefix(m.text, "May we store") {
			t.Fatal("pending consent text shown in the chat")
		}
	}
	tw3.consent(true)
	got := tw3.shown()
	if n := len(got); got[n-3].text != "May we store your name and email address to call you back?" ||
		got[n-2] != (shown{"visitor", "", "Accepted"}) || got[n-1].text != "What is your name?" {
		t.Fatalf("after the decision: %q", got)
	}
	if w.relay.frames != 0 {
		t.Fatal("frames")
	}
}

func TestResumeAfterHandoffShowsHistoryOnce(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "de")
	tw.choose("Frage stellen")
	tw.compose("Was kostet das?")
	tw.choose("Mit einem Menschen sprechen")
	tw.compose("Hallo?")
	before := tw.shown()
	if len(before) != 10 || before[9] != (shown{"visitor", "sent", "Hallo?"}) {
		t.Fatalf("before reload: %q", before)
	}
	tw2, u := w.open(tw.stored(), "de")
	if !u.Connect || w.relay.dials != 2 {
		t.Fatalf("reload of a shared conversation must connect: %+v", u)
	}
	if got := tw2.shown(); !same(got, before) {
		t.Fatalf("after reload:\n%q\nwant\n%q", got, before)
	}
	if p := tw2.chat.Prompt(); p.Kind != PromptNone {
		t.Fatalf("prompt after handoff: %+v", p)
	}
	n := len(w.relay.envs)
	tw2.compose("Noch da?")
	if len(w.relay.envs) != n+1 {
		t.Fatal("composer after reload did not send")
	}
}

// Entries sealed while offline stay queued; after a reload they show once
// (queued, then acknowledged) and the rest of the transcript goes after them.
func TestResumeWithQueuedTranscript(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.openWith("", "de", true)
	tw.choose("Mit einem Menschen sprechen")
	st := tw.sess.State()
	if len(st.Outbox) != 5 || w.relay.dials != 0 {
		t.Fatalf("outbox %d dials %d", len(st.Outbox), w.relay.dials)
	}
	before := tw.shown()
	if before[2] != (shown{"visitor", "pending", "Mit einem Menschen sprechen"}) {
		t.Fatalf("queued answer: %q", before)
	}
	tw2, u := w.open(tw.stored(), "de")
	if !u.Connect {
		t.Fatal("no connect")
	}
	got := tw2.shown()
	if len(got) != len(before) || got[2] != (shown{"visitor", "sent", "Mit einem Menschen sprechen"}) {
		t.Fatalf("after reload: %q", got)
	}
	sameLines(t, w.transcript(), []line{
		{typ: content.TypeBot, text: "Willkommen!"},
		{typ: content.TypeBot, text: "Was möchten Sie tun?"},
		{typ: content.TypeAnswer, text: "Mit einem Menschen sprechen"},
		{typ: content.TypeBot, text: "Ich verbinde Sie mit einem Menschen."},
		{typ: content.TypeHandoff, text: "handoff"},
	})
}

func TestLoadFlowAndLanguage(t *testing.T) {
	w := newTestWorld(t)
	if f, rev, err := LoadFlow("  ", "3"); f != nil || rev != 0 || err != nil {
		t.Fatalf("empty flow: %v %v %v", f, rev, err)
	}
	for _, c := range [][2]string{{"AQ==", "1"}, {"***", "1"}, {"AQ", "1"}} {
		if _, _, err := LoadFlow(c[0], c[1]); err == nil {
			t.Errorf("LoadFlow(%q) accepted", c[0])
		}
	}
	for _, rev := range []string{"", "0", "-1", "4294967296", "x"} {
		if _, _, err := LoadFlow("AQ==", rev); err == nil {
			t.Errorf("revision %q accepted", rev)
		}
	}
	for _, c := range []struct {
		langs []string
		want  string
	}{
		{nil, "de"}, {[]string{"fr", "en-GB"}, "en"}, {[]string{"EN"}, "en"}, {[]string{"de-AT", "en"}, "de"},
		{[]string{"fr"}, "de"},
	} {
		if got := PickLang(w.flow, c.langs); got != c.want {
			t.Errorf("PickLang(%q) = %q, want %q", c.langs, got, c.want)
		}
	}
	// A state of another revision is not restored.
	b := NewBot(w.flow, w.revision, "de", "", nil)
	b.Start()
	st := b.State()
	if _, err := RestoreBot(w.flow, w.revision+1, st, "", nil); err == nil {
		t.Fatal("restored a state of another revision")
	}
	st.Sealed = 99
	if _, err := RestoreBot(w.flow, w.revision, st, "", nil); err == nil {
		t.Fatal("restored more sealed entries than the transcript has")
	}
}

func TestComposerRouting(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "de")
	// At a choice: a typed label chooses, other text is refused with a hint.
	if u := tw.compose("etwas anderes"); u.Reask == "" || u.Clear {
		t.Fatalf("text at a choice: %+v", u)
	}
	if u := tw.compose("  rückruf "); !u.Clear || tw.chat.Prompt().Kind != PromptField {
		t.Fatalf("typed label: %+v %+v", u, tw.chat.Prompt())
	}
	// At an ask step the composer answers it.
	tw.compose("Haare")
	if p := tw.chat.Prompt(); p.Kind != PromptField || p.Field.Type != "number" {
		t.Fatalf("after answering by composer: %+v", p)
	}
	if u := tw.compose(strings.Repeat("x", MaxChars+1)); u.Hint == "" || u.Clear {
		t.Fatalf("too long: %+v", u)
	}
	if u := tw.compose("   "); u.Hint != "" || u.Reask != "" || u.Clear {
		t.Fatalf("empty: %+v", u)
	}
	if w.relay.frames != 0 {
		t.Fatal("frames")
	}
	got := tw.shown()
	if got[len(got)-2] != (shown{"visitor", "", "Haare"}) {
		t.Fatalf("shown %q", got)
	}
}

func TestFieldAttributes(t *testing.T) {
	s := i18nDE()
	one, ten := 1.0, 10.5
	cases := []struct {
		out  flowengine.Output
		want Field
	}{
		{flowengine.Output{Input: 1, HTMLType: "text", MaxLength: 80, Variable: "topic"},
			Field{Type: "text", InputMode: "text", Autocomplete: "off", Label: s.LabelText, MaxLength: 80}},
		{flowengine.Output{Input: 1, HTMLType: "text", Autocomplete: "name", Personal: true, MaxLength: 4096, Variable: "name"},
			Field{Type: "text", InputMode: "text", Autocomplete: "name", Label: s.LabelText, MaxLength: 4096, Personal: true}},
		{flowengine.Output{Input: 2, HTMLType: "email", Autocomplete: "email", Personal: true, Variable: "email"},
			Field{Type: "email", InputMode: "email", Autocomplete: "email", Label: s.LabelEmail, Personal: true}},
		{flowengine.Output{Input: 3, HTMLType: "tel", Autocomplete: "tel", Personal: true, Variable: "phone"},
			Field{Type: "tel", InputMode: "tel", Autocomplete: "tel", Label: s.LabelPhone, Personal: true}},
		{flowengine.Output{Input: 4, HTMLType: "number", Min: &one, Max: &ten, Variable: "n"},
			Field{Type: "number", InputMode: "decimal", Autocomplete: "off", Label: s.LabelNumber, Min: "1", Max: "10.5", Step: "any"}},
		{flowengine.Output{Input: 5, HTMLType: "date", Variable: "d"},
			Field{Type: "date", Autocomplete: "off", Label: s.LabelDate}},
	}
	for _, c := range cases {
		o := c.out
		o.Kind = flowengine.OutAsk
		p := promptOf(&o, 3, s) // an ask step
		if p.Kind != PromptField || p.Field != c.want {
			t.Errorf("input %d: got %+v, want %+v", o.Input, p.Field, c.want)
		}
	}
	o := flowengine.Output{Kind: flowengine.OutAsk, Input: 1, HTMLType: "text"}
	if p := promptOf(&o, 8, s); p.Kind != PromptQuestion { // an faq step
		t.Errorf("faq: %+v", p)
	}
	o = flowengine.Output{Kind: flowengine.OutConsent, Text: "T", PrivacyURL: "javascript:alert(1)", Options: []string{"a", "b"}}
	if p := promptOf(&o, 4, s); p.Kind != PromptConsent || p.PrivacyURL != "" || p.Text != "T" {
		t.Errorf("consent with a bad URL: %+v", p)
	}
}

func TestEndedFlowRefusesText(t *testing.T) {
	src := `{"version": 1, "languages": ["de"], "start": "a", "steps": {
		"a": {"kind": "say", "text": {"de": "Hallo."}, "next": "b"},
		"b": {"kind": "end", "text": {"de": "Auf Wiedersehen."}}}}`
	f, probs := flow.Parse("end.json", []byte(src))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	w := newTestWorld(t)
	w.flow = f
	tw, u := w.open("", "de")
	if !u.Prompt || tw.chat.Prompt().Kind != PromptNone {
		t.Fatalf("ended: %+v", tw.chat.Prompt())
	}
	if u := tw.compose("Hallo?"); u.Hint != i18nDE().HintNoInput || u.Clear {
		t.Fatalf("text after the end: %+v", u)
	}
	if got := tw.shown(); !same(got, []shown{{"bot", "", "Hallo."}, {"bot", "", "Auf Wiedersehen."}}) {
		t.Fatalf("shown %q", got)
	}
	if w.relay.frames != 0 || tw.connect {
		t.Fatal("an ended flow reached the relay")
	}
}
