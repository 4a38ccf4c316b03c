package visitor

import (
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"siegel/shared/content"
	"siegel/shared/flow"
	"siegel/widget/flowengine"
)

// ErrFlow is returned by LoadFlow for a data-flow attribute that is not a
// compiled flow, and by RestoreBot for a bot state that does not fit the flow.
var ErrFlow = errors.New("visitor: unusable bot flow")

// LoadFlow decodes the frame page's data-flow (standard base64 of a compiled
// flow) and data-flow-revision (decimal, 1 … 2^32−1) attributes. An empty
// data-flow means the site has no bot: it returns a nil flow and no error.
func LoadFlow(data, revision string) (*flow.Flow, uint32, error) {
	data = strings.TrimSpace(data)
	if data == "" {
		return nil, 0, nil
	}
	rev, ok := parseRevision(strings.TrimSpace(revision))
	if !ok || rev == 0 {
		return nil, 0, ErrFlow
	}
	b, err := base64.StdEncoding.Strict().DecodeString(data)
	if err != nil {
		return nil, 0, ErrFlow
	}
	f, err := flow.Decode(b)
	if err != nil {
		return nil, 0, ErrFlow
	}
	return f, rev, nil
}

// parseRevision parses a decimal uint32, as strconv.ParseUint(s, 10, 32)
// does. (Not strconv: its parse errors quote the input, which links the
// quoting tables into the widget.)
func parseRevision(s string) (uint32, bool) {
	var n uint64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		if n = n*10 + uint64(s[i]-'0'); n > 1<<32-1 {
			return 0, false
		}
	}
	return uint32(n), s != ""
}

// PickLang returns the flow language for the browser's preferred languages
// (most preferred first): the first one the flow has (exactly, or by its
// primary subtag: "en-GB" → "en"), else German.
func PickLang(f *flow.Flow, languages []string) string {
	for _, l := range languages {
		l = strings.TrimSpace(l)
		for _, fl := range f.Languages {
			if strings.EqualFold(l, fl) {
				return fl
			}
		}
		if i := strings.IndexAny(l, "-_"); i > 0 {
			for _, fl := range f.Languages {
				if strings.EqualFold(l[:i], fl) {
					return fl
				}
			}
		}
	}
	return flow.DefaultLanguage
}

// BotState is what the widget keeps of the bot between page loads.
type BotState struct {
	Revision    uint32            // the flow revision the engine state belongs to (≥ 1)
	Sealed      uint32            // transcript entries already sealed into the outbox
	Engine      []byte            // flowengine MarshalState
	Corrections []LocalCorrection // answers corrected before they were sent, by ascending index
}

// LocalCorrection is an answer the visitor corrected while it was kept only in
// this browser: the transcript entry at Index shows (and is sent with) Value.
type LocalCorrection struct {
	Index uint32
	Value string
}

// Bot runs the site's flow for the visitor (widget/flowengine) and decides which
// transcript entries leave the browser, and when (docs/PROTOCOL.md §3.3):
//
//   - While the visitor only talks to the bot nothing leaves the browser.
//   - The conversation is shared with the relay when the flow reaches a handoff
//     step, or when a personal answer is given after an accepted consent. Then
//     every settled transcript entry is sealed, in order, and from then on each
//     new one as it happens.
//   - A personal answer is never sealed unless the most recent consent decision
//     before it was an accept, whatever the engine reported (defence in depth).
//
// Entries are sealed one at a time (Next, then Done) so that the caller can
// stop when the outbox is full and go on later; Sealed counts them and is kept
// with the session's outbox in one storage record.
type Bot struct {
	f        *flow.Flow
	eng      *flowengine.Engine
	revision uint32
	sealed   int
	t        []flowengine.Entry // transcript cache, refreshed after every engine call
	corr     map[int]string     // local corrections by transcript index
}

// NewBot returns a bot that has not started yet. privacyURL is the site's
// privacy-policy URL ("" to use the flow's); now is the clock for transcript
// times (nil: time.Now).
func NewBot(f *flow.Flow, revision uint32, lang, privacyURL string, now func() time.Time) *Bot {
	b := &Bot{f: f, eng: flowengine.New(f, lang), revision: revision}
	b.setup(privacyURL, now)
	return b
}

// RestoreBot rebuilds a bot from its stored state. It fails with ErrFlow when
// the state belongs to another flow revision or does not fit the flow.
func RestoreBot(f *flow.Flow, revision uint32, st BotState, privacyURL string, now func() time.Time) (*Bot, error) {
	if st.Revision != revision {
		return nil, ErrFlow
	}
	eng, err := flowengine.RestoreState(f, st.Engine)
	if err != nil {
		return nil, ErrFlow
	}
	b := &Bot{f: f, eng: eng, revision: revision}
	for _, c := range st.Corrections {
		if b.corr == nil {
			b.corr = map[int]string{}
		}
		b.corr[int(c.Index)] = c.Value
	}
	b.setup(privacyURL, now)
	if uint64(st.Sealed) > uint64(len(b.t)) {
		return nil, ErrFlow
	}
	for i := range b.corr {
		if !b.correctable(i) {
			return nil, ErrFlow
		}
	}
	b.sealed = int(st.Sealed)
	return b, nil
}

func (b *Bot) setup(privacyURL string, now func() time.Time) {
	if now != nil {
		b.eng.SetClock(now)
	}
	if privacyURL != "" {
		b.eng.SetPrivacyURL(privacyURL)
	}
	b.refresh()
}

// refresh reads the engine's transcript and applies the local corrections.
func (b *Bot) refresh() {
	b.t = b.eng.Transcript()
	for i, v := range b.corr {
		if i < len(b.t) {
			b.t[i].Text = v
		}
	}
}

// SetCompiler sets the compiler for the flow's patterns (flowengine.Compiler;
// the widget passes the browser's RegExp). A flow with patterns needs one.
func (b *Bot) SetCompiler(c flowengine.Compiler) { b.eng.SetCompiler(c) }

// State returns what to persist.
func (b *Bot) State() BotState {
	st := BotState{Revision: b.revision, Sealed: uint32(b.sealed), Engine: b.eng.MarshalState()}
	for i, v := range b.corr {
		c := LocalCorrection{Index: uint32(i), Value: v}
		j := len(st.Corrections)
		st.Corrections = append(st.Corrections, c)
		for ; j > 0 && st.Corrections[j-1].Index > c.Index; j-- {
			st.Corrections[j] = st.Corrections[j-1]
		}
		st.Corrections[j] = c
	}
	return st
}

// Flow returns the flow.
func (b *Bot) Flow() *flow.Flow { return b.f }

// Revision returns the flow revision.
func (b *Bot) Revision() uint32 { return b.revision }

// Lang returns the language the bot speaks.
func (b *Bot) Lang() string { return b.eng.Lang() }

// Status returns where the flow stands.
func (b *Bot) Status() flowengine.Status { return b.eng.Status() }

// HandedOff reports whether the flow has passed a handoff step: from then on
// the composer's text goes to a person.
func (b *Bot) HandedOff() bool { return b.eng.HandedOff() }

// Prompt returns the interactive part of the step the flow waits at (nil if
// it does not wait).
func (b *Bot) Prompt() []flowengine.Output { return b.eng.Prompt() }

// Start runs the flow from its start.
func (b *Bot) Start() []flowengine.Output { return b.after(b.eng.Start()) }

// Choose picks button i of the current choice step.
func (b *Bot) Choose(i int) []flowengine.Output { return b.after(b.eng.Choose(i)) }

// Consent gives the visitor's decision at the current consent step.
func (b *Bot) Consent(accept bool) []flowengine.Output { return b.after(b.eng.Consent(accept)) }

// Input gives text typed by the visitor to the current step.
func (b *Bot) Input(text string) []flowengine.Output { return b.after(b.eng.Input(text)) }

func (b *Bot) after(out []flowengine.Output) []flowengine.Output {
	b.refresh()
	return out
}

// Transcript returns the transcript (do not modify).
func (b *Bot) Transcript() []flowengine.Entry { return b.t }

// Settled returns how many transcript entries are final: all but the text of
// a consent step still waiting for the decision (shown in the consent dialog
// and recorded, shown in the chat and sealed with the decision).
func (b *Bot) Settled() int {
	n := len(b.t)
	if n > 0 && b.t[n-1].Who == flowengine.Bot && b.eng.Status() == flowengine.Waiting {
		if st := b.f.Step(b.eng.Step()); st != nil && st.Kind == flow.KindConsent && b.t[n-1].Step == st.ID {
			return n - 1
		}
	}
	return n
}

// Sealed returns how many transcript entries have been sealed.
func (b *Bot) Sealed() int { return b.sealed }

// Shared reports whether the conversation has reached (or is about to reach)
// the relay: something was sealed, or the settled transcript holds a handoff or
// a personal answer after an accepted consent.
func (b *Bot) Shared() bool {
	if b.sealed > 0 {
		return true
	}
	consent := false
	for i, n := 0, b.Settled(); i < n; i++ {
		en := &b.t[i]
		switch {
		case en.Consent != nil:
			consent = en.Consent.Accepted
		case en.Who == flowengine.Bot && b.kind(en.Step) == flow.KindHandoff:
			return true
		case en.Who == flowengine.Visitor && b.personal(en) && consent:
			return true
		}
	}
	return false
}

func (b *Bot) kind(step string) flow.Kind {
	if st := b.f.Step(step); st != nil {
		return st.Kind
	}
	return 0
}

// personal reports whether an answer is personal by any account: the entry's
// flag, the step's flag, its input kind (email, phone) or a personal variable.
func (b *Bot) personal(en *flowengine.Entry) bool {
	if en.Personal {
		return true
	}
	st := b.f.Step(en.Step)
	if st == nil || st.Kind != flow.KindAsk {
		return false
	}
	if st.Personal || st.Input == flow.InputEmail || st.Input == flow.InputPhone {
		return true
	}
	v, _ := b.f.Variable(st.Variable)
	w, _ := b.f.Variable(en.Variable)
	return v.Personal || w.Personal
}

// inputKind maps a flow input kind to the answer's input kind.
func inputKind(k flow.InputKind) content.InputKind {
	switch k {
	case flow.InputEmail:
		return content.InputEmail
	case flow.InputPhone:
		return content.InputPhone
	case flow.InputNumber:
		return content.InputNumber
	case flow.InputDate:
		return content.InputDate
	}
	return content.InputText
}

// acceptedBefore reports whether the most recent consent decision before
// entry i was an accept.
func (b *Bot) acceptedBefore(i int) bool {
	for j := i - 1; j >= 0; j-- {
		if c := b.t[j].Consent; c != nil {
			return c.Accepted
		}
	}
	return false
}

// Envelope is one envelope's content to seal.
type Envelope struct {
	Type    content.Type
	Content []byte
	Time    int64 // Unix milliseconds
}

// ConsentReceipt is what the relay is told about a consent decision: no
// personal data, only the flow revision, the hash of the text shown and the
// decision.
type ConsentReceipt struct {
	FlowVersion uint32
	TextHash    [32]byte
	Accepted    bool
}

// Item is the next transcript entry to seal.
type Item struct {
	Index     int             // its index in the transcript
	Envelopes []Envelope      // in order; empty if the entry is never sent
	Consent   *ConsentReceipt // a consent decision: the receipt for the relay
}

// Next returns the next entry to seal, if the conversation is shared and a
// settled entry is not sealed yet. Call Done once the item is queued.
func (b *Bot) Next() (Item, bool) {
	if b.sealed >= b.Settled() || !b.Shared() {
		return Item{}, false
	}
	return b.item(b.sealed), true
}

// Done records that the item returned by Next was queued.
func (b *Bot) Done() {
	if b.sealed < b.Settled() {
		b.sealed++
	}
}

// item maps transcript entry i to its envelopes (docs/PROTOCOL.md §3.3).
func (b *Bot) item(i int) Item {
	en := &b.t[i]
	it := Item{Index: i}
	add := func(t content.Type, c []byte) {
		if content.Check(t, c) == nil {
			it.Envelopes = append(it.Envelopes, Envelope{Type: t, Content: c, Time: en.Time})
		}
	}
	if en.Who == flowengine.Bot {
		add(content.TypeBot, content.EncodeText(en.Text))
		if b.kind(en.Step) == flow.KindHandoff {
			add(content.TypeHandoff, content.EncodeHandoff(content.Handoff{Reason: content.HandoffPerson}))
		}
		return it
	}
	if c := en.Consent; c != nil {
		add(content.TypeConsent, content.EncodeConsent(content.Consent{FlowVersion: b.revision,
			TextHash: c.TextHash, Accepted: c.Accepted, Time: c.Time}))
		it.Consent = &ConsentReceipt{FlowVersion: b.revision, TextHash: c.TextHash, Accepted: c.Accepted}
		return it
	}
	st := b.f.Step(en.Step)
	switch {
	case st == nil:
	case st.Kind == flow.KindChoice:
		add(content.TypeAnswer, content.EncodeAnswer(content.Answer{Kind: content.InputChoice, Value: en.Text}))
	case st.Kind == flow.KindAsk:
		personal := b.personal(en)
		if personal && !b.acceptedBefore(i) {
			return it // never sealed
		}
		add(content.TypeAnswer, content.EncodeAnswer(content.Answer{Variable: en.Variable, Personal: personal,
			Kind: inputKind(st.Input), Value: en.Text}))
	default: // a question to the FAQ, or other free text
		add(content.TypeText, content.EncodeText(en.Text))
	}
	return it
}
