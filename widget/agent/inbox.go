package agent

import (
	"bytes"
	"slices"
	"sort"

	"siegel/shared/content"
	"siegel/shared/ids"
	"siegel/shared/protocol"
)

// From tells who wrote a message.
type From uint8

const (
	// FromVisitor marks a message by the conversation's visitor.
	FromVisitor From = 1
	// FromAgent marks a message by an agent of the roster (possibly this one).
	FromAgent From = 2
	// FromBot marks a text the bot showed the visitor (sealed by the
	// visitor's browser, which runs the bot).
	FromBot From = 3
)

// String is the value of the data-from attribute ("visitor", "agent" or
// "bot").
func (f From) String() string {
	switch f {
	case FromAgent:
		return "agent"
	case FromBot:
		return "bot"
	}
	return "visitor"
}

// Message is one entry of a transcript. A message with a position is stored
// at the relay; one without (Pos 0) is an own reply that is pending, was
// acknowledged before its position was known, or failed.
type Message struct {
	// ID identifies the entry for the lifetime of the page (a stable key for
	// the view); it is assigned by the Inbox and kept when a pending reply
	// gets its position.
	ID     uint64
	Pos    uint64 // position in the conversation; 0 while not placed
	Seq    uint64 // the sender's sequence number
	From   From
	Sender ids.Key // sender signing key
	Name   string  // agent name (agent messages only)
	Own    bool    // written with this agent page's key
	// Kind is what the entry is; Text holds the text (KindText, KindBot),
	// the answer's value (KindAnswer) or the handoff's note (KindHandoff).
	Kind Kind
	Text string
	// Answers: the flow variable ("" for a choice), whether it is personal
	// data, and the kind of input.
	Variable string
	Personal bool
	Input    content.InputKind
	// Consent holds the consent decision (KindConsent).
	Consent content.Consent
	// Reason is the handoff's reason (content.HandoffPerson or
	// content.HandoffMessage).
	Reason     uint8
	Time       int64 // sender's clock, Unix milliseconds
	Stored     int64 // relay commit time, Unix seconds (0 while not known)
	Pending    bool  // own reply not yet acknowledged by the relay
	Failed     bool  // own reply the relay refused; it will not be sent
	Unreadable bool  // the envelope at Pos could not be accepted or its content not read; Text is empty
	// Corrected: an answer the visitor corrected (a correction envelope,
	// content type 0x06); Original is the position of the answer it replaced,
	// which the page no longer holds.
	Corrected bool
	Original  uint64
}

// State is the send state shown for a message: "pending", "failed" or "sent".
func (m *Message) State() string {
	switch {
	case m.Failed:
		return "failed"
	case m.Pending:
		return "pending"
	}
	return "sent"
}

// Entry is what the relay's conversation list says about a conversation.
type Entry struct {
	ID           ids.ConvID
	LastPos      uint64
	Created      int64 // Unix seconds
	DeliveredPos uint64
}

// Conversation is the agent page's view of one conversation.
type Conversation struct {
	ID           ids.ConvID
	Created      int64  // Unix seconds (rounded by the relay)
	LastPos      uint64 // highest position known
	DeliveredPos uint64 // highest position an agent confirmed
	// Messages holds the placed messages sorted by position, then the
	// unplaced own replies in the order they were written.
	Messages []Message
	// Loaded is set once a fetch completed and nothing up to LastPos is missing.
	Loaded bool
	// Loading is set while a fetch is outstanding.
	Loading bool
	// Receipts are the relay's consent receipts, oldest first.
	Receipts []Receipt
	// Deleting is set while this page's request to erase it is outstanding.
	Deleting bool
	// State is the conversation's state from the relay (bot, waiting, live,
	// closed); Holder and HolderName name the agent who holds it while live.
	State      protocol.ConvState
	Holder     ids.Key
	HolderName string
	// Typers are the others typing in it now (the visitor, other agents).
	Typers []Typer

	stateKnown bool

	sentDelivered uint64
}

// Activity is the time of the last known activity in Unix seconds: the commit
// time of the newest stored message, or the creation time.
func (c *Conversation) Activity() int64 {
	a := c.Created
	for i := len(c.Messages) - 1; i >= 0; i-- {
		if s := c.Messages[i].Stored; s > a {
			a = s
		}
		if c.Messages[i].Pos != 0 {
			break
		}
	}
	return a
}

// LastStored is the commit time (Unix seconds) of the newest stored message
// the page knows, or 0 when it knows none (then only Created is known).
func (c *Conversation) LastStored() int64 {
	for i := len(c.Messages) - 1; i >= 0; i-- {
		if m := &c.Messages[i]; m.Pos != 0 && m.Stored != 0 {
			return m.Stored
		}
	}
	return 0
}

// Unread counts the positions after the delivered position that are not known
// to be agent messages: before the conversation is loaded this counts every
// stored envelope the page has not seen yet.
func (c *Conversation) Unread() int {
	if c.LastPos <= c.DeliveredPos {
		return 0
	}
	n := c.LastPos - c.DeliveredPos
	for i := range c.Messages {
		m := &c.Messages[i]
		if m.Pos > c.DeliveredPos && m.Pos <= c.LastPos && m.From == FromAgent {
			n--
		}
	}
	return int(n)
}

// MaxPos is the highest position among the placed messages.
func (c *Conversation) MaxPos() uint64 {
	for i := len(c.Messages) - 1; i >= 0; i-- {
		if c.Messages[i].Pos != 0 {
			return c.Messages[i].Pos
		}
	}
	return 0
}

// find returns the index of the placed message at pos and whether it exists;
// otherwise the index where it would be inserted.
func (c *Conversation) find(pos uint64) (int, bool) {
	i := sort.Search(len(c.Messages), func(i int) bool {
		p := c.Messages[i].Pos
		return p == 0 || p >= pos
	})
	return i, i < len(c.Messages) && c.Messages[i].Pos == pos
}

// unplaced returns the index of the own reply (sender, seq) without a
// position that has not failed, or -1.
func (c *Conversation) unplaced(sender ids.Key, seq uint64) int {
	for i := range c.Messages {
		m := &c.Messages[i]
		if m.Pos == 0 && !m.Failed && m.Seq == seq && m.Sender == sender {
			return i
		}
	}
	return -1
}

// drop removes the placed message at pos and its content; it reports whether
// there was one.
func (c *Conversation) drop(pos uint64) bool {
	i, ok := c.find(pos)
	if ok {
		c.Messages[i] = Message{}
		c.remove(i)
	}
	return ok
}

// Replaced drops the visitor's envelope at old, replaced by a correction
// (the relay's Replaced push); it reports whether the page held it.
func (in *Inbox) Replaced(id ids.ConvID, old uint64) bool {
	c := in.convs[id]
	return c != nil && c.drop(old)
}

func (c *Conversation) insert(i int, m Message) {
	c.Messages = slices.Insert(c.Messages, i, m)
}

func (c *Conversation) remove(i int) {
	c.Messages = slices.Delete(c.Messages, i, i+1)
}

// MaxList is the most entries the relay puts into one conversation list.
const MaxList = 1000

// Inbox is the view-model of all conversations of the site. It is not safe
// for concurrent use; the agent page drives it from one goroutine.
type Inbox struct {
	convs    map[ids.ConvID]*Conversation
	selected ids.ConvID
	hasSel   bool
	nextID   uint64
}

// Len is the number of conversations.
func (in *Inbox) Len() int { return len(in.convs) }

// Get returns the conversation or nil.
func (in *Inbox) Get(id ids.ConvID) *Conversation { return in.convs[id] }

func (in *Inbox) ensure(id ids.ConvID) *Conversation {
	if in.convs == nil {
		in.convs = make(map[ids.ConvID]*Conversation)
	}
	c := in.convs[id]
	if c == nil {
		c = &Conversation{ID: id}
		in.convs[id] = c
	}
	return c
}

func (in *Inbox) newID() uint64 {
	in.nextID++
	return in.nextID
}

// SetList merges the relay's conversation list. When the list is complete
// (shorter than MaxList), conversations missing from it are dropped with
// their plaintext: the relay no longer has them (they were deleted), even
// when one of them is open (the selection is then cleared).
func (in *Inbox) SetList(entries []Entry) {
	keep := make(map[ids.ConvID]bool, len(entries))
	for _, e := range entries {
		keep[e.ID] = true
		c := in.ensure(e.ID)
		c.Created = e.Created
		if e.LastPos > c.LastPos {
			c.LastPos = e.LastPos
		}
		if e.DeliveredPos > c.DeliveredPos {
			c.DeliveredPos = e.DeliveredPos
		}
		if c.Loaded && c.MaxPos() < c.LastPos {
			c.Loaded = false
		}
	}
	if len(entries) >= MaxList {
		return
	}
	for id := range in.convs {
		if !keep[id] {
			in.Remove(id)
		}
	}
}

// Remove forgets a conversation and its plaintext.
func (in *Inbox) Remove(id ids.ConvID) {
	if c := in.convs[id]; c != nil {
		clear(c.Messages) // the plaintext goes with them
		c.Receipts = nil
		delete(in.convs, id)
	}
	if in.hasSel && in.selected == id {
		in.Deselect()
	}
}

// Add records a stored message (Pos ≥ 1) delivered by the relay, creating the
// conversation when it is new. It takes the place of the own unplaced reply
// with the same sender and sequence number, replaces an unreadable
// placeholder at its position and otherwise ignores a position it already
// has. It reports whether the transcript changed.
func (in *Inbox) Add(id ids.ConvID, m Message) bool {
	if m.Pos == 0 {
		return false
	}
	c := in.ensure(id)
	m.Pending, m.Failed = false, false
	if m.Pos > c.LastPos {
		c.LastPos = m.Pos
	}
	if c.Created == 0 {
		c.Created = m.Stored
	}
	m.ID = 0
	if m.Corrected && m.Original != 0 && m.Original != m.Pos {
		c.drop(m.Original) // only the corrected value remains
	}
	if !m.Unreadable {
		if j := c.unplaced(m.Sender, m.Seq); j >= 0 {
			if m.Time == 0 {
				m.Time = c.Messages[j].Time
			}
			m.ID = c.Messages[j].ID
			c.remove(j)
		}
	}
	i, ok := c.find(m.Pos)
	if ok {
		old := &c.Messages[i]
		if old.Unreadable && !m.Unreadable {
			if m.ID == 0 {
				m.ID = old.ID
			}
			*old = m
			return true
		}
		if old.Stored == 0 && m.Stored != 0 {
			old.Stored = m.Stored
		}
		return m.ID != 0 // an unplaced copy was merged into it
	}
	if m.ID == 0 {
		m.ID = in.newID()
	}
	c.insert(i, m)
	return true
}

// AddPending records an own reply that was handed to the outbox. It is shown
// as pending until Acked, or until Add brings it with its position.
func (in *Inbox) AddPending(id ids.ConvID, m Message) {
	c := in.ensure(id)
	if c.unplaced(m.Sender, m.Seq) >= 0 {
		return
	}
	m.ID = in.newID()
	m.Pending, m.Failed, m.Unreadable = true, false, false
	m.Pos, m.Stored = 0, 0
	m.Own, m.From = true, FromAgent
	c.Messages = append(c.Messages, m)
}

// Acked marks the own reply (sender, seq) as committed by the relay at pos; pos
// 0 means committed earlier at a position not known yet (a later Add places
// it). stored is the receive time in Unix seconds (an Ack carries no time).
// It reports whether anything changed.
func (in *Inbox) Acked(id ids.ConvID, sender ids.Key, seq, pos uint64, stored int64) bool {
	c := in.convs[id]
	if c == nil {
		return false
	}
	j := c.unplaced(sender, seq)
	if j < 0 {
		return false
	}
	if pos == 0 {
		changed := c.Messages[j].Pending
		c.Messages[j].Pending = false
		return changed
	}
	m := c.Messages[j]
	c.remove(j)
	m.Pending, m.Pos, m.Stored = false, pos, stored
	if pos > c.LastPos {
		c.LastPos = pos
	}
	if i, ok := c.find(pos); !ok {
		c.insert(i, m)
	}
	return true
}

// Renumber follows the outbox when it gave the unplaced reply (sender, old)
// the sequence number new.
func (in *Inbox) Renumber(id ids.ConvID, sender ids.Key, old, new uint64) bool {
	c := in.convs[id]
	if c == nil {
		return false
	}
	j := c.unplaced(sender, old)
	if j < 0 {
		return false
	}
	c.Messages[j].Seq = new
	return true
}

// Failed marks the unplaced reply (sender, seq) as refused for good and
// returns its text.
func (in *Inbox) Failed(id ids.ConvID, sender ids.Key, seq uint64) (string, bool) {
	c := in.convs[id]
	if c == nil {
		return "", false
	}
	j := c.unplaced(sender, seq)
	if j < 0 {
		return "", false
	}
	m := &c.Messages[j]
	m.Failed, m.Pending = true, false
	return m.Text, true
}

// Receipt records that an agent confirmed the conversation up to pos.
func (in *Inbox) Receipt(id ids.ConvID, pos uint64) bool {
	c := in.convs[id]
	if c == nil || pos <= c.DeliveredPos {
		return false
	}
	c.DeliveredPos = pos
	return true
}

// Select opens a conversation; false when it does not exist.
func (in *Inbox) Select(id ids.ConvID) bool {
	if in.convs[id] == nil {
		return false
	}
	in.selected, in.hasSel = id, true
	return true
}

// Deselect closes the open conversation (back to the list).
func (in *Inbox) Deselect() { in.hasSel = false; in.selected = ids.ConvID{} }

// Selected returns the open conversation.
func (in *Inbox) Selected() (*Conversation, bool) {
	if !in.hasSel {
		return nil, false
	}
	c := in.convs[in.selected]
	return c, c != nil
}

// Fetched records the end of a fetch of a conversation whose positions up to
// lastPos have all been delivered; complete tells whether every one of them
// was received.
func (in *Inbox) Fetched(id ids.ConvID, lastPos uint64, complete bool) {
	c := in.convs[id]
	if c == nil {
		return
	}
	c.Loading = false
	if lastPos > c.LastPos {
		c.LastPos = lastPos
	}
	c.Loaded = complete
}

// DeliveredDue returns the position to confirm with a Delivered frame for the
// open conversation, when it is loaded and displayed (visible) and holds a
// stored message beyond what the relay knows as delivered and beyond what this
// page already confirmed. The caller sends the frame and calls MarkDelivered.
func (in *Inbox) DeliveredDue(visible bool) (ids.ConvID, uint64, bool) {
	c, ok := in.Selected()
	if !ok || !visible || !c.Loaded {
		return ids.ConvID{}, 0, false
	}
	p := c.MaxPos()
	if p == 0 || p <= c.DeliveredPos || p <= c.sentDelivered {
		return ids.ConvID{}, 0, false
	}
	return c.ID, p, true
}

// MarkDelivered notes that a Delivered frame for pos was sent.
func (in *Inbox) MarkDelivered(id ids.ConvID, pos uint64) {
	if c := in.convs[id]; c != nil && pos > c.sentDelivered {
		c.sentDelivered = pos
		if pos > c.DeliveredPos {
			c.DeliveredPos = pos
		}
	}
}

// Reconnected forgets outstanding fetches and sent confirmations, which died
// with the old connection.
func (in *Inbox) Reconnected() {
	for _, c := range in.convs {
		c.Loading = false
		c.sentDelivered = 0
	}
}

// Sorted returns the conversations, most recently active first (ties by ID).
func (in *Inbox) Sorted() []*Conversation {
	out := make([]*Conversation, 0, len(in.convs))
	for _, c := range in.convs {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *Conversation) int {
		if aa, ab := a.Activity(), b.Activity(); aa != ab {
			if aa > ab {
				return -1
			}
			return 1
		}
		return bytes.Compare(a.ID[:], b.ID[:])
	})
	return out
}

// TotalUnread sums the unread counts of all conversations.
func (in *Inbox) TotalUnread() int {
	n := 0
	for _, c := range in.convs {
		n += c.Unread()
	}
	return n
}

// Clear forgets everything (on lock).
func (in *Inbox) Clear() {
	for id := range in.convs {
		in.Remove(id)
	}
	in.convs = nil
}
