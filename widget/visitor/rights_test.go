package visitor

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"siegel/shared/content"
	"siegel/shared/envelope"
	"siegel/shared/protocol"
	"siegel/widget/session"
)

// dataOf returns the data entries of the view as "variable=value" strings,
// with "*" appended to corrected ones.
func dataOf(v View) []string {
	var out []string
	for _, e := range v.Data {
		s := e.Answer.Variable + "=" + e.Answer.Value
		if e.Corrected {
			s += "*"
		}
		out = append(out, s)
	}
	return out
}

func sameStrings(a, b []string) bool {
	return strings.Join(a, "|") == strings.Join(b, "|")
}

func findData(t *testing.T, v View, variable string) Entry {
	t.Helper()
	for _, e := range v.Data {
		if e.Answer.Variable == variable {
			return e
		}
	}
	t.Fatalf("no data entry %q in %q", variable, dataOf(v))
	return Entry{}
}

func (tw *testWidget) outcomes() []Outcome {
	var out []Outcome
	for _, r := range tw.results {
		out = append(out, r.Outcome)
	}
	tw.results = nil
	return out
}

// shareWithConsent walks the flow to a shared conversation with a name and
// an email address.
func shareWithConsent(t *testing.T, tw *testWidget) {
	t.Helper()
	tw.choose("Rückruf")
	tw.answer("Farbe")
	tw.answer("2")
	tw.consent(true)
	tw.answer("Erika Mustermann")
	tw.answer("erika@example.com")
	if tw.w.relay.dials == 0 {
		t.Fatal("not shared")
	}
}

func TestMyDataBotOnly(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "de")
	talkLocally(t, tw)
	v := tw.chat.MyData()
	if v.Shared || v.Loading {
		t.Fatalf("bot-only view: shared=%v loading=%v", v.Shared, v.Loading)
	}
	if got := dataOf(v); !sameStrings(got, []string{"topic=Haarschnitt", "count=2"}) {
		t.Fatalf("data %q", got)
	}
	if len(v.Consents) != 1 || v.Consents[0].Consent.Accepted || v.Consents[0].Consent.FlowVersion != w.revision {
		t.Fatalf("consents %+v", v.Consents)
	}
	if len(v.Entries) != len(tw.shown()) {
		t.Fatalf("%d entries, the chat shows %d", len(v.Entries), len(tw.shown()))
	}
	for _, e := range v.Entries {
		if e.Where != WhereBrowser || e.Pos != 0 || e.Index < 0 {
			t.Fatalf("entry not local: %+v", e)
		}
	}
	for _, e := range v.Data {
		if !e.Correctable() {
			t.Fatalf("local data not correctable: %+v", e)
		}
	}
	if w.relay.dials != 0 {
		t.Fatal("viewing reached the relay")
	}
}

func TestCorrectLocally(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "de")
	tw.choose("Rückruf")
	tw.answer("Farbe")
	tw.answer("2")
	count := findData(t, tw.chat.MyData(), "count")
	// The step's validation: a number from 1 to 10.
	for _, bad := range []string{"", "elf", "11"} {
		_, r, err := tw.chat.Correct(count, bad)
		if !errors.Is(err, ErrInvalid) || r.Problem == "" {
			t.Fatalf("Correct(%q) = %+v, %v", bad, r, err)
		}
	}
	if _, _, err := tw.chat.Correct(count, " 2 "); !errors.Is(err, ErrUnchanged) {
		t.Fatalf("same value: %v", err)
	}
	u, r, err := tw.chat.Correct(count, "3,0")
	if err != nil || !r.Local || r.Value != "3" {
		t.Fatalf("Correct: %+v %v", r, err)
	}
	if len(u.Results) != 1 || u.Results[0].Outcome != OutcomeCorrected || !u.Data {
		t.Fatalf("update %+v", u)
	}
	if got := dataOf(tw.chat.MyData()); !sameStrings(got, []string{"topic=Farbe", "count=3*"}) {
		t.Fatalf("data after correction %q", got)
	}
	var corrected bool
	for _, m := range tw.chat.Model().Messages() {
		if m.Text == "2" && m.From == FromVisitor {
			t.Fatal("the chat still shows the old value")
		}
		corrected = corrected || m.Text == "3" && m.Corrected
	}
	if !corrected {
		t.Fatalf("the chat does not show the corrected value: %q", tw.shown())
	}
	if w.relay.dials != 0 {
		t.Fatal("a local correction reached the relay")
	}
	// It survives a reload, and it is what is sent when the conversation is shared.
	tw2, _ := w.open(tw.stored(), "de")
	if got := dataOf(tw2.chat.MyData()); !sameStrings(got, []string{"topic=Farbe", "count=3*"}) {
		t.Fatalf("data after reload %q", got)
	}
	tw2.consent(true)
	tw2.answer("Erika Mustermann")
	var sent []string
	for _, l := range w.transcript() {
		if l.variable != "" {
			sent = append(sent, l.variable+"="+l.text)
		}
	}
	if !sameStrings(sent, []string{"topic=Farbe", "count=3", "name=Erika Mustermann"}) {
		t.Fatalf("sent %q", sent)
	}
}

func TestMyDataSharedAndCorrect(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "de")
	shareWithConsent(t, tw)
	v := tw.chat.MyData()
	if !v.Shared || v.Loading {
		t.Fatalf("shared=%v loading=%v", v.Shared, v.Loading)
	}
	if got := dataOf(v); !sameStrings(got, []string{"topic=Farbe", "count=2", "name=Erika Mustermann",
		"email=erika@example.com"}) {
		t.Fatalf("data %q", got)
	}
	email := findData(t, v, "email")
	if email.Where != WhereRelay || email.Pos == 0 || !email.Answer.Personal || !email.Correctable() {
		t.Fatalf("email entry %+v", email)
	}
	for _, e := range v.Entries {
		if e.Where != WhereRelay || e.Pos == 0 {
			t.Fatalf("entry not from the relay: %+v", e)
		}
	}
	if len(v.Consents) != 1 || !v.Consents[0].Consent.Accepted {
		t.Fatalf("consents %+v", v.Consents)
	}

	if _, r, err := tw.chat.Correct(email, "erika@"); !errors.Is(err, ErrInvalid) || r.Problem == "" {
		t.Fatalf("invalid email: %+v %v", r, err)
	}
	u, r, err := tw.chat.Correct(email, "Erika.Neu@Example.COM")
	if err != nil || r.Local || r.Value != "Erika.Neu@example.com" || !u.Connect {
		t.Fatalf("Correct: %+v %+v %v", u, r, err)
	}
	tw.note(u)
	if got := tw.outcomes(); len(got) != 1 || got[0] != OutcomeCorrected {
		t.Fatalf("outcomes %v", got)
	}
	if w.relay.envs[email.Pos-1] != nil {
		t.Fatal("the relay still holds the original")
	}
	v = tw.chat.MyData()
	if got := findData(t, v, "email"); got.Answer.Value != "Erika.Neu@example.com" || !got.Corrected ||
		got.Pos == email.Pos || !got.Answer.Personal || got.Answer.Variable != "email" {
		t.Fatalf("corrected entry %+v", got)
	}
	for _, e := range v.Entries {
		if e.Type == content.TypeAnswer && e.Answer.Value == "erika@example.com" {
			t.Fatal("the view still holds the old value")
		}
	}
	chatHas := func(tw *testWidget) bool {
		for _, m := range tw.chat.Model().Messages() {
			if m.Text == "erika@example.com" {
				t.Fatal("the chat still shows the old value")
			}
			if m.Text == "Erika.Neu@example.com" && m.Corrected {
				return true
			}
		}
		return false
	}
	if !chatHas(tw) {
		t.Fatalf("chat %q", tw.shown())
	}
	// After a reload the relay replays only the correction; both views show it.
	tw2, _ := w.open(tw.stored(), "de")
	if got := dataOf(tw2.chat.MyData()); !sameStrings(got, []string{"topic=Farbe", "count=2", "name=Erika Mustermann",
		"email=Erika.Neu@example.com*"}) {
		t.Fatalf("data after reload %q", got)
	}
	if !chatHas(tw2) {
		t.Fatalf("chat after reload %q", tw2.shown())
	}
	// Correcting the corrected value names the correction's position.
	again := findData(t, tw2.chat.MyData(), "email")
	u, _, err = tw2.chat.Correct(again, "erika3@example.com")
	if err != nil {
		t.Fatal(err)
	}
	tw2.note(u)
	if got := tw2.outcomes(); len(got) != 1 || got[0] != OutcomeCorrected {
		t.Fatalf("second correction: %v", got)
	}
	if got := findData(t, tw2.chat.MyData(), "email"); got.Answer.Value != "erika3@example.com" {
		t.Fatalf("second correction: %+v", got)
	}
}

func TestCorrectRefusedByRelay(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "de")
	shareWithConsent(t, tw)
	w.relay.refuse = protocol.CodeForbidden
	email := findData(t, tw.chat.MyData(), "email")
	u, _, err := tw.chat.Correct(email, "x@example.com")
	if err != nil {
		t.Fatal(err)
	}
	tw.note(u)
	if len(tw.results) != 1 || tw.results[0] != (Result{Outcome: OutcomeCorrectFailed, Code: protocol.CodeForbidden}) {
		t.Fatalf("results %+v", tw.results)
	}
	if got := findData(t, tw.chat.MyData(), "email"); got.Answer.Value != "erika@example.com" || got.Corrected {
		t.Fatalf("refused correction changed the view: %+v", got)
	}
}

func TestNotCorrectable(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "de")
	tw.choose("Rückruf")
	v := tw.chat.MyData()
	var choice Entry
	for _, e := range v.Entries {
		if e.Type == content.TypeAnswer && e.Answer.Kind == content.InputChoice {
			choice = e
		}
	}
	if choice.Correctable() {
		t.Fatal("a choice is correctable")
	}
	if _, _, err := tw.chat.Correct(choice, "Frage stellen"); !errors.Is(err, ErrNotCorrectable) {
		t.Fatalf("choice: %v", err)
	}
	sending := Entry{Where: WhereSending, Type: content.TypeAnswer, Index: -1,
		Answer: content.Answer{Variable: "email", Kind: content.InputEmail, Value: "a@b.de"}}
	if _, _, err := tw.chat.Correct(sending, "c@d.de"); !errors.Is(err, ErrNotCorrectable) {
		t.Fatalf("queued: %v", err)
	}
}

func TestDeleteBotOnlyIsLocal(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "de")
	talkLocally(t, tw)
	u, err := tw.chat.Delete()
	if err != nil {
		t.Fatal(err)
	}
	tw.note(u)
	if got := tw.outcomes(); len(got) != 1 || got[0] != OutcomeErased {
		t.Fatalf("outcomes %v", got)
	}
	if w.relay.dials != 0 || w.relay.frames != 0 {
		t.Fatal("deleting a bot-only conversation reached the relay")
	}
	if !tw.chat.Erased() || len(tw.chat.MyData().Entries) != 0 {
		t.Fatal("not wiped")
	}
}

func TestDeleteShared(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "de")
	shareWithConsent(t, tw)
	counter := tw.sess.Counter()
	u, err := tw.chat.Delete()
	if err != nil || !u.Connect {
		t.Fatalf("Delete: %+v %v", u, err)
	}
	tw.note(u)
	if got := tw.outcomes(); len(got) != 1 || got[0] != OutcomeErased {
		t.Fatalf("outcomes %v (Done and the Erased push count once)", got)
	}
	if !w.relay.erased || len(w.relay.envs) != 0 || tw.sess.Counter() <= counter {
		t.Fatal("relay did not erase with a new counter")
	}
	if !tw.chat.Erased() || tw.chat.Shared() || len(tw.chat.MyData().Entries) != 0 {
		t.Fatal("chat not wiped")
	}
	if !tw.sess.Stopped() {
		t.Fatal("session still running")
	}
}

func TestDeleteRefused(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "de")
	shareWithConsent(t, tw)
	w.relay.refuse = protocol.CodeRateLimited
	u, err := tw.chat.Delete()
	if err != nil {
		t.Fatal(err)
	}
	tw.note(u)
	if len(tw.results) != 1 || tw.results[0] != (Result{Outcome: OutcomeDeleteFailed, Code: protocol.CodeRateLimited}) {
		t.Fatalf("results %+v", tw.results)
	}
	if tw.chat.Erased() || w.relay.erased {
		t.Fatal("a refused erasure wiped something")
	}
}

// A conversation erased elsewhere (another device, an agent, retention) is
// wiped when the widget next connects.
func TestErasedElsewhere(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "de")
	shareWithConsent(t, tw)
	stored := tw.stored()
	w.relay.erased, w.relay.envs = true, nil
	tw2, _ := w.open(stored, "de")
	if got := tw2.outcomes(); len(got) != 1 || got[0] != OutcomeErased {
		t.Fatalf("outcomes %v", got)
	}
	if !tw2.chat.Erased() || !tw2.sess.Stopped() {
		t.Fatal("not wiped")
	}
}

// The rights page: a chat without bot, remote, on keys from a code.
func TestRemoteChatView(t *testing.T) {
	w := newTestWorld(t)
	tw, _ := w.open("", "de")
	shareWithConsent(t, tw)
	code := Code{Site: w.site, Seed: tw.id.Seed(), BoxPriv: tw.id.BoxPrivate()}
	parsed, err := ParseCode(code.String())
	if err != nil {
		t.Fatal(err)
	}
	id, err := envelope.IdentityFromKeys(parsed.Seed, parsed.BoxPriv)
	if err != nil {
		t.Fatal(err)
	}
	rw := &testWidget{w: w, id: id}
	rw.sess = newSession(t, w, id)
	rw.chat = NewChat(i18nDE(), rw.sess, nil)
	rw.chat.SetRemote()
	if v := rw.chat.MyData(); !v.Shared || !v.Loading {
		t.Fatalf("before connecting: %+v", v)
	}
	u := rw.chat.Begin()
	u.Connect = true
	rw.note(u)
	v := rw.chat.MyData()
	if v.Loading || !sameStrings(dataOf(v), dataOf(tw.chat.MyData())) {
		t.Fatalf("remote view %q, loading %v", dataOf(v), v.Loading)
	}
	// Validation by input kind without a flow.
	email := findData(t, v, "email")
	if _, r, err := rw.chat.Correct(email, "not an address"); !errors.Is(err, ErrInvalid) || r.Problem != i18nDE().InvalidEmail {
		t.Fatalf("remote validation: %+v %v", r, err)
	}
	u, err = rw.chat.Delete()
	if err != nil {
		t.Fatal(err)
	}
	rw.note(u)
	if got := rw.outcomes(); len(got) != 1 || got[0] != OutcomeErased || !w.relay.erased {
		t.Fatalf("remote delete: %v", got)
	}
}

func newSession(t *testing.T, w *testWorld, id *envelope.Identity) *session.Session {
	t.Helper()
	s, err := session.New(session.Config{Role: protocol.RoleVisitor, Site: w.site, Owner: w.fp,
		Identity: id, Rand: rand.Reader, Now: func() time.Time { return w.now }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
