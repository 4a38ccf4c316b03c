// Package flowengine runs a bot flow (package siegel/shared/flow) in the
// visitor's browser, step by step. It is pure and deterministic: the same flow,
// language, clock and inputs give the same outputs, variables and transcript.
//
// # Driving an engine
//
//	e := flowengine.New(f, "de")
//	e.SetCompiler(compile)             // for patterns: the browser's RegExp in the widget
//	outs := e.Start()                  // greeting … up to the first step that waits
//	outs = e.Choose(1)                 // a button of a choice step
//	outs = e.Input("a@example.com")    // text for an ask or faq step
//	outs = e.Consent(true)             // the accept or decline button of a consent step
//	state := e.MarshalState()          // after every call; RestoreState after a reload
//
// Every call returns typed UI instructions (Output) in display order. The
// engine never sends anything; the widget decides what leaves the browser, and
// uses the transcript (Transcript, and the Transcript of a Handoff output).
//
// # Guarantees
//
//   - Inputs are validated by kind (Validate); an invalid input gives a Reask
//     output and the step waits again.
//   - A personal ask step is never shown unless the visitor's most recent
//     consent decision was an accept (checked at run time as well as by
//     flow.Check); otherwise the engine stops with ErrConsentRequired.
//   - At most MaxAutoSteps steps run per call; a flow that loops without
//     waiting stops with ErrRunaway.
//   - A handoff step gives an OutHandoff output (with the transcript so far)
//     and continues at once at its next step, if it has one (the bot keeps
//     serving the visitor while the person is on the way); without one the
//     engine stays HandedOff.
//   - A fatal error (Failed status) ends the flow; the widget may offer a
//     person instead.
//
// # Transcript
//
// The transcript records every line the bot shows (say texts, the prompts of
// choice, ask and faq steps, consent texts, FAQ answers, handoff and end
// texts) and every visitor action (the chosen option's label, each accepted
// answer with its variable and personal flag, FAQ questions, consent
// decisions with a ConsentRecord), each with its time. Set, jump and branch
// steps show nothing and record nothing. Refused inputs and re-ask messages
// are not recorded, nor is text typed while a consent dialog is open (it may
// be personal data typed before the decision).
//
// An Engine is not safe for concurrent use.
package flowengine

import (
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"siegel/shared/flow"
	"siegel/shared/sha2"
	"siegel/widget/faq"
)

// MaxAutoSteps is the number of steps one call may run before the engine
// stops with ErrRunaway.
const MaxAutoSteps = 100

// Fatal errors (in an OutError output; the engine is Failed afterwards).
var (
	ErrRunaway         = errors.New("flowengine: too many steps without input")
	ErrConsentRequired = errors.New("flowengine: personal ask without accepted consent")
	ErrUnknownStep     = errors.New("flowengine: no such step")
	ErrBadFlow         = errors.New("flowengine: invalid flow")
)

// Errors of calls that do not fit the current state (in an OutError output
// with Fatal false; nothing changes).
var (
	ErrNotWaiting = errors.New("flowengine: the flow does not wait for this")
	ErrBadOption  = errors.New("flowengine: no such option")
)

// Status is where the engine stands.
type Status uint8

const (
	NotStarted Status = iota
	Waiting           // at a choice, ask, consent or faq step
	HandedOff         // at a handoff step without a next step: the flow is over, the conversation is with a person
	Ended             // an end step was reached
	Failed            // stopped by a fatal error
)

// OutKind is the kind of a UI instruction.
type OutKind uint8

const (
	OutSay     OutKind = iota + 1 // the bot says Text (FAQ: the entry's ID for an answer)
	OutChoices                    // show one button per Options label; Choose(index)
	OutAsk                        // show an input field (Input, HTMLType, Autocomplete, …); Input(text)
	OutConsent                    // show Text, a link to PrivacyURL and two buttons of equal weight, Options[0] accept and Options[1] decline; Consent(bool)
	OutReask                      // Text says why the input was refused; the current prompt stays
	OutHandoff                    // hand the conversation to a person, with Transcript
	OutEnd                        // the flow is over
	OutError                      // Err; Fatal: the engine stopped (Text is a message for the visitor)
)

// Output is one UI instruction. Only the fields of its Kind are set.
type Output struct {
	Kind OutKind
	Step string // the step it belongs to
	Text string
	FAQ  string // OutSay: the ID of the FAQ entry it answers

	Options []string // OutChoices, OutConsent: button labels

	// OutAsk
	Input        flow.InputKind
	HTMLType     string // type attribute: text, email, tel, number, date
	Autocomplete string // autocomplete attribute ("" for none: use "off")
	Personal     bool
	Variable     string
	Min, Max     *float64 // number bounds
	MinLength    int      // text length bounds (0: none)
	MaxLength    int      // always set: the step's or flow.MaxInputLength

	PrivacyURL string // OutConsent

	Transcript []Entry // OutHandoff: the transcript so far (a copy)

	Err   error // OutError
	Fatal bool
}

// Who wrote a transcript entry.
type Who uint8

const (
	Bot     Who = 1
	Visitor Who = 2
)

// Entry is one line of the transcript.
type Entry struct {
	Who  Who
	Step string
	Text string
	Time int64 // Unix milliseconds

	Variable string // visitor answer to an ask step: the variable set
	Personal bool   // the answer is personal data
	FAQ      string // bot answer from an FAQ entry: its ID

	Consent *ConsentRecord // visitor decision at a consent step
}

// ConsentRecord is the record of a consent decision.
type ConsentRecord struct {
	FlowVersion uint32   // SetFlowVersion (default flow.Flow.Version)
	TextHash    [32]byte // SHA-256 of the exact consent text shown (UTF-8)
	Accepted    bool
	Time        int64 // Unix milliseconds
}

// ConsentState is the visitor's most recent consent decision.
type ConsentState uint8

const (
	ConsentNone ConsentState = iota
	ConsentAccepted
	ConsentDeclined
)

// Engine runs one flow for one visitor.
type Engine struct {
	f          *flow.Flow
	lang       string
	status     Status
	cur        string // current step (Waiting, HandedOff, Ended; "" otherwise)
	vars       map[string]string
	consent    ConsentState
	shownHash  [32]byte // consent step waiting: hash of the text shown
	handedOff  bool     // a handoff step was passed
	transcript []Entry

	now         func() time.Time
	privacyURL  string
	flowVersion uint32
	matcher     *faq.Matcher
	compiler    Compiler
	re          map[string]Matcher // compiled portable patterns
}

// New returns an engine for the flow in the language lang (a tag in
// f.Languages; otherwise the flow's default language).
func New(f *flow.Flow, lang string) *Engine {
	e := &Engine{f: f, lang: pickLang(f, lang), vars: make(map[string]string)}
	e.init()
	return e
}

func (e *Engine) init() {
	e.now = time.Now
	e.flowVersion = uint32(max(e.f.Version, 0))
	f := e.f
	e.matcher = faq.NewMatcher(func(lang string) []faq.Entry {
		out := make([]faq.Entry, len(f.FAQ))
		for i, fe := range f.FAQ {
			q, ok := fe.Questions[lang]
			if !ok {
				q = fe.Questions[f.DefaultLanguage]
			}
			out[i] = faq.Entry{Questions: q, Keywords: fe.Keywords[lang], Answer: fe.Answer.In(lang, f.DefaultLanguage)}
		}
		return out
	})
}

func pickLang(f *flow.Flow, lang string) string {
	for _, l := range f.Languages {
		if l == lang {
			return l
		}
	}
	// "en-GB" → "en"
	if i := strings.IndexAny(lang, "-_"); i > 0 {
		for _, l := range f.Languages {
			if strings.EqualFold(l, lang[:i]) {
				return l
			}
		}
	}
	if f.DefaultLanguage != "" {
		return f.DefaultLanguage
	}
	return flow.DefaultLanguage
}

// SetClock replaces the clock used for transcript times (default time.Now).
func (e *Engine) SetClock(now func() time.Time) { e.now = now }

// SetFlowVersion sets the flow version recorded with consent decisions (the
// version of the site's flow; default the document's format version).
func (e *Engine) SetFlowVersion(v uint32) { e.flowVersion = v }

// SetPrivacyURL sets the site's privacy-policy URL; it overrides the flow's.
func (e *Engine) SetPrivacyURL(url string) { e.privacyURL = url }

// Lang returns the language the engine speaks.
func (e *Engine) Lang() string { return e.lang }

// Status returns where the engine stands.
func (e *Engine) Status() Status { return e.status }

// HandedOff reports whether the flow has passed a handoff step.
func (e *Engine) HandedOff() bool { return e.handedOff }

// Step returns the ID of the current step ("" before Start and after a
// fatal error).
func (e *Engine) Step() string { return e.cur }

// ConsentState returns the most recent consent decision.
func (e *Engine) ConsentState() ConsentState { return e.consent }

// Var returns a variable's value and whether it is set.
func (e *Engine) Var(name string) (string, bool) {
	v, ok := e.vars[name]
	return v, ok
}

// Transcript returns the transcript so far (a copy).
func (e *Engine) Transcript() []Entry { return cloneEntries(e.transcript) }

func cloneEntries(t []Entry) []Entry {
	out := make([]Entry, len(t))
	copy(out, t)
	for i := range out {
		if c := out[i].Consent; c != nil {
			cc := *c
			out[i].Consent = &cc
		}
	}
	return out
}

func (e *Engine) text(t flow.Text) string { return t.In(e.lang, e.f.DefaultLanguage) }

func (e *Engine) ms() int64 { return e.now().UnixMilli() }

func (e *Engine) record(en Entry) {
	en.Time = e.ms()
	e.transcript = append(e.transcript, en)
}

func (e *Engine) say(out []Output, step, text, faqID string) []Output {
	e.record(Entry{Who: Bot, Step: step, Text: text, FAQ: faqID})
	return append(out, Output{Kind: OutSay, Step: step, Text: text, FAQ: faqID})
}

func (e *Engine) fail(out []Output, err error) []Output {
	e.status, e.cur = Failed, ""
	return append(out, Output{Kind: OutError, Err: err, Fatal: true, Text: texts(e.lang).failed})
}

func notWaiting(err error) []Output {
	return []Output{{Kind: OutError, Err: err}}
}

// Start runs the flow from its start step up to the first step that waits.
func (e *Engine) Start() []Output {
	if e.status != NotStarted {
		return notWaiting(ErrNotWaiting)
	}
	return e.run(nil, e.f.Start)
}

// run executes steps from id until one waits, the flow ends or fails.
func (e *Engine) run(out []Output, id string) []Output {
	for n := 0; ; n++ {
		if n >= MaxAutoSteps {
			return e.fail(out, ErrRunaway)
		}
		st := e.f.Steps[id]
		if st == nil {
			return e.fail(out, ErrUnknownStep)
		}
		switch st.Kind {
		case flow.KindSay:
			out = e.say(out, id, e.text(st.Text), "")
			id = st.Next
		case flow.KindJump:
			id = st.Next
		case flow.KindSet:
			e.vars[st.Variable] = st.Value
			id = st.Next
		case flow.KindBranch:
			next := st.Else
			for _, c := range st.Cases {
				ok, err := e.cond(&c.When, 0)
				if err != nil {
					return e.fail(out, err)
				}
				if ok {
					next = c.Next
					break
				}
			}
			id = next
		case flow.KindChoice:
			out = e.say(out, id, e.text(st.Text), "")
			e.status, e.cur = Waiting, id
			return append(out, e.prompt(st))
		case flow.KindAsk:
			if e.personal(st) && e.consent != ConsentAccepted {
				return e.fail(out, ErrConsentRequired)
			}
			out = e.say(out, id, e.text(st.Text), "")
			e.status, e.cur = Waiting, id
			return append(out, e.prompt(st))
		case flow.KindFAQ:
			out = e.say(out, id, e.text(st.Text), "")
			e.status, e.cur = Waiting, id
			return append(out, e.prompt(st))
		case flow.KindConsent:
			text := e.text(st.Text)
			e.record(Entry{Who: Bot, Step: id, Text: text})
			e.shownHash = sha2.Sum256([]byte(text))
			e.status, e.cur = Waiting, id
			return append(out, e.prompt(st))
		case flow.KindHandoff:
			out = e.say(out, id, e.text(st.Text), "")
			e.handedOff = true
			out = append(out, Output{Kind: OutHandoff, Step: id, Transcript: e.Transcript()})
			if st.Next == "" {
				e.status, e.cur = HandedOff, id
				return out
			}
			id = st.Next
		case flow.KindEnd:
			if st.Text != nil {
				out = e.say(out, id, e.text(st.Text), "")
			}
			e.status, e.cur = Ended, id
			return append(out, Output{Kind: OutEnd, Step: id})
		default:
			return e.fail(out, ErrBadFlow)
		}
	}
}

// prompt is the interactive part of a waiting step.
func (e *Engine) prompt(st *flow.Step) Output {
	switch st.Kind {
	case flow.KindChoice:
		labels := make([]string, len(st.Options))
		for i, o := range st.Options {
			labels[i] = e.text(o.Label)
		}
		return Output{Kind: OutChoices, Step: st.ID, Options: labels}
	case flow.KindConsent:
		b := texts(e.lang)
		url := e.privacyURL
		if url == "" && e.f.PrivacyPolicy != nil {
			url = e.text(e.f.PrivacyPolicy)
		}
		return Output{Kind: OutConsent, Step: st.ID, Text: e.text(st.Text), PrivacyURL: url,
			Options: []string{b.accept, b.decline}}
	case flow.KindFAQ:
		return Output{Kind: OutAsk, Step: st.ID, Input: flow.InputText, HTMLType: "text",
			MaxLength: flow.MaxInputLength}
	}
	o := Output{Kind: OutAsk, Step: st.ID, Input: st.Input, HTMLType: htmlType(st.Input),
		Autocomplete: autocomplete(st), Personal: e.personal(st), Variable: st.Variable,
		Min: st.Min, Max: st.Max}
	if st.Input == flow.InputText {
		o.MinLength, o.MaxLength = st.MinLength, st.MaxLength
	}
	if o.MaxLength == 0 {
		o.MaxLength = flow.MaxInputLength
	}
	return o
}

func (e *Engine) personal(st *flow.Step) bool {
	if st.Personal {
		return true
	}
	v, _ := e.f.Variable(st.Variable)
	return v.Personal
}

func htmlType(k flow.InputKind) string {
	switch k {
	case flow.InputEmail:
		return "email"
	case flow.InputPhone:
		return "tel"
	case flow.InputNumber:
		return "number"
	case flow.InputDate:
		return "date"
	}
	return "text"
}

// autocomplete returns the autocomplete hint: email and tel by input kind,
// name, given-name and family-name by the variable's name.
func autocomplete(st *flow.Step) string {
	switch st.Input {
	case flow.InputEmail:
		return "email"
	case flow.InputPhone:
		return "tel"
	case flow.InputText:
		// strings.Map, not a strings.Replacer: the widget links no Replacer.
		switch strings.Map(dropDashes, strings.ToLower(st.Variable)) {
		case "name", "fullname":
			return "name"
		case "firstname", "givenname", "vorname":
			return "given-name"
		case "lastname", "familyname", "surname", "nachname":
			return "family-name"
		}
	}
	return ""
}

// dropDashes is a strings.Map function that removes "-" and "_".
func dropDashes(r rune) rune {
	if r == '-' || r == '_' {
		return -1
	}
	return r
}

// Prompt returns the interactive part of the current step (choices, input
// field or consent dialog) so that a restored widget can show it again; nil
// if the engine does not wait for the visitor.
func (e *Engine) Prompt() []Output {
	if e.status != Waiting {
		return nil
	}
	return []Output{e.prompt(e.f.Steps[e.cur])}
}

// waiting returns the current step if the engine waits at a step of kind k.
func (e *Engine) waiting(k flow.Kind) *flow.Step {
	if e.status != Waiting {
		return nil
	}
	if st := e.f.Steps[e.cur]; st != nil && st.Kind == k {
		return st
	}
	return nil
}

// Choose picks option i (0-based) of the current choice step.
func (e *Engine) Choose(i int) []Output {
	st := e.waiting(flow.KindChoice)
	if st == nil {
		return notWaiting(ErrNotWaiting)
	}
	if i < 0 || i >= len(st.Options) {
		return notWaiting(ErrBadOption)
	}
	e.record(Entry{Who: Visitor, Step: st.ID, Text: e.text(st.Options[i].Label)})
	return e.run(nil, st.Options[i].Next)
}

// Consent gives the visitor's decision at the current consent step.
func (e *Engine) Consent(accept bool) []Output {
	st := e.waiting(flow.KindConsent)
	if st == nil {
		return notWaiting(ErrNotWaiting)
	}
	b := texts(e.lang)
	label, next := b.decline, st.Decline
	e.consent = ConsentDeclined
	if accept {
		label, next = b.accept, st.Accept
		e.consent = ConsentAccepted
	}
	t := e.ms()
	e.transcript = append(e.transcript, Entry{Who: Visitor, Step: st.ID, Text: label, Time: t,
		Consent: &ConsentRecord{FlowVersion: e.flowVersion, TextHash: e.shownHash, Accepted: accept, Time: t}})
	e.shownHash = [32]byte{}
	return e.run(nil, next)
}

// Input handles text typed by the visitor: the answer of an ask step, the
// question of a faq step, or an option label typed at a choice step
// (compared without case and surrounding space).
func (e *Engine) Input(text string) []Output {
	if e.status != Waiting {
		return notWaiting(ErrNotWaiting)
	}
	st := e.f.Steps[e.cur]
	b := texts(e.lang)
	switch st.Kind {
	case flow.KindChoice:
		t := strings.TrimSpace(text)
		for i, o := range st.Options {
			if strings.EqualFold(t, strings.TrimSpace(e.text(o.Label))) {
				return e.Choose(i)
			}
		}
		return []Output{{Kind: OutReask, Step: st.ID, Text: b.chooseOption}}
	case flow.KindConsent:
		// Not recorded: text typed before a decision may be personal.
		return []Output{{Kind: OutReask, Step: st.ID, Text: b.useConsentButtons}}
	case flow.KindAsk:
		if e.personal(st) && e.consent != ConsentAccepted {
			return e.fail(nil, ErrConsentRequired)
		}
		v, err := Validate(st, text, e.patterns())
		if err != nil {
			if !isInputError(err) {
				return e.fail(nil, err) // ErrNoCompiler, ErrBadPattern
			}
			return []Output{{Kind: OutReask, Step: st.ID, Text: e.retryText(st, err)}}
		}
		e.vars[st.Variable] = v
		e.record(Entry{Who: Visitor, Step: st.ID, Text: v, Variable: st.Variable, Personal: e.personal(st)})
		return e.run(nil, st.Next)
	case flow.KindFAQ:
		q := strings.TrimSpace(text)
		if q == "" {
			return []Output{{Kind: OutReask, Step: st.ID, Text: b.askQuestion}}
		}
		if utf8.RuneCountInString(q) > flow.MaxInputLength {
			return []Output{{Kind: OutReask, Step: st.ID,
				Text: e.retryText(&flow.Step{Input: flow.InputText}, ErrTooLong)}}
		}
		e.record(Entry{Who: Visitor, Step: st.ID, Text: q})
		threshold := st.Threshold
		if threshold <= 0 {
			threshold = faq.Threshold
		}
		i, conf, _ := e.matcher.Match(q, e.lang)
		if i >= 0 && i < len(e.f.FAQ) && conf >= threshold {
			fe := &e.f.FAQ[i]
			out := e.say(nil, st.ID, e.text(fe.Answer), fe.ID)
			return e.run(out, st.Next)
		}
		out := e.say(nil, st.ID, b.notUnderstood, "")
		return e.run(out, st.Fallback)
	}
	return e.fail(nil, ErrBadFlow)
}

func isInputError(err error) bool {
	switch err {
	case ErrEmpty, ErrTooShort, ErrTooLong, ErrFormat, ErrOutOfRange, ErrPattern:
		return true
	}
	return false
}

// cond evaluates a condition. Equals and contains compare without case
// (equals also ignores surrounding space); matches is an unanchored search
// for the pattern; an unset variable equals, contains and matches nothing.
func (e *Engine) cond(c *flow.Cond, depth int) (bool, error) {
	if depth > flow.MaxCondDepth {
		return false, ErrBadFlow
	}
	switch c.Op {
	case flow.CondIsSet:
		_, ok := e.vars[c.Var]
		return ok, nil
	case flow.CondEquals, flow.CondContains, flow.CondMatches:
		v, ok := e.vars[c.Var]
		if !ok {
			return false, nil
		}
		switch c.Op {
		case flow.CondEquals:
			return strings.EqualFold(strings.TrimSpace(v), strings.TrimSpace(c.Value)), nil
		case flow.CondContains:
			return strings.Contains(strings.ToLower(v), strings.ToLower(c.Value)), nil
		}
		m, err := compilePattern(c.Value, true, e.patterns())
		if err != nil {
			return false, err
		}
		return m.MatchString(v), nil
	case flow.CondAll, flow.CondAny:
		if len(c.Subs) == 0 {
			return false, ErrBadFlow
		}
		for i := range c.Subs {
			ok, err := e.cond(&c.Subs[i], depth+1)
			if err != nil {
				return false, err
			}
			if ok != (c.Op == flow.CondAll) {
				return ok, nil
			}
		}
		return c.Op == flow.CondAll, nil
	case flow.CondNot:
		if len(c.Subs) != 1 {
			return false, ErrBadFlow
		}
		ok, err := e.cond(&c.Subs[0], depth+1)
		return !ok, err
	}
	return false, ErrBadFlow
}
