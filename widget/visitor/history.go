package visitor

import (
	"siegel/shared/content"
	"siegel/widget/session"
)

// Where tells where an entry of the conversation is kept.
type Where uint8

const (
	// WhereRelay: stored at the relay (encrypted) at Pos.
	WhereRelay Where = iota
	// WhereSending: sealed in this browser, waiting to be sent.
	WhereSending
	// WhereBrowser: kept only in this browser (the bot alone so far).
	WhereBrowser
)

// String returns "relay", "sending" or "browser".
func (w Where) String() string {
	switch w {
	case WhereSending:
		return "sending"
	case WhereBrowser:
		return "browser"
	}
	return "relay"
}

// Entry is one entry of the conversation as the "My data" menu shows and
// exports it. A correction is shown as the answer it sets (Corrected); the
// answer it replaced is no longer part of the conversation.
type Entry struct {
	Pos   uint64 // position at the relay (WhereRelay), else 0
	Where Where
	Index int    // WhereBrowser: the index in the bot's transcript; -1 otherwise
	Step  string // WhereBrowser: the flow step it belongs to
	From  From
	Name  string // an agent's name (FromAgent)
	Time  int64  // Unix milliseconds, the writer's clock
	// Type is TypeText, TypeBot, TypeAnswer, TypeConsent or TypeHandoff.
	// Text holds the text (text, bot text); Answer, Consent and Handoff the
	// decoded content of the other types.
	Type      content.Type
	Text      string
	Answer    content.Answer
	Consent   content.Consent
	Handoff   content.Handoff
	Corrected bool // an answer that was corrected
	// Original: for a corrected answer at the relay, the position of the
	// answer it replaced (where it is shown in the conversation's order).
	Original uint64
}

// IsData reports whether the entry is a piece of data the visitor gave: an
// answer typed into a question of the bot (it has a variable).
func (e *Entry) IsData() bool {
	return e.Type == content.TypeAnswer && e.Answer.Kind != content.InputChoice && e.Answer.Variable != ""
}

// Correctable reports whether the menu offers to correct the entry: a piece of
// data stored at the relay (its position is known) or kept only in this
// browser. Data still waiting to be sent cannot be corrected yet.
func (e *Entry) Correctable() bool {
	return e.IsData() && (e.Where == WhereRelay && e.Pos > 0 || e.Where == WhereBrowser && e.Index >= 0)
}

// History collects the conversation as the relay returns it (every page load
// replays it from the start, as ciphertext the session decrypts): the
// entries by position, with corrections applied.
type History struct {
	byPos   map[uint64]*Entry
	fetched bool
}

// Fetched reports whether the relay's copy has arrived in this page load.
func (h *History) Fetched() bool { return h.fetched }

// Clear forgets everything.
func (h *History) Clear() {
	clear(h.byPos)
	h.byPos, h.fetched = nil, false
}

// Apply records a session event; it reports whether the history changed.
func (h *History) Apply(ev session.Event) bool {
	switch ev := ev.(type) {
	case session.MessageEvent:
		if ev.Pending || ev.Pos == 0 {
			return false
		}
		e, ok := entryOf(ev)
		if !ok {
			return false
		}
		if h.byPos == nil {
			h.byPos = map[uint64]*Entry{}
		}
		if ev.Type == content.TypeCorrection {
			if c, err := content.DecodeCorrection(ev.Content); err == nil {
				if old := h.byPos[c.Pos]; old != nil && old.Original != 0 {
					e.Original = old.Original // a correction of a correction keeps the place
				}
				delete(h.byPos, c.Pos)
			}
		}
		h.byPos[ev.Pos] = &e
		return true
	case session.ReplacedEvent:
		if _, ok := h.byPos[ev.Old]; ok {
			delete(h.byPos, ev.Old)
			return true
		}
	case session.FetchedEvent:
		if !h.fetched {
			h.fetched = true
			return true
		}
	case session.ErasedEvent:
		h.Clear()
		return true
	}
	return false
}

// Entries returns the stored entries in the conversation's order: by
// position, a corrected answer at the place of the answer it replaced.
func (h *History) Entries() []Entry {
	out := make([]Entry, 0, len(h.byPos))
	for _, e := range h.byPos {
		out = append(out, *e)
	}
	// Insertion sort (no sort package: code size); the map's order is random,
	// but conversations are short.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].before(&out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// before orders entries by position, a corrected answer at the place of the
// answer it replaced.
func (e *Entry) before(o *Entry) bool {
	ke, ko := e.Pos, o.Pos
	if e.Original != 0 {
		ke = e.Original
	}
	if o.Original != 0 {
		ko = o.Original
	}
	return ke < ko || ke == ko && e.Pos < o.Pos
}

// entryOf turns a message of the session (stored or queued) into an entry;
// false for content that does not decode (it is left out, as in the chat).
func entryOf(ev session.MessageEvent) (Entry, bool) {
	e := Entry{Pos: ev.Pos, Index: -1, Time: ev.Time, Type: ev.Type, From: FromVisitor}
	if ev.Pending {
		e.Where = WhereSending
	}
	if !ev.Own {
		if ev.From != session.FromAgent || ev.Type != content.TypeText {
			return e, false
		}
		e.From, e.Name = FromAgent, ev.Agent.Name
	}
	var err error
	switch ev.Type {
	case content.TypeText:
		e.Text = string(ev.Content)
		if ev.Content == nil {
			e.Text = ev.Text
		}
	case content.TypeBot:
		e.From, e.Text = FromBot, string(ev.Content)
	case content.TypeAnswer:
		e.Answer, err = content.DecodeAnswer(ev.Content)
	case content.TypeConsent:
		e.Consent, err = content.DecodeConsent(ev.Content)
	case content.TypeHandoff:
		e.Handoff, err = content.DecodeHandoff(ev.Content)
	case content.TypeCorrection:
		var c content.Correction
		c, err = content.DecodeCorrection(ev.Content)
		e.Type, e.Answer, e.Corrected, e.Original = content.TypeAnswer, c.Answer, true, c.Pos
	default:
		return e, false
	}
	return e, err == nil
}

// View is what the "My data" menu shows.
type View struct {
	Entries  []Entry // the whole conversation, in order
	Data     []Entry // the data the visitor gave (answers with a variable), in order
	Consents []Entry // the consent decisions, in order
	// Shared: the conversation has reached (or is about to reach) the relay.
	Shared bool
	// Loading: shared, but the relay's copy has not arrived in this page load
	// yet; Entries then hold only what this browser keeps.
	Loading bool
}

func (v *View) add(e Entry) {
	v.Entries = append(v.Entries, e)
	switch {
	case e.IsData():
		v.Data = append(v.Data, e)
	case e.Type == content.TypeConsent:
		v.Consents = append(v.Consents, e)
	}
}
