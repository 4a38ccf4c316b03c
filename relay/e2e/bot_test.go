//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"siegel/shared/flow"
	"siegel/shared/ids"
	"siegel/shared/protocol"
)

// The tests in this file drive the shipped bot flow (shared/flow/shipped,
// docs/FLOWS.md) in the visitor's widget as a German-speaking visitor would,
// and check DESIGN.md promises 2 (the bot runs in the browser), 3 (consent
// before personal data) and 4 (the relay never sees plaintext) end to end.

// botVisit is one visitor (and maybe agent) session against a fresh relay.
type botVisit struct {
	r          *relayProc
	f          *flow.Flow
	browser    context.Context
	vctx, actx context.Context
	vrec, arec *recorder
	w          *widget
}

// startBotVisit starts a relay with the shipped flow, a German browser with a
// visitor and an agent tab, opens the demo page and the chat, and waits for
// the bot's greeting and menu.
func startBotVisit(t *testing.T) *botVisit {
	t.Helper()
	return startBotVisitWith(t)
}

// startBotVisitWith is startBotVisit with extra arguments for `relay demo`
// (e.g. -compact-within 2s).
func startBotVisitWith(t *testing.T, extra ...string) *botVisit {
	t.Helper()
	b := &botVisit{r: startRelayAt(t, t.TempDir(), freeAddr(t), freeAddr(t), extra...), f: shippedFlow(t)}
	if b.r.flowRev == 0 {
		t.Fatalf("relay demo printed no flow line (flow %q); it should serve the shipped flow", b.r.flowName)
	}
	b.browser = newGermanBrowser(t)
	b.vctx, b.vrec = newUser(t, b.browser, "visitor")
	b.actx, b.arec = newUser(t, b.browser, "agent")
	do(t, b.vctx, "open the demo page", chromedp.Navigate(b.r.demoURL))
	do(t, b.vctx, "wait for the launcher", chromedp.WaitVisible(chromedp.CSS(selLauncher)))
	b.w = openWidget(t, b.vctx, b.r)
	b.w.waitMessage("bot", say(t, b.f, "greeting"))
	b.w.waitMessage("bot", say(t, b.f, "menu"))
	return b
}

// toConsent goes from the menu through the appointment/callback request
// (kind: "Werkstatttermin" or "Rückruf"), answers the two anonymous
// questions and returns the consent dialog.
func (b *botVisit) toConsent(t *testing.T, kind, repair, day string) consentView {
	t.Helper()
	w, f := b.w, b.f
	w.choose("Termin oder Rückruf")
	w.waitMessage("visitor", "Termin oder Rückruf")
	w.waitMessage("bot", say(t, f, "request_kind"))
	w.choose(kind)
	w.waitMessage("visitor", kind)
	w.waitMessage("bot", say(t, f, "repair"))
	if fv := w.field(); fv.Type != "text" || fv.Autocomplete != "off" {
		t.Errorf("the repair question (anonymous text) shows type %q autocomplete %q, want text and off", fv.Type, fv.Autocomplete)
	}
	w.answer(repair)
	w.waitMessage("visitor", repair)
	w.waitMessage("bot", say(t, f, "day"))
	w.answerDate(day)
	w.waitMessage("visitor", day)
	return w.consent()
}

// TestBotOnlyNeverLeavesBrowser: two FAQ questions (one German with a typo),
// choices and an anonymous answer are handled in the browser alone: no
// WebSocket, no frame, no conversation at the relay (agent page, database,
// log), and the answer typed is nowhere in the relay's files or output
// (DESIGN promise 2).
func TestBotOnlyNeverLeavesBrowser(t *testing.T) {
	b := startBotVisit(t)
	w, f, r := b.w, b.f, b.r
	repair := "Die Bremse quietscht " + newSentinel("Sentinel")

	w.choose("Frage stellen")
	w.waitMessage("bot", say(t, f, "question"))
	q1 := "Wann habt ihr am Samstag geöfnet?" // typo: geöffnet
	w.send(q1)
	w.waitMessage("visitor", q1)
	w.waitMessage("bot", faqAnswer(t, f, "opening_hours"))
	w.waitMessage("bot", say(t, f, "after_answer"))

	w.choose("Noch eine Frage")
	w.waitCount("bot", say(t, f, "question"), 2)
	q2 := "Kann ich bei euch mit Kreditkarte bezahlen?"
	w.send(q2)
	w.waitMessage("visitor", q2)
	w.waitMessage("bot", faqAnswer(t, f, "payment"))
	w.waitCount("bot", say(t, f, "after_answer"), 2)

	w.choose("Termin oder Rückruf")
	w.waitMessage("bot", say(t, f, "request_kind"))
	w.choose("Rückruf")
	w.waitMessage("bot", say(t, f, "repair"))
	w.answer(repair)
	w.waitMessage("visitor", repair)
	w.waitMessage("bot", say(t, f, "day"))
	w.field() // the flow waits at the next question

	// The whole exchange, in order, in the widget.
	msgs, err := w.messages()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ from, text string }{
		{"bot", say(t, f, "greeting")}, {"bot", say(t, f, "menu")}, {"visitor", "Frage stellen"},
		{"bot", say(t, f, "question")}, {"visitor", q1}, {"bot", faqAnswer(t, f, "opening_hours")},
		{"bot", say(t, f, "after_answer")}, {"visitor", "Noch eine Frage"}, {"bot", say(t, f, "question")},
		{"visitor", q2}, {"bot", faqAnswer(t, f, "payment")}, {"bot", say(t, f, "after_answer")},
		{"visitor", "Termin oder Rückruf"}, {"bot", say(t, f, "request_kind")}, {"visitor", "Rückruf"},
		{"bot", say(t, f, "repair")}, {"visitor", repair}, {"bot", say(t, f, "day")},
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.From+": "+strings.TrimSpace(m.Body))
	}
	var wantS []string
	for _, x := range want {
		wantS = append(wantS, x.from+": "+x.text)
	}
	if !slices.Equal(got, wantS) {
		t.Errorf("the chat shows\n  %q\nwant\n  %q", got, wantS)
	}

	// Give a late connection time to show up, then: nothing reached the relay.
	time.Sleep(1500 * time.Millisecond)
	checkNoRelayContact(t, b.vrec, "after FAQ answers, choices and an anonymous answer")

	// The agent page lists no conversation.
	unlockAgent(t, b.actx, b.arec, r)
	if list := agentConversations(t, b.arec); len(list.Entries) != 0 {
		t.Errorf("the relay lists %d conversations to the agent, want none: %+v", len(list.Entries), list.Entries)
	}
	if n, err := evalJS[int](b.actx, `document.querySelectorAll(`+jsString(selAgentConv)+`).length`); err != nil || n != 0 {
		t.Errorf("the agent page shows %d conversations (err %v), want none", n, err)
	}

	r.stop()
	// The database holds no conversation of the site, and the log says
	// nothing about one.
	st := relayStore(t, r)
	if convs, err := st.Conversations(r.site, 0); err != nil || len(convs) != 0 {
		t.Errorf("the relay's database holds %d conversations of the demo site (err %v), want none: %+v", len(convs), err, convs)
	}
	if lines := relayLogLines(r, "conversation"); len(lines) > 0 {
		t.Errorf("the relay's log mentions a conversation:\n%s", strings.Join(lines, "\n"))
	}
	leaks, _ := searchRelay(t, r, []string{repair})
	reportLeaks(t, leaks)
	checkLog(t, r)
}

// TestConsentAcceptPath: the appointment request through the consent dialog
// (text, privacy link, equal buttons), accepted; name, email (an invalid one
// first, re-asked) and phone; the agent page shows the whole transcript
// decrypted, the consent record and the relay's receipt; the typed data is
// nowhere in frames, database or log (DESIGN promises 3 and 4).
func TestConsentAcceptPath(t *testing.T) {
	b := startBotVisit(t)
	w, f, r := b.w, b.f, b.r
	repair := "Inspektion und Licht " + newSentinel("Sentinel")
	day := futureDate()
	name := newSentinel("Erika")
	email := newSentinel("Sentinel") + "@example.org"
	phone := newPhoneSentinel()
	reply := newSentinel("Sentinel")
	consentText := say(t, f, "consent")

	c := b.toConsent(t, "Werkstatttermin", repair, day)
	checkConsentDialog(t, c, consentText, r.demoOrigin()+"/datenschutz")
	checkNoRelayContact(t, b.vrec, "at the consent dialog")

	do(t, b.vctx, "accept", chromedp.Click(chromedp.CSS(selAccept), chromedp.FromNode(w.node), chromedp.NodeVisible))
	w.waitMessage("bot", say(t, f, "name"))
	if fv := w.field(); fv.Type != "text" || fv.Autocomplete != "name" {
		t.Errorf("the name question shows type %q autocomplete %q, want text and name", fv.Type, fv.Autocomplete)
	}
	w.answer(name)
	w.waitMessage("visitor", name)

	// An invalid email is re-asked with a visible message and aria-invalid.
	w.waitMessage("bot", say(t, f, "email"))
	if fv := w.field(); fv.Type != "email" || fv.Autocomplete != "email" || fv.InputMode != "email" {
		t.Errorf("the email question shows type %q autocomplete %q inputmode %q, want email for all three", fv.Type, fv.Autocomplete, fv.InputMode)
	}
	w.answer("not-an-email")
	retry := f.Step("email").Retry["de"]
	eventually(t, "the invalid email is re-asked", func() (bool, string) {
		fv := w.field()
		return fv.Invalid == "true" && fv.Error == retry, fmt.Sprintf("field %+v; want aria-invalid true and the message %q", fv, retry)
	})
	if msgs, _ := w.messages(); slices.ContainsFunc(msgs, func(m message) bool { return strings.Contains(m.Text, "not-an-email") }) {
		t.Errorf("the chat shows the refused input as a message: %v", msgs)
	}
	w.setField("")
	w.answer(email)
	w.waitMessage("visitor", email)

	w.waitMessage("bot", say(t, f, "phone"))
	if fv := w.field(); fv.Type != "tel" || fv.Autocomplete != "tel" || fv.Invalid == "true" {
		t.Errorf("the phone question shows type %q autocomplete %q aria-invalid %q, want tel, tel and not invalid", fv.Type, fv.Autocomplete, fv.Invalid)
	}
	w.answer(phone)
	w.waitMessage("visitor", phone)
	w.waitMessage("bot", say(t, f, "confirm_appointment"))
	w.waitMessage("bot", say(t, f, "handoff_request"))
	w.waitMessage("bot", say(t, f, "thanks"))

	// Now the conversation is at the relay, with a consent receipt.
	conv := visitorConversation(t, b.vrec)
	hash := textHash(consentText)
	checkConsentFrames(t, b.vrec, conv, r.flowRev, hash, protocol.ConsentAccepted)

	unlockAgent(t, b.actx, b.arec, r)
	openAgentConversation(t, b.actx, conv)
	personal := func(variable, text string) itemWant {
		return itemWant{TID: "agent-msg", From: "visitor", Personal: "true", Variable: variable, Text: text}
	}
	anon := func(variable, text string) itemWant {
		return itemWant{TID: "agent-msg", From: "visitor", Personal: "false", Variable: variable, Text: text}
	}
	botSays := func(step string) itemWant { return itemWant{TID: "agent-msg", From: "bot", Text: say(t, f, step)} }
	items := waitAgentTranscript(t, b.actx, []itemWant{
		botSays("greeting"), botSays("menu"),
		{TID: "agent-msg", From: "visitor", Text: "Termin oder Rückruf"},
		botSays("request_kind"),
		{TID: "agent-msg", From: "visitor", Text: "Werkstatttermin"},
		botSays("repair"), anon("repair", repair),
		botSays("day"), anon("day", day),
		{TID: "agent-consent", Decision: "accepted"},
		botSays("name"), personal("name", name),
		botSays("email"), personal("email", email),
		botSays("phone"), personal("phone", phone),
		botSays("confirm_appointment"), botSays("handoff_request"),
		{TID: "agent-handoff"},
	})
	checkWholeTranscript(t, w, items)
	for _, it := range items {
		if it.TID == "agent-consent" && it.Hash != hash {
			t.Errorf("the consent record carries text hash %s, want SHA-256 of the text shown %s", it.Hash, hash)
		}
		if strings.Contains(it.Text, "not-an-email") {
			t.Errorf("the refused input reached the agent's transcript: %v", it)
		}
		if it.Personal == "true" && it.Variable != "name" && it.Variable != "email" && it.Variable != "phone" {
			t.Errorf("transcript line marked personal: %v", it)
		}
	}
	if n := countItems(items, func(i agentItem) bool { return i.TID == "agent-consent" }); n != 1 {
		t.Errorf("the transcript has %d consent records, want 1: %v", n, items)
	}
	waitReceipts(t, b.actx, r.flowRev, hash, "accepted")

	// The agent answers; the visitor sees it.
	do(t, b.actx, "type and send the reply",
		chromedp.SendKeys(chromedp.CSS(selReply), reply, chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(selAgentSend), chromedp.NodeVisible))
	w.waitMessage("agent", reply)

	r.stop()
	checkNoSentinels(t, r, conv, []string{repair, name, email, phone, reply}, b.vrec, b.arec)
	checkLog(t, r)
	checkStoredConversation(t, r, conv, []byte(hash), protocol.ConsentAccepted)
}

// TestConsentDeclinePath: the same request, declined: the bot goes on
// politely without asking for personal data; text typed into the chat while
// the dialog is shown and after the decline is taken by nothing; after a
// handoff the agent page shows the declined consent (and the receipt), and
// the typed text is nowhere: not in frames, database, log or agent page.
func TestConsentDeclinePath(t *testing.T) {
	b := startBotVisit(t)
	w, f, r := b.w, b.f, b.r
	repair := "Platten hinten " + newSentinel("Sentinel")
	day := futureDate()
	// What the visitor types while the dialog is shown and after declining.
	dialogName, dialogPhone, afterMail := newSentinel("Max"), newPhoneSentinel(), newSentinel("Sentinel")
	typedAtDialog := "Ich bin " + dialogName + " und meine Nummer ist " + dialogPhone
	typedAfter := "Mail an " + afterMail + "@example.org"
	declined := []string{dialogName, dialogPhone, afterMail}
	reply := newSentinel("Sentinel")
	consentText := say(t, f, "consent")

	c := b.toConsent(t, "Rückruf", repair, day)
	checkConsentDialog(t, c, consentText, r.demoOrigin()+"/datenschutz")

	// Typed into the chat instead of deciding: refused, never an answer.
	if w.composerUsable() {
		w.send(typedAtDialog)
		time.Sleep(500 * time.Millisecond)
		w.consent() // still waiting for the decision
		t.Logf("after typing at the consent dialog: %s", w.describe())
		w.clearComposer()
	} else {
		t.Logf("at the consent dialog the chat offers no text box to type into")
	}

	do(t, b.vctx, "decline", chromedp.Click(chromedp.CSS(selDecline), chromedp.FromNode(w.node), chromedp.NodeVisible))
	w.waitMessage("bot", say(t, f, "declined"))
	w.waitMessage("bot", say(t, f, "after_decline"))
	labels, err := w.choices()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Frage stellen", "Zurück zum Menü", "Nein, danke"}; !slices.Equal(labels, want) {
		t.Errorf("after the decline the bot offers %q, want %q", labels, want)
	}
	var fieldShown bool
	if err := w.frame.eval(`!!document.querySelector(`+jsString(selField)+`)`, &fieldShown); err != nil || fieldShown {
		t.Errorf("after the decline the chat shows an answer field (%v, %v): %s", fieldShown, err, w.describe())
	}
	checkNoRelayContact(t, b.vrec, "after the decline")

	// Whatever the visitor types now is taken by nothing.
	if w.composerUsable() {
		w.send(typedAfter)
		time.Sleep(500 * time.Millisecond)
		t.Logf("after typing following the decline: %s", w.describe())
		w.clearComposer()
	} else {
		t.Logf("after the decline the chat offers no text box to type into")
	}
	for _, s := range declined {
		if msgs, _ := w.messages(); slices.ContainsFunc(msgs, func(m message) bool { return strings.Contains(m.Text, s) }) {
			t.Errorf("the chat took %q as a message: %v", s, msgs)
		}
	}

	// A handoff brings the conversation to the relay.
	w.choose("Zurück zum Menü")
	w.waitCount("bot", say(t, f, "menu"), 2)
	w.choose("Mit einem Menschen sprechen")
	w.waitMessage("bot", say(t, f, "handoff_person"))
	conv := visitorConversation(t, b.vrec)
	hash := textHash(consentText)

	unlockAgent(t, b.actx, b.arec, r)
	openAgentConversation(t, b.actx, conv)
	botSays := func(step string) itemWant { return itemWant{TID: "agent-msg", From: "bot", Text: say(t, f, step)} }
	items := waitAgentTranscript(t, b.actx, []itemWant{
		botSays("greeting"), botSays("menu"),
		{TID: "agent-msg", From: "visitor", Text: "Termin oder Rückruf"},
		{TID: "agent-msg", From: "visitor", Text: "Rückruf"},
		botSays("repair"), {TID: "agent-msg", From: "visitor", Variable: "repair", Personal: "false", Text: repair},
		botSays("day"), {TID: "agent-msg", From: "visitor", Variable: "day", Personal: "false", Text: day},
		{TID: "agent-consent", Decision: "declined"},
		botSays("declined"), botSays("after_decline"),
		{TID: "agent-msg", From: "visitor", Text: "Zurück zum Menü"},
		botSays("menu"),
		{TID: "agent-msg", From: "visitor", Text: "Mit einem Menschen sprechen"},
		botSays("handoff_person"), {TID: "agent-handoff"},
	})
	checkWholeTranscript(t, w, items)
	for _, it := range items {
		if it.Personal == "true" {
			t.Errorf("after a decline the transcript has a personal answer: %v", it)
		}
		if it.TID == "agent-consent" && (it.Decision != "declined" || it.Hash != hash) {
			t.Errorf("consent record %v, want declined with text hash %s", it, hash)
		}
	}
	// PROTOCOL.md §6.4: the widget sends Consent when the visitor accepts or
	// declines (once the conversation reaches the relay).
	checkConsentFrames(t, b.vrec, conv, r.flowRev, hash, protocol.ConsentDeclined)
	waitReceipts(t, b.actx, r.flowRev, hash, "declined")
	do(t, b.actx, "type and send the reply",
		chromedp.SendKeys(chromedp.CSS(selReply), reply, chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(selAgentSend), chromedp.NodeVisible))
	w.waitMessage("agent", reply)

	// The typed text is not on the agent page in any form.
	dom, err := evalJS[string](b.actx, `document.documentElement.outerHTML + "\n" + document.body.innerText`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dom, repair) {
		t.Errorf("positive control: the agent page does not show the anonymous answer %q", repair)
	}
	for _, l := range findSentinels("agent page DOM", []byte(dom), declined) {
		t.Errorf("DECLINED DATA ON THE AGENT PAGE: %s found as %s at byte %d", l.sentinel, l.form, l.offset)
	}

	r.stop()
	checkNoSentinels(t, r, conv, append(declined, repair, reply), b.vrec, b.arec)
	checkLog(t, r)
	checkStoredConversation(t, r, conv, []byte(hash), protocol.ConsentDeclined)
}

// TestHandoffSharesTranscript: after FAQ answers and choices the visitor asks
// for a person; the agent sees the whole transcript so far, decrypted and in
// order, with the handoff; then the visitor and the agent write to each
// other.
func TestHandoffSharesTranscript(t *testing.T) {
	b := startBotVisit(t)
	w, f, r := b.w, b.f, b.r
	question := "Was kostet bei euch eine Inspektion?"
	s1 := newSentinel("Sentinel")
	s2 := newSentinel("Sentinel")
	m1 := "Hallo, ich habe noch eine Frage zur Inspektion " + s1
	m2 := "Gern, worum geht es? " + s2

	w.choose("Öffnungszeiten & Preise")
	w.waitMessage("bot", say(t, f, "hours_prices"))
	w.waitMessage("bot", say(t, f, "question"))
	w.send(question)
	w.waitMessage("bot", faqAnswer(t, f, "inspection"))
	w.waitMessage("bot", say(t, f, "after_answer"))
	time.Sleep(500 * time.Millisecond)
	checkNoRelayContact(t, b.vrec, "before the handoff")

	w.choose("Mit einem Menschen sprechen")
	w.waitMessage("bot", say(t, f, "handoff_person"))
	conv := visitorConversation(t, b.vrec)
	w.send(m1)
	w.waitMessage("visitor", m1, "sent", "delivered")

	unlockAgent(t, b.actx, b.arec, r)
	openAgentConversation(t, b.actx, conv)
	botSays := func(step string) itemWant { return itemWant{TID: "agent-msg", From: "bot", Text: say(t, f, step)} }
	items := waitAgentTranscript(t, b.actx, []itemWant{
		botSays("greeting"), botSays("menu"),
		{TID: "agent-msg", From: "visitor", Text: "Öffnungszeiten & Preise"},
		botSays("hours_prices"), botSays("question"),
		{TID: "agent-msg", From: "visitor", Text: question},
		{TID: "agent-msg", From: "bot", Text: faqAnswer(t, f, "inspection")},
		botSays("after_answer"),
		{TID: "agent-msg", From: "visitor", Text: "Mit einem Menschen sprechen"},
		botSays("handoff_person"),
		{TID: "agent-handoff"},
		// Nobody was online at the handoff, so the visitor's first message
		// is a message left for later (PROTOCOL.md §6.7): a handoff marker
		// with reason "message", then the text itself.
		{TID: "agent-handoff"},
		{TID: "agent-msg", From: "visitor", Text: m1},
	})
	checkWholeTranscript(t, w, items)
	var reasons []string
	for _, it := range items {
		if it.TID == "agent-handoff" {
			reasons = append(reasons, it.Reason)
		}
		if it.TID == "agent-consent" || it.Personal == "true" {
			t.Errorf("unexpected line without any consent step: %v", it)
		}
	}
	if len(reasons) != 2 || reasons[0] != "person" || reasons[1] != "message" {
		t.Errorf("handoff lines with reasons %v, want [person message]: %v", reasons, items)
	}

	do(t, b.actx, "type and send the reply",
		chromedp.SendKeys(chromedp.CSS(selReply), m2, chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(selAgentSend), chromedp.NodeVisible))
	waitAgentMessage(t, b.actx, "agent", m2)
	w.waitMessage("agent", m2)
	w.waitMessage("visitor", m1, "delivered")

	r.stop()
	checkNoSentinels(t, r, conv, []string{s1, s2}, b.vrec, b.arec)
	checkLog(t, r)
}

// TestFlowReloadResume: in the middle of the flow (two anonymous answers, at
// the consent dialog) the visitor reloads the page and opens the chat again:
// the transcript is shown again and the flow goes on at the same step.
func TestFlowReloadResume(t *testing.T) {
	b := startBotVisit(t)
	w, f, r := b.w, b.f, b.r
	repair := "Schaltung springt " + newSentinel("Sentinel")
	day := futureDate()
	before := b.toConsent(t, "Rückruf", repair, day)
	shown, err := w.messages()
	if err != nil {
		t.Fatal(err)
	}

	do(t, b.vctx, "reload the demo page", chromedp.Reload())
	do(t, b.vctx, "wait for the launcher after the reload", chromedp.WaitVisible(chromedp.CSS(selLauncher)))
	w = openWidget(t, b.vctx, r)
	b.w = w
	var again []message
	eventually(t, "the chat shows the transcript again after the reload", func() (bool, string) {
		var err error
		again, err = w.messages()
		if err != nil {
			return false, err.Error()
		}
		return len(again) >= len(shown), fmt.Sprintf("%d of %d messages: %v", len(again), len(shown), again)
	})
	if len(again) != len(shown) {
		t.Errorf("after the reload the chat shows %d messages, before %d:\nbefore %v\nafter  %v", len(again), len(shown), shown, again)
	}
	for i := range min(len(again), len(shown)) {
		if again[i].From != shown[i].From || strings.TrimSpace(again[i].Body) != strings.TrimSpace(shown[i].Body) {
			t.Errorf("message %d after the reload is %v, before it was %v", i, again[i], shown[i])
		}
	}
	after := w.consent()
	if after.Text != before.Text || after.Href != before.Href {
		t.Errorf("the consent dialog after the reload shows %q (link %s), before %q (link %s)", after.Text, after.Href, before.Text, before.Href)
	}
	checkNoRelayContact(t, b.vrec, "after the reload at the consent dialog")

	// The flow goes on from there.
	do(t, b.vctx, "accept", chromedp.Click(chromedp.CSS(selAccept), chromedp.FromNode(w.node), chromedp.NodeVisible))
	w.waitMessage("bot", say(t, f, "name"))
	if fv := w.field(); fv.Autocomplete != "name" {
		t.Errorf("after accepting, the field has autocomplete %q, want the name question's", fv.Autocomplete)
	}
	msgs, _ := w.messages()
	if n := countMessages(msgs, "bot", say(t, f, "greeting")); n != 1 {
		t.Errorf("the greeting is shown %d times, want once (the flow must resume, not restart): %v", n, msgs)
	}
	if n := countMessages(msgs, "visitor", repair); n != 1 {
		t.Errorf("the repair answer is shown %d times, want once: %v", n, msgs)
	}
	time.Sleep(500 * time.Millisecond)
	checkNoRelayContact(t, b.vrec, "after accepting, before any personal answer")
}

func countItems(items []agentItem, pred func(agentItem) bool) int {
	n := 0
	for _, i := range items {
		if pred(i) {
			n++
		}
	}
	return n
}

func countMessages(msgs []message, from, sub string) int {
	n := 0
	for _, m := range msgs {
		if m.From == from && strings.Contains(m.Body, sub) {
			n++
		}
	}
	return n
}

// checkConsentFrames waits for the Consent frame the visitor's browser sends
// and checks it: for conv, the flow's revision, the hash of the text shown
// and the decision, and only one.
func checkConsentFrames(t *testing.T, rec *recorder, conv ids.ConvID, rev uint32, hash string, decision uint8) {
	t.Helper()
	var found []*protocol.Consent
	eventually(t, "the visitor's browser sends the consent receipt (Consent frame)", func() (bool, string) {
		found = found[:0]
		for _, f := range decodedFrames(t, rec, true) {
			if c, ok := f.(*protocol.Consent); ok {
				found = append(found, c)
			}
		}
		return len(found) > 0, "no Consent frame sent"
	})
	for _, c := range found {
		if c.Conv != conv || c.FlowVersion != rev || hex.EncodeToString(c.TextHash[:]) != hash || c.Decision != decision {
			t.Errorf("Consent frame {conv %s, flow version %d, hash %x, decision %d}, want {%s, %d, %s, %d}",
				c.Conv, c.FlowVersion, c.TextHash, c.Decision, conv, rev, hash, decision)
		}
	}
	if len(found) > 1 {
		t.Errorf("the visitor's browser sent %d Consent frames for one decision", len(found))
	}
}

// waitReceipts waits until the agent page shows exactly one consent receipt
// of the relay, with the decision, flow version and text hash.
func waitReceipts(t *testing.T, ctx context.Context, rev uint32, hash, decision string) {
	t.Helper()
	type receipt struct{ Decision, Version, Hash, Text string }
	eventually(t, "the agent page shows the relay's consent receipt", func() (bool, string) {
		rs, err := evalJS[[]receipt](ctx, `Array.from(document.querySelectorAll(`+jsString(selAgentReceipt)+`))
			.filter(e => e.getClientRects().length > 0).map(e => ({Decision: e.getAttribute("data-decision") || "",
			Version: e.getAttribute("data-flow-version") || "", Hash: e.getAttribute("data-text-hash") || "", Text: e.textContent || ""}))`)
		if err != nil {
			return false, err.Error()
		}
		want := receipt{decision, strconv.FormatUint(uint64(rev), 10), hash, ""}
		ok := len(rs) == 1 && rs[0].Decision == want.Decision && rs[0].Version == want.Version && rs[0].Hash == want.Hash
		return ok, fmt.Sprintf("receipts shown %+v, want one %+v", rs, want)
	})
}

// checkStoredConversation: the stopped relay's database holds conv with
// envelopes, and exactly one consent receipt with the hash and decision.
func checkStoredConversation(t *testing.T, r *relayProc, conv ids.ConvID, hashHex []byte, decision uint8) {
	t.Helper()
	st := relayStore(t, r)
	c, err := st.Conversation(r.site, conv)
	if err != nil || c.LastPos == 0 {
		t.Errorf("the relay's database has conversation %s as %+v (err %v), want it with envelopes", conv, c, err)
	}
	rs, err := st.ConsentReceipts(r.site, conv)
	if err != nil || len(rs) != 1 {
		t.Fatalf("the relay's database holds receipts %+v (err %v), want one", rs, err)
	}
	if got := []byte(hex.EncodeToString(rs[0].TextHash[:])); !bytes.Equal(got, hashHex) || rs[0].Decision != decision || rs[0].FlowVersion != r.flowRev {
		t.Errorf("stored receipt %+v (hash %s), want decision %d, flow version %d, hash %s", rs[0], got, decision, r.flowRev, hashHex)
	}
	if lines := relayLogLines(r, "conversation created"); len(lines) != 1 {
		t.Errorf("the relay logged %d conversation creations, want 1: %q", len(lines), lines)
	}
}
