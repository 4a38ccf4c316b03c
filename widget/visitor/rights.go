package visitor

import (
	"errors"
	"time"

	"siegel/shared/content"
	"siegel/shared/flow"
	"siegel/shared/protocol"
	"siegel/widget/flowengine"
	"siegel/widget/i18n"
	"siegel/widget/session"
)

// The visitor's rights in the chat window (the "My data" menu and the rights
// page): view, correct, export and delete. The view and the export are built
// from the relay's copy of the conversation (replayed as ciphertext on every
// connection and decrypted here) plus what this browser keeps that the relay
// has not got: queued messages and, while the visitor talks to the bot alone,
// the bot's transcript. Corrections and the erasure are signed requests of the
// session (docs/PROTOCOL.md §6.5); what happened to them arrives as Results of
// an Update.

// Errors of Correct and Delete.
var (
	// ErrInvalid: the new value does not pass the step's validation; the
	// problem is described in the CorrectResult.
	ErrInvalid = errors.New("visitor: invalid value")
	// ErrNotCorrectable: the entry cannot be corrected (not a piece of data, or
	// still waiting to be sent).
	ErrNotCorrectable = errors.New("visitor: entry cannot be corrected")
	// ErrUnchanged: the new value is the stored one.
	ErrUnchanged = errors.New("visitor: value unchanged")
)

// Outcome is what happened to a request of the "My data" menu.
type Outcome uint8

const (
	// OutcomeCorrected: a correction is stored (at the relay, or in this browser).
	OutcomeCorrected Outcome = iota + 1
	// OutcomeCorrectFailed: the relay refused a correction (Code); nothing changed.
	OutcomeCorrectFailed
	// OutcomeDeleteFailed: the relay refused the erasure (Code); nothing changed.
	OutcomeDeleteFailed
	// OutcomeErased: the conversation no longer exists — erased at the
	// visitor's request, on another device, by an agent or by retention. The
	// caller wipes the stored record and every bit of state.
	OutcomeErased
)

// Result is an outcome with the relay's error code (if any).
type Result struct {
	Outcome Outcome
	Code    protocol.ErrorCode
}

// SetRemote marks a chat whose conversation is known to the relay whatever
// this browser holds (the rights page: its keys come from a conversation code).
func (c *Chat) SetRemote() { c.remote = true }

// SetFlow gives the flow that validates corrections when the chat has no bot
// (nil: answers are validated by their input kind).
func (c *Chat) SetFlow(f *flow.Flow, lang string) { c.flow, c.lang = f, lang }

// SetCompiler sets the compiler for the patterns of the flow's questions,
// which corrections are validated with (as the bot's: the browser's RegExp
// in the widget).
func (c *Chat) SetCompiler(comp flowengine.Compiler) { c.compile = comp }

// Shared reports whether the conversation has reached, or is about to reach,
// the relay: something was sealed or queued for it, or the chat is remote.
func (c *Chat) Shared() bool {
	if c.remote || c.erased {
		return c.remote && !c.erased
	}
	st := c.sess.State()
	return st.NextSeq > 1 || len(st.Consents) > 0 || c.bot != nil && c.bot.Sealed() > 0
}

// Erased reports whether the conversation was erased (then nothing works any
// more; the caller starts afresh).
func (c *Chat) Erased() bool { return c.erased }

// MyData returns what the "My data" menu shows.
func (c *Chat) MyData() View {
	v := View{Shared: c.Shared()}
	if c.erased {
		return v
	}
	v.Loading = v.Shared && !c.hist.Fetched()
	for _, e := range c.hist.Entries() {
		v.add(e)
	}
	for _, ev := range c.sess.Queued() {
		if m, ok := ev.(session.MessageEvent); ok {
			if e, ok := entryOf(m); ok && m.Type != content.TypeCorrection {
				v.add(e)
			}
		}
	}
	if c.bot != nil {
		for i, n := c.bot.Sealed(), c.bot.Settled(); i < n; i++ {
			if e, ok := c.bot.entry(i); ok {
				v.add(e)
			}
		}
	}
	return v
}

// CorrectResult tells what became of a correction.
type CorrectResult struct {
	Value   string // the value as it is stored (normalised by the validation)
	Problem string // ErrInvalid: why the value is refused, in the visitor's language
	Local   bool   // corrected in this browser at once (nothing was sent)
}

// Correct replaces the value of a data entry (from MyData) by text, validated
// like the flow's question (the step it answered, else an ask step of the
// flow with its variable, else by the answer's input kind). An entry kept only
// in this browser is corrected at once; one at the relay is sent as a signed
// correction whose outcome arrives later (OutcomeCorrected or
// OutcomeCorrectFailed).
func (c *Chat) Correct(e Entry, text string) (Update, CorrectResult, error) {
	var u Update
	var r CorrectResult
	if c.erased || !e.Correctable() {
		return u, r, ErrNotCorrectable
	}
	st := c.stepFor(&e)
	v, err := flowengine.Validate(st, text, c.compile)
	if err != nil {
		r.Problem = c.problem(st, err)
		return u, r, ErrInvalid
	}
	r.Value = v
	if v == e.Answer.Value {
		return u, r, ErrUnchanged
	}
	if e.Where == WhereBrowser {
		if c.bot == nil || c.bot.Correct(e.Index, v) != nil {
			return u, r, ErrNotCorrectable
		}
		r.Local = true
		u.Data = true
		u.merge(c.model, c.model.correctEntry(e.Index, v))
		u.Results = append(u.Results, Result{Outcome: OutcomeCorrected})
		return u, r, nil
	}
	a := e.Answer
	a.Value = v
	evs, err := c.sess.Correct(e.Pos, a, c.now())
	if err != nil {
		return u, r, err
	}
	u.merge(c.model, c.model.Apply(evs))
	u.Connect = true
	return u, r, nil
}

func (c *Chat) now() int64 {
	if c.clock != nil {
		return c.clock().UnixMilli()
	}
	return time.Now().UnixMilli()
}

// stepFor returns the ask step whose validation a correction of e passes.
func (c *Chat) stepFor(e *Entry) *flow.Step {
	f := c.flow
	if c.bot != nil {
		f = c.bot.Flow()
		if st := f.Step(e.Step); e.Where == WhereBrowser && st != nil && st.Kind == flow.KindAsk {
			return st
		}
	}
	kind := flowInput(e.Answer.Kind)
	if f != nil {
		for _, st := range f.Steps {
			if st.Kind == flow.KindAsk && st.Variable == e.Answer.Variable && st.Input == kind {
				return st
			}
		}
	}
	return &flow.Step{Kind: flow.KindAsk, Input: kind, Variable: e.Answer.Variable}
}

func flowInput(k content.InputKind) flow.InputKind {
	switch k {
	case content.InputEmail:
		return flow.InputEmail
	case content.InputPhone:
		return flow.InputPhone
	case content.InputNumber:
		return flow.InputNumber
	case content.InputDate:
		return flow.InputDate
	}
	return flow.InputText
}

// problem explains a refused value: the step's own retry text, else one by
// the kind of problem.
func (c *Chat) problem(st *flow.Step, err error) string {
	lang := c.lang
	if c.bot != nil {
		lang = c.bot.Lang()
	}
	if lang == "" {
		lang = c.model.Strings().Lang.Tag()
	}
	if st.Retry != nil {
		if t := st.Retry.In(lang, flow.DefaultLanguage); t != "" {
			return t
		}
	}
	return problemText(c.model.Strings(), st, err)
}

func problemText(s *i18n.Strings, st *flow.Step, err error) string {
	switch {
	case errors.Is(err, flowengine.ErrEmpty):
		return s.InvalidEmpty
	case errors.Is(err, flowengine.ErrTooLong):
		return s.InvalidTooLong
	case st.Input == flow.InputEmail:
		return s.InvalidEmail
	case st.Input == flow.InputPhone:
		return s.InvalidPhone
	case st.Input == flow.InputNumber:
		return s.InvalidNumber
	case st.Input == flow.InputDate:
		return s.InvalidDate
	case errors.Is(err, flowengine.ErrTooShort):
		return s.InvalidTooShort
	}
	return s.InvalidText
}

// Delete erases the conversation. If nothing of it ever reached the relay it
// is wiped at once (OutcomeErased in the returned Update); otherwise a signed
// erase request goes to the relay, and OutcomeErased (or
// OutcomeDeleteFailed) arrives with a later Update.
func (c *Chat) Delete() (Update, error) {
	var u Update
	if c.erased {
		u.Results = append(u.Results, Result{Outcome: OutcomeErased})
		return u, nil
	}
	if !c.Shared() && !c.connected {
		c.wipe()
		u.Data = true
		u.Results = append(u.Results, Result{Outcome: OutcomeErased})
		return u, nil
	}
	evs, err := c.sess.Erase(c.sess.Conv())
	if err != nil {
		return u, err
	}
	u.merge(c.model, c.model.Apply(evs))
	u.Connect = true
	return u, nil
}

// wipe forgets the conversation (the caller removes the stored record).
func (c *Chat) wipe() {
	c.erased = true
	c.hist.Clear()
	c.prompt = Prompt{}
}

// rights turns the session's answers to signed requests into results.
func (c *Chat) rights(u *Update, evs []session.Event) {
	for _, ev := range evs {
		if c.hist.Apply(ev) {
			u.Data = true
		}
		switch ev := ev.(type) {
		case session.StatusEvent:
			if ev.Status == session.StatusReady {
				c.connected = true
			}
		case session.DoneEvent:
			u.Data = true
			switch ev.Op {
			case protocol.OpCorrect:
				u.Results = append(u.Results, Result{Outcome: OutcomeCorrected})
			case protocol.OpErase:
				c.erasedNow(u)
			}
		case session.RequestFailedEvent:
			switch {
			case ev.Code == protocol.CodeGone:
				// An ErasedEvent follows.
			case ev.Op == protocol.OpErase && ev.Code == protocol.CodeNotFound:
				c.erasedNow(u) // nothing there to erase
			case ev.Op == protocol.OpErase:
				u.Results = append(u.Results, Result{Outcome: OutcomeDeleteFailed, Code: ev.Code})
			default:
				u.Results = append(u.Results, Result{Outcome: OutcomeCorrectFailed, Code: ev.Code})
			}
		case session.ErasedEvent:
			c.erasedNow(u)
		}
	}
}

func (c *Chat) erasedNow(u *Update) {
	if c.erased {
		return
	}
	c.wipe()
	u.Data = true
	u.Results = append(u.Results, Result{Outcome: OutcomeErased})
}

// entry describes transcript entry i as an Entry kept in this browser; false
// for an entry that is not shown (a text that does not decode).
func (b *Bot) entry(i int) (Entry, bool) {
	en := &b.t[i]
	e := Entry{Where: WhereBrowser, Index: i, Step: en.Step, Time: en.Time, From: FromVisitor}
	_, e.Corrected = b.corr[i]
	switch {
	case en.Who == flowengine.Bot:
		e.From, e.Type, e.Text = FromBot, content.TypeBot, en.Text
	case en.Consent != nil:
		e.Type = content.TypeConsent
		e.Consent = content.Consent{FlowVersion: b.revision, TextHash: en.Consent.TextHash,
			Accepted: en.Consent.Accepted, Time: en.Consent.Time}
	default:
		st := b.f.Step(en.Step)
		switch {
		case st != nil && st.Kind == flow.KindChoice:
			e.Type, e.Answer = content.TypeAnswer, content.Answer{Kind: content.InputChoice, Value: en.Text}
		case st != nil && st.Kind == flow.KindAsk:
			e.Type = content.TypeAnswer
			e.Answer = content.Answer{Variable: en.Variable, Personal: b.personal(en), Kind: inputKind(st.Input),
				Value: en.Text}
		default:
			e.Type, e.Text = content.TypeText, en.Text
		}
	}
	return e, en.Text != "" || e.Type == content.TypeConsent
}

// correctable reports whether transcript entry i is a visitor's answer to an
// ask step (the only kind a local correction may change).
func (b *Bot) correctable(i int) bool {
	if i < 0 || i >= len(b.t) {
		return false
	}
	en := &b.t[i]
	st := b.f.Step(en.Step)
	return en.Who == flowengine.Visitor && en.Consent == nil && en.Variable != "" && st != nil && st.Kind == flow.KindAsk
}

// Correct replaces the value of the answer at transcript index i, kept only in
// this browser (not sealed yet): the chat, the "My data" view and a later
// sealing use the new value.
func (b *Bot) Correct(i int, value string) error {
	if !b.correctable(i) || i < b.sealed || value == "" {
		return ErrNotCorrectable
	}
	if b.corr == nil {
		b.corr = map[int]string{}
	}
	b.corr[i] = value
	b.refresh()
	return nil
}

// SafeURL returns u when it is an http or https link, else "" (a link the
// widget shows must not run script).
func SafeURL(u string) string { return safeURL(u) }

// PrivacyURL returns the privacy-policy link for the "My data" menu: the
// site's (from the frame page), else the flow's in lang; "" when there is
// none.
func PrivacyURL(site string, f *flow.Flow, lang string) string {
	if u := safeURL(site); u != "" {
		return u
	}
	if f != nil {
		return safeURL(f.PrivacyPolicy.In(lang, f.DefaultLanguage))
	}
	return ""
}
