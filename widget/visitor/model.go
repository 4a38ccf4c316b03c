package visitor

import (
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"siegel/shared/content"
	"siegel/shared/protocol"
	"siegel/widget/flowengine"
	"siegel/widget/i18n"
	"siegel/widget/session"
)

// MaxChars is the longest message the composer accepts, in characters.
const MaxChars = 2000

// Errors of PrepareText.
var (
	ErrEmpty   = errors.New("visitor: empty message")
	ErrTooLong = errors.New("visitor: message too long")
)

// PrepareText trims surrounding white space and checks the length.
func PrepareText(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", ErrEmpty
	case utf8.RuneCountInString(s) > MaxChars:
		return s, ErrTooLong
	}
	return s, nil
}

// Backoff returns the delay before reconnect attempt n (0, 1, 2, …): 0.5 s
// doubling up to 15 s, spread by ±20 % with jitter (a uniform random number) and
// kept within 0.5 s … 15 s.
func Backoff(n int, jitter uint32) time.Duration {
	const lo, hi = 500 * time.Millisecond, 15 * time.Second
	d := hi
	if n < 5 {
		d = min(lo<<n, hi)
	}
	d = d - d/5 + time.Duration(uint64(d/5)*uint64(jitter)>>31) // d/5 ≤ 3e9: no overflow
	return min(max(d, lo), hi)
}

// From says who wrote a message in the chat.
type From uint8

const (
	FromBot From = iota
	FromVisitor
	FromAgent
)

// String returns the data-from value: "bot", "visitor" or "agent".
func (f From) String() string {
	switch f {
	case FromVisitor:
		return "visitor"
	case FromAgent:
		return "agent"
	}
	return "bot"
}

// State is the delivery state of an own message.
type State uint8

const (
	StateNone State = iota // not an own message
	StatePending
	StateSent
	StateDelivered
	StateFailed
)

// String returns the data-state value ("" for StateNone).
func (s State) String() string {
	switch s {
	case StatePending:
		return "pending"
	case StateSent:
		return "sent"
	case StateDelivered:
		return "delivered"
	case StateFailed:
		return "failed"
	}
	return ""
}

// Message is one message of the chat as shown.
type Message struct {
	ID    int // stable for the life of the page; the greeting is 0
	From  From
	Name  string // who wrote it, as shown
	Text  string
	State State
	Seq   uint64 // own messages: sequence number
	Pos   uint64 // position in the conversation; 0 while unknown
	// Corrected: an answer the visitor corrected (Text is the new value).
	Corrected bool
	order     uint64 // arrival order, for messages without a position
}

// StateText returns the visible text for the message's state ("" for none).
func (m *Message) stateText(s *i18n.Strings) string {
	switch m.State {
	case StatePending:
		return s.StatePending
	case StateSent:
		return s.StateSent
	case StateDelivered:
		return s.StateDelivered
	case StateFailed:
		return s.StateFailed
	}
	return ""
}

// Changes tells the view what to update after Apply.
type Changes struct {
	Messages []*Message // added or updated messages, in display order
	Status   bool       // the status line changed
	Alert    bool       // the alert changed
	Unread   bool       // the unread count changed
	Live     bool       // presence, the live-chat notice or the composer's label changed
	Typing   bool       // the typing indicator appeared, changed its name or went away
}

func (c *Changes) add(m *Message) {
	if !slices.Contains(c.Messages, m) {
		c.Messages = append(c.Messages, m)
	}
}

// Model is the visitor chat's view-model: it turns session events into messages
// with states, a status line, an alert and an unread count.
type Model struct {
	s         *i18n.Strings
	msgs      []*Message
	own       map[uint64]*Message // own messages by seq (not failed ones)
	nextID    int
	nextOrder uint64
	delivered uint64

	status    session.Status
	connected bool // reached Ready at least once
	tried     bool // a connection was attempted
	failures  int  // connection attempts in a row that did not reach Ready
	readyNow  bool // Ready since the last Offline

	alert       string
	alertSticky bool

	hidden bool
	unread int

	entries map[int]*Message // transcript entries shown from local state, by index
	local   bool             // bot-only conversation, nothing sent

	lv    live // presence, conversation state, typing (live.go)
	clock func() time.Time
}

// NewModel returns a model showing the bot's local greeting (a site without a
// bot flow).
func NewModel(s *i18n.Strings) *Model {
	m := &Model{s: s, own: map[uint64]*Message{}, entries: map[int]*Message{}}
	m.msgs = []*Message{{ID: 0, From: FromBot, Name: s.BotName, Text: s.Greeting}}
	m.nextID = 1
	return m
}

// NewBotModel returns an empty model for a site with a bot flow (the flow
// greets the visitor itself).
func NewBotModel(s *i18n.Strings) *Model {
	return &Model{s: s, own: map[uint64]*Message{}, entries: map[int]*Message{}, nextID: 1}
}

// EntryText is the text shown for a transcript entry: the text itself, or
// for a consent decision the decision in words.
func EntryText(s *i18n.Strings, en *flowengine.Entry) string {
	if en.Consent != nil {
		if en.Consent.Accepted {
			return s.ConsentAccepted
		}
		return s.ConsentDeclined
	}
	return en.Text
}

// AddEntry shows transcript entry i, kept in the browser so far, after
// everything shown before. Showing an entry twice returns the first message.
func (m *Model) AddEntry(c *Changes, i int, en *flowengine.Entry) *Message {
	if msg := m.entries[i]; msg != nil {
		return msg
	}
	from, name := FromBot, m.s.BotName
	if en.Who == flowengine.Visitor {
		from, name = FromVisitor, m.s.VisitorName
	}
	msg := m.newMessage(from, name, EntryText(m.s, en))
	m.entries[i] = msg
	m.place(msg)
	c.add(msg)
	return msg
}

// Link records that transcript entry i was sealed as the own message seq, so
// that the session's events for seq update its message instead of adding one.
func (m *Model) Link(i int, seq uint64) {
	if msg := m.entries[i]; msg != nil {
		msg.Seq = seq
		m.own[seq] = msg
	}
}

// SetStrings replaces the texts (the bot's language decides them).
func (m *Model) SetStrings(s *i18n.Strings) { m.s = s }

// Strings returns the texts the model uses.
func (m *Model) Strings() *i18n.Strings { return m.s }

// Messages returns the messages in display order (do not modify).
func (m *Model) Messages() []*Message { return m.msgs }

// After returns the message shown right after msg, or nil when msg is the last.
func (m *Model) After(msg *Message) *Message {
	i := slices.Index(m.msgs, msg)
	if i < 0 || i+1 >= len(m.msgs) {
		return nil
	}
	return m.msgs[i+1]
}

// StateText returns the visible text of a message's state.
func (m *Model) StateText(msg *Message) string { return msg.stateText(m.s) }

// Status returns the status line.
func (m *Model) Status() string {
	switch m.status {
	case session.StatusConnecting:
		if m.connected {
			return m.s.StatusReconnecting
		}
		return m.s.StatusConnecting
	case session.StatusReady:
		return m.s.StatusConnected
	case session.StatusStopped:
		return m.s.StatusStopped
	}
	if m.tried {
		return m.s.StatusReconnecting
	}
	if m.local {
		return m.s.StatusLocal
	}
	return m.s.StatusIdle
}

// SetLocal records whether the conversation is with the bot alone, so far kept
// in the browser (shown in the status line); it reports whether the status
// line changed.
func (m *Model) SetLocal(local bool) bool {
	before := m.Status()
	m.local = local
	return m.Status() != before
}

// Alert returns the alert text ("" for none).
func (m *Model) Alert() string { return m.alert }

// Unread returns the number of agent messages that arrived while hidden.
func (m *Model) Unread() int { return m.unread }

// Hidden reports whether the chat is hidden.
func (m *Model) Hidden() bool { return m.hidden }

// SetHidden records whether the chat is hidden; showing it resets the unread
// count. It reports whether the count changed.
func (m *Model) SetHidden(hidden bool) bool {
	m.hidden = hidden
	if !hidden && m.unread != 0 {
		m.unread = 0
		return true
	}
	return false
}

// SetAlert shows text in the alert area. A sticky alert (the chat cannot work)
// is not replaced by a later non-sticky one. It reports whether the alert changed.
func (m *Model) SetAlert(text string, sticky bool) bool {
	if m.alertSticky && !sticky || m.alert == text {
		return false
	}
	m.alert, m.alertSticky = text, sticky
	return true
}

// ClearAlert removes a non-sticky alert; it reports whether the alert changed.
func (m *Model) ClearAlert() bool {
	if m.alertSticky || m.alert == "" {
		return false
	}
	m.alert = ""
	return true
}

func key(msg *Message) (int, uint64) {
	switch {
	case msg.ID == 0:
		return 0, 0
	case msg.Pos > 0:
		return 1, msg.Pos
	}
	return 2, msg.order
}

func less(a, b *Message) bool {
	ka, na := key(a)
	kb, nb := key(b)
	return ka < kb || ka == kb && na < nb
}

// place puts msg at its place in display order (inserting or moving it).
func (m *Model) place(msg *Message) {
	if i := slices.Index(m.msgs, msg); i >= 0 {
		m.msgs = append(m.msgs[:i], m.msgs[i+1:]...)
	}
	i := len(m.msgs)
	for i > 0 && less(msg, m.msgs[i-1]) {
		i--
	}
	m.msgs = append(m.msgs, nil)
	copy(m.msgs[i+1:], m.msgs[i:])
	m.msgs[i] = msg
}

func (m *Model) newMessage(from From, name, text string) *Message {
	msg := &Message{ID: m.nextID, From: from, Name: name, Text: text, order: m.nextOrder}
	m.nextID++
	m.nextOrder++
	return msg
}

func (m *Model) hasPos(pos uint64) bool {
	for _, x := range m.msgs {
		if x.Pos == pos {
			return true
		}
	}
	return false
}

func (m *Model) sentState(msg *Message) {
	msg.State = StateSent
	if msg.Pos > 0 && msg.Pos <= m.delivered {
		msg.State = StateDelivered
	}
}

// Apply updates the model with session events and reports what changed.
func (m *Model) Apply(evs []session.Event) Changes {
	var c Changes
	before := m.liveView()
	for _, ev := range evs {
		m.apply(&c, ev)
	}
	m.order(&c)
	c.Live = m.liveView() != before
	return c
}

// order sorts the changed messages into display order.
func (m *Model) order(c *Changes) {
	if len(c.Messages) > 1 {
		changed := map[*Message]bool{}
		for _, msg := range c.Messages {
			changed[msg] = true
		}
		c.Messages = c.Messages[:0]
		for _, msg := range m.msgs {
			if changed[msg] {
				c.Messages = append(c.Messages, msg)
			}
		}
	}
}

// AddNote shows a message of the bot that is not part of the transcript (it
// is never sent), after everything shown before.
func (m *Model) AddNote(c *Changes, text string) *Message {
	msg := m.newMessage(FromBot, m.s.BotName, text)
	m.place(msg)
	c.add(msg)
	return msg
}

func (m *Model) apply(c *Changes, ev session.Event) {
	if m.applyLive(c, ev) {
		return
	}
	switch ev := ev.(type) {
	case session.MessageEvent:
		m.message(c, ev)
	case session.AckEvent:
		if msg := m.own[ev.Seq]; msg != nil {
			if ev.Pos > 0 && msg.Pos == 0 && !m.hasPos(ev.Pos) {
				msg.Pos = ev.Pos
				m.place(msg)
			}
			if msg.From == FromVisitor {
				m.sentState(msg)
			}
			c.add(msg)
		}
	case session.ReceiptEvent:
		m.delivered = max(m.delivered, ev.Pos)
		for _, msg := range m.msgs {
			if msg.State == StateSent && msg.Pos > 0 && msg.Pos <= m.delivered {
				msg.State = StateDelivered
				c.add(msg)
			}
		}
	case session.SendFailedEvent:
		if msg := m.own[ev.Seq]; msg != nil {
			msg.State = StateFailed
			delete(m.own, ev.Seq)
			c.add(msg)
		}
		text := m.s.AlertSendFailed
		if ev.Code == protocol.CodeLimit {
			text = m.s.AlertLimit
		}
		c.Alert = m.SetAlert(text, false) || c.Alert
	case session.SeqChangedEvent:
		if msg := m.own[ev.Old]; msg != nil {
			delete(m.own, ev.Old)
			msg.Seq = ev.New
			m.own[ev.New] = msg
		}
	case session.StatusEvent:
		m.statusEvent(c, ev.Status)
	case session.RosterErrorEvent:
		c.Alert = m.SetAlert(m.s.AlertRoster, true) || c.Alert
	case session.ErrorEvent:
		var text string
		sticky := ev.Fatal
		switch {
		case ev.Fatal && ev.Code == protocol.CodeUnknownSite:
			text = m.s.AlertUnknownSite
		case ev.Fatal:
			text = m.s.AlertProblem
		case ev.Code == protocol.CodeRateLimited:
			text = m.s.AlertRateLimited
		case ev.Code == protocol.CodeLimit:
			text = m.s.AlertLimit
		}
		if text != "" {
			c.Alert = m.SetAlert(text, sticky) || c.Alert
		}
	}
}

func (m *Model) message(c *Changes, ev session.MessageEvent) {
	if ev.Pos > 0 && m.hasPos(ev.Pos) {
		return
	}
	if ev.Own && ev.Type == content.TypeCorrection {
		m.correction(c, ev)
		return
	}
	if ev.Own {
		from, text, ok := m.ownContent(ev)
		if !ok {
			return
		}
		msg := m.own[ev.Seq]
		// A different text under the same seq was written elsewhere with the same
		// key (another tab); show it as a message of its own.
		if msg == nil || msg.Text != text || msg.From != from || (msg.Pos > 0 && ev.Pos > 0 && msg.Pos != ev.Pos) {
			name := m.s.VisitorName
			if from == FromBot {
				name = m.s.BotName
			}
			msg = m.newMessage(from, name, text)
			if m.own[ev.Seq] == nil || ev.Pending {
				m.own[ev.Seq] = msg
			}
		}
		if !ev.Pending {
			msg.Pos = ev.Pos
		}
		if from == FromVisitor {
			if ev.Pending {
				msg.State = StatePending
			} else {
				m.sentState(msg)
			}
		}
		m.place(msg)
		c.add(msg)
		return
	}
	if ev.From != session.FromAgent {
		return
	}
	name := ev.Agent.Name
	if name == "" {
		name = m.s.AgentFallback
	}
	if ev.Sender == m.lv.typist && !ev.Seen {
		c.Typing = m.stopTyping() || c.Typing
	}
	msg := m.newMessage(FromAgent, name, ev.Text)
	msg.Pos = ev.Pos
	m.place(msg)
	c.add(msg)
	if m.hidden && !ev.Seen {
		m.unread++
		c.Unread = true
	}
}

// ownContent says how an own message is shown: who it is from and its text;
// ok is false for messages not shown (a handoff request, or content that does
// not decode).
func (m *Model) ownContent(ev session.MessageEvent) (from From, text string, ok bool) {
	switch ev.Type {
	case content.TypeText, 0:
		return FromVisitor, ev.Text, true
	case content.TypeBot:
		return FromBot, ev.Text, true
	case content.TypeAnswer:
		a, err := content.DecodeAnswer(ev.Content)
		return FromVisitor, a.Value, err == nil
	case content.TypeConsent:
		cs, err := content.DecodeConsent(ev.Content)
		text = m.s.ConsentDeclined
		if cs.Accepted {
			text = m.s.ConsentAccepted
		}
		return FromVisitor, text, err == nil
	case content.TypeHandoff:
		text, ok = m.ownHandoff(ev)
		return FromVisitor, text, ok
	}
	return 0, "", false
}

func (m *Model) statusEvent(c *Changes, st session.Status) {
	before := m.Status()
	switch st {
	case session.StatusConnecting:
		m.tried = true
	case session.StatusReady:
		m.connected, m.readyNow, m.failures = true, true, 0
		if m.alert == m.s.AlertOffline || m.alert == m.s.AlertRateLimited {
			c.Alert = m.ClearAlert() || c.Alert
		}
	case session.StatusStopped:
		m.lv.known = false
		c.Typing = m.stopTyping() || c.Typing
		// Nothing is sent any more: queued messages show as not sent (they stay
		// stored, and go out if a later page load connects).
		for _, msg := range m.msgs {
			if msg.State == StatePending {
				msg.State = StateFailed
				c.add(msg)
			}
		}
	case session.StatusOffline:
		m.lv.known = false
		c.Typing = m.stopTyping() || c.Typing
		if !m.readyNow && m.tried {
			m.failures++
		}
		m.readyNow = false
		if m.failures >= 3 {
			c.Alert = m.SetAlert(m.s.AlertOffline, false) || c.Alert
		}
	}
	m.status = st
	c.Status = m.Status() != before || c.Status
}

// correction shows the visitor's corrected answer in place of the original:
// the message at the original position takes the new value, or (after a
// reload, when the relay no longer has the original) a message placed where
// the original was.
func (m *Model) correction(c *Changes, ev session.MessageEvent) {
	cr, err := content.DecodeCorrection(ev.Content)
	if err != nil || ev.Pending || ev.Pos == 0 {
		return
	}
	for _, msg := range m.msgs {
		if msg.Pos == cr.Pos && msg.From == FromVisitor {
			msg.Text, msg.Corrected = cr.Answer.Value, true
			c.add(msg)
			return
		}
	}
	msg := m.newMessage(FromVisitor, m.s.VisitorName, cr.Answer.Value)
	msg.Pos, msg.Corrected = cr.Pos, true
	m.sentState(msg)
	m.place(msg)
	c.add(msg)
}

// correctEntry shows the corrected value of transcript entry i (corrected in
// this browser before it was sent).
func (m *Model) correctEntry(i int, value string) Changes {
	var c Changes
	if msg := m.entries[i]; msg != nil {
		msg.Text, msg.Corrected = value, true
		c.add(msg)
	}
	return c
}
