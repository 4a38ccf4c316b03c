package agent

import (
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"siegel/shared/content"
	"siegel/shared/ids"
	"siegel/shared/protocol"
)

// Kind is what a transcript entry is, from its content type
// (docs/PROTOCOL.md §3.3).
type Kind uint8

const (
	// KindText is text typed by the visitor or an agent.
	KindText Kind = iota
	// KindBot is a text the bot showed the visitor.
	KindBot
	// KindAnswer is the visitor's answer to a question or choice of the bot.
	KindAnswer
	// KindConsent is the visitor's consent decision (shown as a system line).
	KindConsent
	// KindHandoff is the visitor's request for a person or a left message
	// (shown as a system line).
	KindHandoff
)

// String is the value of the data-kind attribute.
func (k Kind) String() string {
	switch k {
	case KindBot:
		return "bot"
	case KindAnswer:
		return "answer"
	case KindConsent:
		return "consent"
	case KindHandoff:
		return "handoff"
	}
	return "text"
}

// System reports whether entries of this kind are shown as a system line of
// the conversation rather than as a message bubble.
func (k Kind) System() bool { return k == KindConsent || k == KindHandoff }

// setContent fills the entry from the content type and bytes of its
// envelope. text is the text the session already decoded for pending own
// replies, which carry no content type. Contents that do not decode, of an
// unknown type, or of a type the sender may not send (agents send only text)
// make the entry unreadable: nothing of them is kept.
func (m *Message) setContent(t content.Type, b []byte, text string) {
	m.Kind, m.Text = KindText, ""
	m.Corrected, m.Original = false, 0
	ok := false
	switch {
	case t == 0 && m.Pending && text != "":
		m.Text, ok = text, true
	case t == content.TypeText:
		if ok = content.Check(t, b) == nil; ok {
			m.Text = string(b)
		}
	case m.From == FromAgent:
		// Only the visitor's browser runs the bot.
	case t == content.TypeBot:
		if ok = content.Check(t, b) == nil; ok {
			m.Kind, m.From, m.Text = KindBot, FromBot, string(b)
		}
	case t == content.TypeAnswer:
		var a content.Answer
		if a, ok = decodeAnswer(b); ok {
			m.Kind, m.Text = KindAnswer, a.Value
			m.Variable, m.Personal, m.Input = a.Variable, a.Personal, a.Kind
		}
	case t == content.TypeCorrection:
		c, err := content.DecodeCorrection(b)
		if ok = err == nil; ok {
			m.Kind, m.Text = KindAnswer, c.Answer.Value
			m.Variable, m.Personal, m.Input = c.Answer.Variable, c.Answer.Personal, c.Answer.Kind
			m.Corrected, m.Original = true, c.Pos
		}
	case t == content.TypeConsent:
		c, err := content.DecodeConsent(b)
		if ok = err == nil; ok {
			m.Kind, m.Consent = KindConsent, c
		}
	case t == content.TypeHandoff:
		h, err := content.DecodeHandoff(b)
		if ok = err == nil; ok {
			m.Kind, m.Reason, m.Text = KindHandoff, h.Reason, h.Note
		}
	}
	if !ok {
		m.Kind, m.Text, m.Unreadable = KindText, "", true
	}
}

func decodeAnswer(b []byte) (content.Answer, bool) {
	a, err := content.DecodeAnswer(b)
	return a, err == nil
}

// Waiting reports whether the visitor asked for a person (or left a message)
// and no agent has answered since, as far as the page knows the transcript.
func (c *Conversation) Waiting() bool {
	waiting := false
	for i := range c.Messages {
		m := &c.Messages[i]
		switch {
		case m.Kind == KindHandoff && !m.Unreadable:
			waiting = true
		case m.From == FromAgent && !m.Failed && !m.Unreadable:
			waiting = false
		}
	}
	return waiting
}

// Shown is a transcript entry as the page shows it, in plain strings (the
// view sets them as text, never as markup).
type Shown struct {
	Name   string // who wrote it: "Besucher", "Bot" or an agent's name; "" for system lines and unreadable entries
	Label  string // an answer's field, e.g. "E-Mail"; "" otherwise (also for a choice)
	Text   string // the text, the answer's value, the system line's headline, or the unreadable notice
	Detail string // system lines: the consent's time, flow version and text hash; the handoff's note
	Marker string // "personenbezogen" for a personal answer; "" otherwise
	// Corrected is "korrigiert" for an answer the visitor corrected; "" otherwise.
	Corrected string
}

// Show returns the strings to display for m; times are shown in loc.
func (t *Text) Show(m *Message, loc *time.Location) Shown {
	if m.Unreadable {
		return Shown{Text: t.Unreadable}
	}
	var s Shown
	switch m.Kind {
	case KindBot:
		s.Name, s.Text = t.Bot, m.Text
	case KindAnswer:
		s.Name, s.Text = t.Visitor, m.Text
		if m.Input != content.InputChoice {
			s.Label = t.VariableLabel(m.Variable)
		}
		if m.Personal {
			s.Marker = t.Personal
		}
		if m.Corrected {
			s.Corrected = t.Corrected
		}
	case KindConsent:
		s.Text = t.ConsentDeclined
		if m.Consent.Accepted {
			s.Text = t.ConsentAccepted
		}
		at := t.FormatDateTime(time.UnixMilli(m.Consent.Time), loc)
		s.Detail = at + " · " + t.FlowVersion + " " + strconv.FormatUint(uint64(m.Consent.FlowVersion), 10) +
			" · " + t.TextHash + " " + HashPrefix(m.Consent.TextHash)
	case KindHandoff:
		s.Text = t.HandoffPerson
		if m.Reason == content.HandoffMessage {
			s.Text = t.HandoffMessage
		}
		s.Detail = m.Text
	default:
		s.Text = m.Text
		s.Name = t.Visitor
		if m.From == FromAgent {
			s.Name = m.Name
		}
	}
	return s
}

// HashPrefix is the short form of a consent text hash shown to agents: its
// first 8 hexadecimal digits.
func HashPrefix(h [32]byte) string { return hex.EncodeToString(h[:4]) }

// HashHex is the whole hash in hexadecimal.
func HashHex(h [32]byte) string { return hex.EncodeToString(h[:]) }

// FormatDateTime renders an absolute point in time in loc, with the date
// always shown: "28.11.2025 15:30" (German) or "2025-11-28 15:30" (English).
// It is used for records that serve as evidence, where "today" would be
// ambiguous later.
func (t *Text) FormatDateTime(at time.Time, loc *time.Location) string {
	if loc != nil {
		at = at.In(loc)
	}
	y, mo, d := at.Date()
	clock := two(at.Hour()) + ":" + two(at.Minute())
	if t.Lang == English {
		return itoa(y) + "-" + two(int(mo)) + "-" + two(d) + " " + clock
	}
	return two(d) + "." + two(int(mo)) + "." + itoa(y) + " " + clock
}

// VariableLabel turns a flow variable name into a field label for the agent:
// well-known names get their usual word ("email" → "E-Mail"), other names
// are shown with "_" as spaces and the first letter in upper case.
func (t *Text) VariableLabel(v string) string {
	k := strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(v))
	for _, f := range t.fields {
		for _, n := range f.names {
			if n == k {
				return f.label
			}
		}
	}
	v = strings.ReplaceAll(v, "_", " ")
	v = strings.TrimSpace(v)
	if v != "" && v[0] >= 'a' && v[0] <= 'z' {
		v = string(v[0]-'a'+'A') + v[1:]
	}
	return v
}

// field is a well-known variable meaning and its label.
type field struct {
	names []string // lower case, without "_" and "-"
	label string
}

var (
	namesEmail   = []string{"email", "mail", "emailaddress", "emailadresse", "mailadresse"}
	namesPhone   = []string{"phone", "telefon", "tel", "telephone", "phonenumber", "telefonnummer", "mobile", "mobil", "handy"}
	namesName    = []string{"name", "fullname", "vollername"}
	namesFirst   = []string{"firstname", "givenname", "vorname"}
	namesLast    = []string{"lastname", "familyname", "surname", "nachname"}
	namesDate    = []string{"date", "datum"}
	namesAppt    = []string{"appointment", "appointmentdate", "termin", "wunschtermin"}
	namesTime    = []string{"time", "uhrzeit", "zeit"}
	namesMessage = []string{"message", "nachricht", "note", "notiz", "anliegen", "concern"}
	namesCompany = []string{"company", "firma", "organisation", "organization"}
)

// Receipt is a consent receipt kept by the relay: evidence of a consent
// decision without personal data (docs/PROTOCOL.md §6).
type Receipt struct {
	FlowVersion uint32
	TextHash    [32]byte
	Accepted    bool
	Time        int64 // relay's commit time, Unix seconds
}

// SetReceipts records the relay's consent receipts of a conversation (the
// whole list, oldest first). It reports whether anything changed.
func (in *Inbox) SetReceipts(id ids.ConvID, rs []Receipt) bool {
	c := in.ensure(id)
	if slices.Equal(c.Receipts, rs) {
		return false
	}
	c.Receipts = slices.Clone(rs)
	return true
}

// ReceiptLine describes a consent receipt in one line: "28.11.2025 15:05 ·
// Einwilligung erteilt · Flow-Version 3 · Text 1a2b3c4d".
func (t *Text) ReceiptLine(r Receipt, loc *time.Location) string {
	d := t.ConsentDeclined
	if r.Accepted {
		d = t.ConsentAccepted
	}
	return t.FormatDateTime(time.Unix(r.Time, 0), loc) + " · " + d + " · " + t.FlowVersion + " " +
		strconv.FormatUint(uint64(r.FlowVersion), 10) + " · " + t.TextHash + " " + HashPrefix(r.TextHash)
}

// receiptsOf converts the receipts of a ConsentReceipts frame.
func receiptsOf(rs []protocol.ConsentReceipt) []Receipt {
	out := make([]Receipt, 0, len(rs))
	for _, r := range rs {
		t := int64(r.Time)
		if t < 0 {
			t = 0 // not a real time (the frame allows any u64)
		}
		out = append(out, Receipt{FlowVersion: r.FlowVersion, TextHash: r.TextHash,
			Accepted: r.Decision == protocol.ConsentAccepted, Time: t})
	}
	return out
}
