package flowengine

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"siegel/shared/flow"
	"siegel/widget/faq"
)

func loadFlow(t testing.TB, name string) *flow.Flow {
	t.Helper()
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	f, probs := flow.Parse(name, src)
	if probs != nil {
		t.Fatalf("%s: %v", name, probs)
	}
	return f
}

func testFlow(t testing.TB) *flow.Flow { return loadFlow(t, "testdata/test.json") }

// clock ticks one second per reading, from a fixed start.
type clock struct{ ms int64 }

func (c *clock) now() time.Time {
	c.ms += 1000
	return time.UnixMilli(c.ms)
}

func newEngine(t testing.TB, f *flow.Flow, lang string) *Engine {
	t.Helper()
	e := New(f, lang)
	c := &clock{ms: 1_767_225_600_000}
	e.SetClock(c.now)
	e.SetCompiler(goCompile)
	return e
}

func kinds(outs []Output) []OutKind {
	k := make([]OutKind, len(outs))
	for i, o := range outs {
		k[i] = o.Kind
	}
	return k
}

func expectKinds(t *testing.T, outs []Output, want ...OutKind) {
	t.Helper()
	if got := kinds(outs); !reflect.DeepEqual(got, want) {
		t.Fatalf("output kinds %v, want %v\n%+v", got, want, outs)
	}
}

func lastOut(outs []Output) Output { return outs[len(outs)-1] }

// toForm starts the test flow and picks "Formular".
func toForm(t *testing.T, lang string) *Engine {
	t.Helper()
	e := newEngine(t, testFlow(t), lang)
	e.Start()
	expectKinds(t, e.Choose(1), OutSay, OutAsk)
	return e
}

func TestStartSayChoice(t *testing.T) {
	e := newEngine(t, testFlow(t), "de")
	if e.Status() != NotStarted || e.Step() != "" {
		t.Fatalf("status %v step %q before Start", e.Status(), e.Step())
	}
	outs := e.Start()
	expectKinds(t, outs, OutSay, OutSay, OutChoices)
	if outs[0].Text != "Hallo!" || outs[0].Step != "hello" || outs[1].Text != "Was möchten Sie?" {
		t.Errorf("texts %q, %q", outs[0].Text, outs[1].Text)
	}
	if want := []string{"Frage", "Formular", "Kontakt", "Mensch"}; !reflect.DeepEqual(outs[2].Options, want) {
		t.Errorf("options %q, want %q", outs[2].Options, want)
	}
	if e.Status() != Waiting || e.Step() != "menu" {
		t.Errorf("status %v step %q", e.Status(), e.Step())
	}
	tr := e.Transcript()
	if len(tr) != 2 || tr[0].Who != Bot || tr[0].Text != "Hallo!" || tr[1].Step != "menu" || tr[0].Time == 0 || tr[1].Time <= tr[0].Time {
		t.Errorf("transcript %+v", tr)
	}
	// Start again: refused, nothing changes.
	outs = e.Start()
	expectKinds(t, outs, OutError)
	if !errors.Is(outs[0].Err, ErrNotWaiting) || outs[0].Fatal || e.Status() != Waiting {
		t.Errorf("second Start: %+v, status %v", outs[0], e.Status())
	}
	if p := e.Prompt(); len(p) != 1 || p[0].Kind != OutChoices || len(p[0].Options) != 4 {
		t.Errorf("Prompt %+v", p)
	}
}

func TestLanguage(t *testing.T) {
	f := testFlow(t)
	for lang, want := range map[string]string{"en": "en", "en-GB": "en", "de": "de", "de-AT": "de", "fr": "de", "": "de"} {
		e := New(f, lang)
		if e.Lang() != want {
			t.Errorf("New(%q).Lang() = %q, want %q", lang, e.Lang(), want)
		}
	}
	e := newEngine(t, f, "en")
	if outs := e.Start(); outs[0].Text != "Hello!" || outs[2].Options[0] != "Question" {
		t.Errorf("English start %+v", outs)
	}
}

func TestChoose(t *testing.T) {
	e := newEngine(t, testFlow(t), "de")
	e.Start()
	for _, i := range []int{-1, 4, 100} {
		outs := e.Choose(i)
		expectKinds(t, outs, OutError)
		if !errors.Is(outs[0].Err, ErrBadOption) || outs[0].Fatal {
			t.Errorf("Choose(%d): %+v", i, outs[0])
		}
	}
	if outs := e.Consent(true); !errors.Is(outs[0].Err, ErrNotWaiting) {
		t.Errorf("Consent at a choice: %+v", outs)
	}
	n := len(e.Transcript())
	outs := e.Choose(0)
	expectKinds(t, outs, OutSay, OutAsk)
	if e.Step() != "question" {
		t.Errorf("step %q", e.Step())
	}
	tr := e.Transcript()
	if len(tr) != n+2 || tr[n].Who != Visitor || tr[n].Text != "Frage" || tr[n].Step != "menu" {
		t.Errorf("transcript %+v", tr[n:])
	}
	if outs := e.Choose(0); !errors.Is(outs[0].Err, ErrNotWaiting) {
		t.Errorf("Choose at a faq step: %+v", outs)
	}
}

func TestChoiceTyped(t *testing.T) {
	e := newEngine(t, testFlow(t), "de")
	e.Start()
	outs := e.Input("Vielleicht")
	expectKinds(t, outs, OutReask)
	if outs[0].Text != builtinDE.chooseOption || e.Step() != "menu" {
		t.Errorf("reask %+v, step %q", outs, e.Step())
	}
	outs = e.Input("  formular ")
	expectKinds(t, outs, OutSay, OutAsk)
	if tr := e.Transcript(); e.Step() != "note" || tr[len(tr)-1].Text != "Notiz (3 bis 10 Zeichen)?" {
		t.Errorf("typed label: step %q", e.Step())
	}
	if tr := e.Transcript(); tr[len(tr)-2].Text != "Formular" || tr[len(tr)-2].Who != Visitor {
		t.Errorf("typed label recorded as %+v", tr[len(tr)-2])
	}
}

func TestAskOutputs(t *testing.T) {
	e := toForm(t, "en")
	o := e.Prompt()[0]
	if o.Kind != OutAsk || o.Input != flow.InputText || o.HTMLType != "text" || o.Autocomplete != "" ||
		o.MinLength != 3 || o.MaxLength != 10 || o.Variable != "note" || o.Personal {
		t.Errorf("text ask %+v", o)
	}
	e.Input("abc")
	e.Input("AB123")
	o = e.Prompt()[0]
	if o.Input != flow.InputNumber || o.HTMLType != "number" || o.Min == nil || *o.Min != 1 || o.Max == nil || *o.Max != 10 || o.MaxLength != flow.MaxInputLength {
		t.Errorf("number ask %+v", o)
	}
	e.Input("2")
	if o = e.Prompt()[0]; o.Input != flow.InputDate || o.HTMLType != "date" {
		t.Errorf("date ask %+v", o)
	}

	e = newEngine(t, testFlow(t), "en")
	e.Start()
	e.Choose(2)
	e.Consent(true)
	want := []struct {
		html, auto string
		input      flow.InputKind
		answer     string
	}{
		{"text", "name", flow.InputText, "Ada Lovelace"},
		{"email", "email", flow.InputEmail, "ada@example.org"},
		{"tel", "tel", flow.InputPhone, "+44 20 7946 0000"},
	}
	for _, w := range want {
		o := e.Prompt()[0]
		if o.HTMLType != w.html || o.Autocomplete != w.auto || o.Input != w.input || !o.Personal {
			t.Errorf("personal ask %+v, want %+v", o, w)
		}
		e.Input(w.answer)
	}
}

func TestAutocomplete(t *testing.T) {
	for v, want := range map[string]string{"name": "name", "full_name": "name", "Vorname": "given-name",
		"first-name": "given-name", "nachname": "family-name", "surname": "family-name", "city": ""} {
		if got := autocomplete(&flow.Step{Input: flow.InputText, Variable: v}); got != want {
			t.Errorf("autocomplete(%q) = %q, want %q", v, got, want)
		}
	}
	if got := autocomplete(&flow.Step{Input: flow.InputNumber, Variable: "name"}); got != "" {
		t.Errorf("number named name: %q", got)
	}
}

// TestAskValidationFlow walks the form with invalid inputs first: every one
// is re-asked with the right message and changes nothing.
func TestAskValidationFlow(t *testing.T) {
	e := toForm(t, "de")
	reask := func(in, want string) {
		t.Helper()
		step, n := e.Step(), len(e.Transcript())
		outs := e.Input(in)
		expectKinds(t, outs, OutReask)
		if outs[0].Text != want {
			t.Errorf("Input(%q): reask %q, want %q", in, outs[0].Text, want)
		}
		if e.Step() != step || len(e.Transcript()) != n {
			t.Errorf("Input(%q) changed the state", in)
		}
	}
	reask("   ", builtinDE.empty)
	reask("ab", "Die Eingabe ist zu kurz: mindestens 3 Zeichen.")
	reask("abcdefghijk", "Die Eingabe ist zu lang: höchstens 10 Zeichen.")
	if outs := e.Input("  Eilt sehr "); e.Step() != "code" || outs[0].Kind != OutSay {
		t.Fatalf("valid note: %+v", outs)
	}
	if v, _ := e.Var("note"); v != "Eilt sehr" {
		t.Errorf("note = %q (want trimmed)", v)
	}
	reask("ab123", "Zwei Buchstaben, drei Ziffern.") // custom retry text
	reask("XAB123", "Zwei Buchstaben, drei Ziffern.")
	e.Input("AB123")
	reask("elf", "Bitte geben Sie eine Zahl von 1 bis 10 ein.")
	reask("11", "Bitte geben Sie eine Zahl von 1 bis 10 ein.")
	reask("0,5", "Bitte geben Sie eine Zahl von 1 bis 10 ein.")
	e.Input("7,0")
	if v, _ := e.Var("count"); v != "7" {
		t.Errorf("count = %q, want canonical 7", v)
	}
	reask("2026-02-29", builtinDE.date)
	reask("morgen", builtinDE.date)
	outs := e.Input("29.02.2028")
	if v, _ := e.Var("day"); v != "2028-02-29" {
		t.Errorf("day = %q", v)
	}
	// count equals " 7 " (space and case ignored), flag not set → lucky.
	expectKinds(t, outs, OutSay, OutSay, OutEnd)
	if outs[0].Text != "Glückszahl!" || outs[1].Text != "Tschüss!" || e.Status() != Ended || e.Step() != "bye" {
		t.Errorf("outs %+v status %v", outs, e.Status())
	}
	if v, _ := e.Var("flag"); v != "yes" {
		t.Errorf("flag = %q", v)
	}
	if outs := e.Input("hallo"); !errors.Is(outs[0].Err, ErrNotWaiting) || e.Prompt() != nil {
		t.Errorf("input after the end: %+v", outs)
	}
	// The visitor answers are in the transcript, none personal.
	var answers []string
	for _, en := range e.Transcript() {
		if en.Who == Visitor && en.Variable != "" {
			answers = append(answers, en.Variable+"="+en.Text)
			if en.Personal {
				t.Errorf("%s marked personal", en.Variable)
			}
		}
	}
	if want := []string{"note=Eilt sehr", "code=AB123", "count=7", "day=2028-02-29"}; !reflect.DeepEqual(answers, want) {
		t.Errorf("answers %q, want %q", answers, want)
	}
}

func TestBranches(t *testing.T) {
	run := func(note, code, count string) (string, []Output) {
		e := toForm(t, "en")
		e.Input(note)
		e.Input(code)
		e.Input(count)
		outs := e.Input("2026-01-31")
		return outs[0].Text, outs
	}
	cases := []struct{ note, code, count, want string }{
		{"hello", "AB123", "7", "Lucky number!"}, // all(equals, not is_set)
		{"it EILT", "AB123", "3", "Urgent!"},     // any: contains, case-insensitive
		{"hello", "ZZ999", "3", "Urgent!"},       // any: matches
		{"hello", "AZ999", "3", "Bye!"},          // else (matches is unanchored but ^ZZ fails)
		{"Eilt", "ZZ100", "7", "Lucky number!"},  // first case wins
		{"hello", "AB123", "7.5", "Bye!"},        // equals compares text
	}
	for _, c := range cases {
		if got, _ := run(c.note, c.code, c.count); got != c.want {
			t.Errorf("note %q code %q count %q: %q, want %q", c.note, c.code, c.count, got, c.want)
		}
	}
	e := toForm(t, "en")
	e.Input("hello")
	e.Input("AB123")
	if outs := e.Input("-0"); outs[0].Kind != OutReask || !strings.HasPrefix(outs[0].Text, "Please enter a number from 1 to 10") {
		t.Errorf("-0: %+v", outs)
	}
}

func TestCondOperators(t *testing.T) {
	e := New(testFlow(t), "de")
	e.SetCompiler(goCompile)
	e.vars["a"] = "Hello World"
	e.vars["empty"] = ""
	v := func(op flow.CondOp, name, val string) flow.Cond { return flow.Cond{Op: op, Var: name, Value: val} }
	cases := []struct {
		c    flow.Cond
		want bool
	}{
		{v(flow.CondEquals, "a", " hello world "), true},
		{v(flow.CondEquals, "a", "hello"), false},
		{v(flow.CondEquals, "missing", ""), false},
		{v(flow.CondEquals, "empty", ""), true},
		{v(flow.CondContains, "a", "O W"), true},
		{v(flow.CondContains, "a", "xyz"), false},
		{v(flow.CondContains, "missing", ""), false},
		{v(flow.CondMatches, "a", `W.r`), true},
		{v(flow.CondMatches, "a", `^World`), false},
		{v(flow.CondMatches, "a", `^Hello`), true},
		{v(flow.CondMatches, "a", `World$`), true},
		{v(flow.CondMatches, "a", `Hello$`), false},
		{v(flow.CondMatches, "a", `^Hello World$`), true},
		{v(flow.CondMatches, "a", `o\sW`), true},
		{v(flow.CondMatches, "a", `[Hh]ELLO`), false},
		{v(flow.CondMatches, "a", `[Hh]ello|xyz`), true},
		{v(flow.CondMatches, "empty", `^$`), true},
		{v(flow.CondMatches, "empty", `x?`), true},
		{v(flow.CondMatches, "missing", `.*`), false},
		{v(flow.CondIsSet, "empty", ""), true},
		{v(flow.CondIsSet, "missing", ""), false},
		{flow.Cond{Op: flow.CondNot, Subs: []flow.Cond{v(flow.CondIsSet, "missing", "")}}, true},
		{flow.Cond{Op: flow.CondAll, Subs: []flow.Cond{v(flow.CondIsSet, "a", ""), v(flow.CondIsSet, "empty", "")}}, true},
		{flow.Cond{Op: flow.CondAll, Subs: []flow.Cond{v(flow.CondIsSet, "a", ""), v(flow.CondIsSet, "missing", "")}}, false},
		{flow.Cond{Op: flow.CondAny, Subs: []flow.Cond{v(flow.CondIsSet, "missing", ""), v(flow.CondIsSet, "a", "")}}, true},
		{flow.Cond{Op: flow.CondAny, Subs: []flow.Cond{v(flow.CondIsSet, "missing", ""), v(flow.CondEquals, "a", "x")}}, false},
	}
	for i, c := range cases {
		got, err := e.cond(&c.c, 0)
		if err != nil || got != c.want {
			t.Errorf("case %d: %v, %v; want %v", i, got, err, c.want)
		}
	}
	for i, c := range []flow.Cond{v(flow.CondMatches, "a", `(`), v(flow.CondMatches, "a", `[b-a]`)} {
		if _, err := e.cond(&c, 0); !errors.Is(err, ErrBadPattern) {
			t.Errorf("bad pattern %d: %v", i, err)
		}
	}
	for i, c := range []flow.Cond{
		{Op: flow.CondAll},
		{Op: flow.CondNot},
		{Op: 99},
	} {
		if _, err := e.cond(&c, 0); !errors.Is(err, ErrBadFlow) {
			t.Errorf("bad cond %d: %v", i, err)
		}
	}
	deep := v(flow.CondIsSet, "a", "")
	for range flow.MaxCondDepth + 1 {
		deep = flow.Cond{Op: flow.CondNot, Subs: []flow.Cond{deep}}
	}
	if _, err := e.cond(&deep, 0); !errors.Is(err, ErrBadFlow) {
		t.Errorf("too deep: %v", err)
	}
}

func TestConsentAccept(t *testing.T) {
	e := newEngine(t, testFlow(t), "de")
	e.SetFlowVersion(42)
	e.Start()
	outs := e.Choose(2)
	expectKinds(t, outs, OutConsent)
	c := outs[0]
	text := "Dürfen wir Name, E-Mail und Telefon speichern?"
	if c.Text != text || c.PrivacyURL != "https://example.com/datenschutz" ||
		!reflect.DeepEqual(c.Options, []string{"Einverstanden", "Ablehnen"}) {
		t.Errorf("consent output %+v", c)
	}
	if tr := e.Transcript(); tr[len(tr)-1].Text != text {
		t.Errorf("consent text not in the transcript")
	}
	// Typed text is refused and not recorded (it may be personal).
	n := len(e.Transcript())
	outs = e.Input("ada@example.org")
	expectKinds(t, outs, OutReask)
	if len(e.Transcript()) != n || e.ConsentState() != ConsentNone {
		t.Errorf("typed text at consent changed the state")
	}
	for _, tr := range e.Transcript() {
		if strings.Contains(tr.Text, "ada@") {
			t.Errorf("typed text recorded: %+v", tr)
		}
	}
	e.SetPrivacyURL("https://site.example/privacy")
	if p := e.Prompt(); p[0].PrivacyURL != "https://site.example/privacy" {
		t.Errorf("site URL does not override: %+v", p)
	}

	outs = e.Consent(true)
	expectKinds(t, outs, OutSay, OutAsk)
	if e.ConsentState() != ConsentAccepted || e.Step() != "name" {
		t.Errorf("after accept: %v %q", e.ConsentState(), e.Step())
	}
	rec := e.Transcript()[n]
	if rec.Who != Visitor || rec.Consent == nil || rec.Text != "Einverstanden" {
		t.Fatalf("consent entry %+v", rec)
	}
	if rec.Consent.TextHash != sha256.Sum256([]byte(text)) || !rec.Consent.Accepted ||
		rec.Consent.FlowVersion != 42 || rec.Consent.Time != rec.Time || rec.Time == 0 {
		t.Errorf("consent record %+v", *rec.Consent)
	}
	// The transcript is a copy.
	e.Transcript()[n].Consent.Accepted = false
	if !e.Transcript()[n].Consent.Accepted {
		t.Error("Transcript shares consent records")
	}

	e.Input("Ada Lovelace")
	if outs := e.Input("ada@example"); outs[0].Kind != OutReask || outs[0].Text != builtinDE.email {
		t.Errorf("invalid email: %+v", outs)
	}
	e.Input("Ada@Example.ORG")
	if outs := e.Input("12-34"); outs[0].Kind != OutReask || outs[0].Text != builtinDE.phone {
		t.Errorf("invalid phone: %+v", outs)
	}
	outs = e.Input("+49 221  4710 123")
	expectKinds(t, outs, OutSay, OutHandoff, OutSay, OutEnd)
	var personal []string
	for _, en := range outs[1].Transcript {
		if en.Personal {
			personal = append(personal, en.Variable+"="+en.Text)
		}
	}
	if want := []string{"name=Ada Lovelace", "email=Ada@example.org", "phone=+49 221 4710 123"}; !reflect.DeepEqual(personal, want) {
		t.Errorf("personal answers %q, want %q", personal, want)
	}
	if tr := outs[1].Transcript; tr[len(tr)-1].Text != "Ich leite weiter." {
		t.Errorf("handoff transcript does not end with the handoff text")
	}
	if !e.HandedOff() || e.Status() != Ended {
		t.Errorf("after handoff → end: handed %v status %v", e.HandedOff(), e.Status())
	}
}

func TestConsentDecline(t *testing.T) {
	e := newEngine(t, testFlow(t), "en")
	e.Start()
	e.Choose(2)
	outs := e.Consent(false)
	expectKinds(t, outs, OutSay, OutSay, OutChoices)
	if outs[0].Text != "No problem." || e.ConsentState() != ConsentDeclined || e.Step() != "menu" {
		t.Errorf("decline: %+v %v", outs, e.ConsentState())
	}
	tr := e.Transcript()
	var rec *ConsentRecord
	for _, en := range tr {
		if en.Consent != nil {
			rec = en.Consent
			if en.Text != "Decline" {
				t.Errorf("decline entry text %q", en.Text)
			}
		}
		if en.Personal {
			t.Errorf("personal entry after decline: %+v", en)
		}
	}
	if rec == nil || rec.Accepted {
		t.Fatalf("decline record %+v", rec)
	}
	// Asking again shows the consent again; accepting now counts.
	e.Choose(2)
	e.Consent(true)
	if e.ConsentState() != ConsentAccepted || e.Step() != "name" {
		t.Errorf("second decision: %v %q", e.ConsentState(), e.Step())
	}
}

// TestConsentRuntime runs flows that flow.Check would reject: a personal ask
// without consent, or after a decline, is never shown.
func TestConsentRuntime(t *testing.T) {
	f := testFlow(t)
	f.Steps["menu"].Options[2].Next = "name" // skip the consent
	e := newEngine(t, f, "de")
	e.Start()
	outs := e.Choose(2)
	expectKinds(t, outs, OutError)
	if !errors.Is(outs[0].Err, ErrConsentRequired) || !outs[0].Fatal || e.Status() != Failed || e.Step() != "" {
		t.Errorf("personal ask without consent: %+v, status %v", outs, e.Status())
	}
	if outs[0].Text == "" {
		t.Error("fatal error without a message")
	}
	for _, en := range e.Transcript() {
		if en.Step == "name" {
			t.Errorf("the personal ask was shown: %+v", en)
		}
	}
	if outs := e.Input("x"); !errors.Is(outs[0].Err, ErrNotWaiting) {
		t.Errorf("input after failure: %+v", outs)
	}

	f = testFlow(t)
	f.Steps["consent"].Decline = "email" // decline leads to a personal ask
	e = newEngine(t, f, "de")
	e.Start()
	e.Choose(2)
	if outs := e.Consent(false); !errors.Is(lastOut(outs).Err, ErrConsentRequired) {
		t.Errorf("personal ask after decline: %+v", outs)
	}

	// A variable declared personal makes its ask personal even when the
	// step's own flag is not set.
	f = testFlow(t)
	f.Steps["name"].Personal = false
	f.Steps["menu"].Options[2].Next = "name"
	e = newEngine(t, f, "de")
	e.Start()
	if outs := e.Choose(2); !errors.Is(lastOut(outs).Err, ErrConsentRequired) {
		t.Errorf("ask of a personal variable without consent: %+v", outs)
	}
}

func TestFAQStep(t *testing.T) {
	e := newEngine(t, testFlow(t), "de")
	e.Start()
	e.Choose(0)
	if outs := e.Input("   "); outs[0].Kind != OutReask || outs[0].Text != builtinDE.askQuestion {
		t.Errorf("empty question: %+v", outs)
	}
	outs := e.Input("Wie sind eure Öffnungszeitn?")
	expectKinds(t, outs, OutSay, OutSay, OutChoices)
	if outs[0].Text != "Montag bis Freitag 9 bis 18 Uhr." || outs[0].FAQ != "hours" || e.Step() != "menu" {
		t.Errorf("answer %+v", outs[0])
	}
	tr := e.Transcript()
	q, a := tr[len(tr)-3], tr[len(tr)-2]
	if q.Who != Visitor || q.Text != "Wie sind eure Öffnungszeitn?" || q.Personal || a.FAQ != "hours" {
		t.Errorf("transcript %+v %+v", q, a)
	}
	e.Choose(0)
	outs = e.Input("Wie wird das Wetter morgen?")
	expectKinds(t, outs, OutSay, OutSay, OutChoices)
	if outs[0].Text != builtinDE.notUnderstood || outs[0].FAQ != "" || e.Step() != "fallback" {
		t.Errorf("not understood: %+v", outs)
	}
	outs = e.Choose(1)
	expectKinds(t, outs, OutEnd) // an end step without text
	if e.Status() != Ended {
		t.Errorf("status %v", e.Status())
	}

	// The step's threshold decides.
	f := testFlow(t)
	f.Steps["question"].Threshold = 1
	e = newEngine(t, f, "en")
	e.Start()
	e.Choose(0)
	if outs := e.Input("what r ur opening hourz"); outs[0].Text != builtinEN.notUnderstood {
		t.Errorf("threshold 1 answered: %+v", outs)
	}
	e.Choose(1) // "No" → end
	if _, conf, _ := faq.NewIndex(faq.English, []faq.Entry{{Keywords: []string{"price"}}}).Match("price"); conf != 1 {
		t.Errorf("exact keyword confidence %v", conf)
	}
	e = newEngine(t, f, "en")
	e.Start()
	e.Choose(0)
	if outs := e.Input("price"); outs[0].FAQ != "price" {
		t.Errorf("exact keyword with threshold 1: %+v", outs)
	}
}

func TestHandoffWithoutNext(t *testing.T) {
	e := newEngine(t, testFlow(t), "de")
	e.Start()
	outs := e.Choose(3)
	expectKinds(t, outs, OutSay, OutHandoff)
	if e.Status() != HandedOff || !e.HandedOff() || e.Step() != "person" || e.Prompt() != nil {
		t.Errorf("status %v handed %v step %q", e.Status(), e.HandedOff(), e.Step())
	}
	tr := outs[1].Transcript
	if len(tr) != 4 || tr[2].Text != "Mensch" || tr[3].Text != "Ich verbinde Sie." {
		t.Errorf("handoff transcript %+v", tr)
	}
	tr[0].Text = "changed"
	if e.Transcript()[0].Text == "changed" {
		t.Error("handoff transcript shares memory with the engine")
	}
	if outs := e.Input("Hallo?"); !errors.Is(outs[0].Err, ErrNotWaiting) || outs[0].Fatal {
		t.Errorf("input after handoff: %+v", outs)
	}
}

func TestRunaway(t *testing.T) {
	f := testFlow(t)
	f.Steps["hello"].Next = "loop1"
	f.Steps["loop1"] = &flow.Step{ID: "loop1", Kind: flow.KindJump, Next: "loop2"}
	f.Steps["loop2"] = &flow.Step{ID: "loop2", Kind: flow.KindSay, Text: flow.Text{"de": "Noch einmal", "en": "Again"}, Next: "loop1"}
	e := newEngine(t, f, "de")
	outs := e.Start()
	last := lastOut(outs)
	if !errors.Is(last.Err, ErrRunaway) || !last.Fatal || e.Status() != Failed {
		t.Fatalf("runaway: %+v", last)
	}
	// hello, then jump and say in turn: 49 more says before the 100th step.
	if n := len(outs); n != 1+MaxAutoSteps/2 {
		t.Errorf("%d outputs before stopping, want %d", n, 1+MaxAutoSteps/2)
	}

	// A flow that loops through handoff steps without input stops too.
	f = testFlow(t)
	f.Steps["person"].Next = "menu2"
	f.Steps["menu2"] = &flow.Step{ID: "menu2", Kind: flow.KindJump, Next: "person"}
	e = newEngine(t, f, "de")
	e.Start()
	if outs := e.Choose(3); !errors.Is(lastOut(outs).Err, ErrRunaway) {
		t.Errorf("handoff loop: %v", kinds(outs))
	}
}

func TestBrokenFlow(t *testing.T) {
	f := testFlow(t)
	f.Steps["hello"].Next = "nowhere"
	e := newEngine(t, f, "de")
	if outs := e.Start(); !errors.Is(lastOut(outs).Err, ErrUnknownStep) || e.Status() != Failed {
		t.Errorf("dangling target: %+v", outs)
	}
	f = testFlow(t)
	f.Steps["hello"].Kind = 0
	if outs := newEngine(t, f, "de").Start(); !errors.Is(lastOut(outs).Err, ErrBadFlow) {
		t.Errorf("unknown kind: %+v", outs)
	}
	f = testFlow(t)
	f.Steps["code"].Pattern = "("
	e = toFormFlow(t, f)
	e.Input("hello")
	if outs := e.Input("AB123"); !errors.Is(lastOut(outs).Err, ErrBadPattern) || e.Status() != Failed {
		t.Errorf("invalid pattern: %+v", outs)
	}
	f = testFlow(t)
	f.Steps["route"].Cases[1].When.Subs[1].Value = "("
	e = toFormFlow(t, f)
	for _, in := range []string{"hello", "AB123", "3"} {
		e.Input(in)
	}
	if outs := e.Input("2026-01-01"); !errors.Is(lastOut(outs).Err, ErrBadPattern) || e.Status() != Failed {
		t.Errorf("invalid branch regex: %+v", outs)
	}
}

// TestNoCompiler: a flow with patterns needs a compiler; without one the
// step that uses a pattern stops the engine with ErrNoCompiler (a wiring
// bug), and steps without patterns run as usual.
func TestNoCompiler(t *testing.T) {
	e := toForm(t, "de")
	e.SetCompiler(nil)
	e.Input("hello") // a text ask without pattern
	if e.Status() != Waiting || e.Step() != "code" {
		t.Fatalf("at %q, %v", e.Step(), e.Status())
	}
	outs := e.Input("AB123")
	if o := lastOut(outs); !errors.Is(o.Err, ErrNoCompiler) || !o.Fatal || e.Status() != Failed {
		t.Errorf("ask pattern without compiler: %+v", outs)
	}

	e = toForm(t, "de")
	for _, in := range []string{"hello", "AB123", "3"} {
		e.Input(in)
	}
	e.SetCompiler(nil) // the branch after the date step has a matches condition
	if o := lastOut(e.Input("2026-01-01")); !errors.Is(o.Err, ErrNoCompiler) || e.Status() != Failed {
		t.Errorf("matches without compiler: %+v", o)
	}
}

func toFormFlow(t *testing.T, f *flow.Flow) *Engine {
	t.Helper()
	e := newEngine(t, f, "de")
	e.Start()
	e.Choose(1)
	return e
}

// script drives an engine through a fixed list of actions.
func script(e *Engine, actions []string) (all []Output) {
	all = append(all, e.Start()...)
	for _, a := range actions {
		switch {
		case strings.HasPrefix(a, "choose:"):
			all = append(all, e.Choose(int(a[7]-'0'))...)
		case a == "accept":
			all = append(all, e.Consent(true)...)
		case a == "decline":
			all = append(all, e.Consent(false)...)
		default:
			all = append(all, e.Input(a)...)
		}
	}
	return all
}

var scripts = [][]string{
	{"choose:0", "Öffnungszeiten?", "choose:0", "was kostet das", "choose:2", "decline", "choose:3"},
	{"choose:2", "accept", "Ada", "ada@example.org", "0221 123456"},
	{"choose:1", "x", "note", "ab1", "AB123", "3", "2026-13-01", "2026-12-24"},
	{"choose:0", "Pizza?", "choose:0"},
}

func TestDeterministic(t *testing.T) {
	for _, s := range scripts {
		for _, lang := range []string{"de", "en"} {
			e1, e2 := newEngine(t, testFlow(t), lang), newEngine(t, testFlow(t), lang)
			o1, o2 := script(e1, s), script(e2, s)
			if !reflect.DeepEqual(o1, o2) || string(e1.MarshalState()) != string(e2.MarshalState()) {
				t.Errorf("%s %q: runs differ", lang, s)
			}
		}
	}
}

// TestShippedFlow walks the shipped flow's request path with consent (the
// personal data reach the handoff transcript) and without (they never do).
func TestShippedFlow(t *testing.T) {
	f, probs := flow.Parse(flow.ShippedName, flow.Shipped())
	if probs != nil {
		t.Fatal(probs)
	}
	for _, lang := range []string{"de", "en"} {
		e := newEngine(t, f, lang)
		outs := script(e, []string{"choose:1", "choose:1", "Bremse quietscht", "2026-03-02", "accept", "Ada Lovelace", "ada@example.org", "+49 221 123456"})
		var handoff *Output
		for i := range outs {
			if outs[i].Kind == OutError {
				t.Fatalf("%s: %+v", lang, outs[i])
			}
			if outs[i].Kind == OutHandoff {
				handoff = &outs[i]
			}
		}
		if handoff == nil || e.Status() != Ended {
			t.Fatalf("%s: no handoff or not ended: %v", lang, kinds(outs))
		}
		got := map[string]string{}
		for _, en := range handoff.Transcript {
			if en.Variable != "" {
				got[en.Variable] = en.Text
			}
		}
		want := map[string]string{"request": "", "repair": "Bremse quietscht", "day": "2026-03-02", "name": "Ada Lovelace", "email": "ada@example.org", "phone": "+49 221 123456"}
		delete(want, "request") // set by a set step: a variable, not a visitor answer
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: answers %v, want %v", lang, got, want)
		}
		if v, _ := e.Var("request"); v != "callback" {
			t.Errorf("%s: request = %q", lang, v)
		}

		e = newEngine(t, f, lang)
		outs = script(e, []string{"choose:1", "choose:0", "Kette springt", "2026-03-02", "decline"})
		for _, o := range outs {
			if o.Kind == OutHandoff || o.Kind == OutError || o.Kind == OutAsk && o.Personal {
				t.Errorf("%s decline path: %+v", lang, o)
			}
		}
		if e.Step() != "after_decline" || e.ConsentState() != ConsentDeclined {
			t.Errorf("%s: after decline at %q", lang, e.Step())
		}
	}
}

// TestCompiledFlow runs the scripts on the binary form the widget receives:
// the outputs and states equal those of the parsed flow.
func TestCompiledFlow(t *testing.T) {
	f := testFlow(t)
	g, err := flow.Decode(flow.Compile(f))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scripts {
		e1, e2 := newEngine(t, f, "de"), newEngine(t, g, "de")
		if o1, o2 := script(e1, s), script(e2, s); !reflect.DeepEqual(o1, o2) {
			t.Errorf("%q: outputs differ", s)
		}
		b := e1.MarshalState()
		if !bytes.Equal(b, e2.MarshalState()) {
			t.Errorf("%q: states differ", s)
		}
		if _, err := RestoreState(g, b); err != nil {
			t.Errorf("%q: state of the parsed flow does not restore on the compiled one: %v", s, err)
		}
	}
}
