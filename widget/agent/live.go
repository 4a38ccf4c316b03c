package agent

import (
	"slices"
	"strings"
	"time"

	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/shared/roster"
)

// TypingEvery is the least time between two "typing" signals of this page
// for one conversation (docs/PROTOCOL.md §6.7).
const TypingEvery = 3 * time.Second

// TypingTTL is how long a typing indicator of someone else is shown without
// a refresh.
const TypingTTL = 6 * time.Second

// Group is a section of the conversation list.
type Group uint8

const (
	// GroupWaiting: the visitor asked for a person.
	GroupWaiting Group = iota
	// GroupLive: an agent took the conversation over.
	GroupLive
	// GroupBot: nobody asked for a person yet.
	GroupBot
	// GroupClosed: an agent ended the conversation.
	GroupClosed
)

// Groups is the order of the sections in the list.
var Groups = [...]Group{GroupWaiting, GroupLive, GroupBot, GroupClosed}

// String is the group's name in data attributes and test IDs ("waiting",
// "live", "bot", "closed").
func (g Group) String() string {
	switch g {
	case GroupWaiting:
		return "waiting"
	case GroupLive:
		return "live"
	case GroupClosed:
		return "closed"
	}
	return "bot"
}

// GroupOf is the list section of a conversation state.
func GroupOf(s protocol.ConvState) Group {
	switch s {
	case protocol.StateWaiting:
		return GroupWaiting
	case protocol.StateLive:
		return GroupLive
	case protocol.StateClosed:
		return GroupClosed
	}
	return GroupBot
}

// GroupTitle is the heading of a list section.
func (t *Text) GroupTitle(g Group) string {
	switch g {
	case GroupWaiting:
		return t.GroupWaiting
	case GroupLive:
		return t.GroupLive
	case GroupClosed:
		return t.GroupClosed
	}
	return t.GroupBot
}

// Typer is someone typing in a conversation.
type Typer struct {
	Key     ids.Key
	Visitor bool
	Name    string // the agent's name (agents only)
	Until   time.Time
}

// Grouped returns the conversations of one list section, most recently
// active first.
func (in *Inbox) Grouped(g Group) []*Conversation {
	var out []*Conversation
	for _, c := range in.Sorted() {
		if GroupOf(c.State) == g {
			out = append(out, c)
		}
	}
	return out
}

// CountState is the number of conversations in state s.
func (in *Inbox) CountState(s protocol.ConvState) int {
	n := 0
	for _, c := range in.convs {
		if c.State == s {
			n++
		}
	}
	return n
}

// SetState records a conversation's state and, when live, who holds it. It
// reports whether the conversation became waiting now (it was not before).
func (in *Inbox) SetState(id ids.ConvID, s protocol.ConvState, holder ids.Key, name string) (becameWaiting bool) {
	c := in.ensure(id)
	becameWaiting = s == protocol.StateWaiting && (c.State != protocol.StateWaiting || !c.stateKnown)
	c.State, c.stateKnown = s, true
	if s == protocol.StateLive {
		c.Holder, c.HolderName = holder, name
	} else {
		c.Holder, c.HolderName = ids.Key{}, ""
	}
	return becameWaiting
}

// SetTyping records that key started (until is when the indicator expires)
// or stopped typing in a conversation. It reports whether anything changed.
func (in *Inbox) SetTyping(id ids.ConvID, ty Typer, on bool) bool {
	c := in.convs[id]
	if c == nil {
		return false
	}
	i := slices.IndexFunc(c.Typers, func(x Typer) bool { return x.Key == ty.Key })
	switch {
	case on && i >= 0:
		c.Typers[i] = ty
	case on:
		c.Typers = append(c.Typers, ty)
	case i >= 0:
		c.Typers = slices.Delete(c.Typers, i, i+1)
	default:
		return false
	}
	return true
}

// ExpireTyping drops the typing indicators older than now; it returns the
// earliest expiry left (zero when none is left).
func (in *Inbox) ExpireTyping(now time.Time) (next time.Time) {
	for _, c := range in.convs {
		c.Typers = slices.DeleteFunc(c.Typers, func(x Typer) bool { return !x.Until.After(now) })
		for _, x := range c.Typers {
			if next.IsZero() || x.Until.Before(next) {
				next = x.Until
			}
		}
	}
	return next
}

// RenameAgents updates the names of the agents holding conversations and
// typing in them from a new roster.
func (in *Inbox) RenameAgents(r *roster.Roster) {
	for _, c := range in.convs {
		if c.State == protocol.StateLive {
			if ag, ok := r.AgentBySign(c.Holder); ok {
				c.HolderName = ag.Name
			}
		}
		for i := range c.Typers {
			if ag, ok := r.AgentBySign(c.Typers[i].Key); ok && !c.Typers[i].Visitor {
				c.Typers[i].Name = ag.Name
			}
		}
	}
}

// TypingText is the typing indicator of a conversation ("Besucher tippt …",
// "Bert tippt …"), or "" when nobody types.
func (t *Text) TypingText(c *Conversation) string {
	var parts []string
	for _, x := range c.Typers {
		if x.Visitor {
			parts = append([]string{t.VisitorTyping}, parts...)
		} else {
			name := x.Name
			if name == "" {
				name = t.UnknownAgent
			}
			parts = append(parts, name+" "+t.AgentTyping)
		}
	}
	return strings.Join(parts, "; ")
}

// VisitorTyping reports whether the visitor of c is typing.
func (c *Conversation) VisitorTyping() bool {
	return slices.ContainsFunc(c.Typers, func(x Typer) bool { return x.Visitor })
}

// ---- the App's side ----

// Removed reports that this agent was removed from the site's team: the
// relay closed the connection or refused it because the key is no longer in
// the roster. Nothing is retried.
func (a *App) Removed() bool { return a.removed }

// NotInRoster reports that the relay refused the key because it is not in
// the site's roster (yet): the site owner has to add it.
func (a *App) NotInRoster() bool { return a.notInRoster }

// Me is this agent's signing key (after unlocking).
func (a *App) Me() ids.Key { return a.me }

// HolderText is who holds a live conversation, for the list and the
// conversation's head ("von Bert", "von Ihnen"), or "" when nobody does.
func (a *App) HolderText(c *Conversation) string {
	if c == nil || c.State != protocol.StateLive {
		return ""
	}
	if c.Holder == a.me {
		return a.text.ByYou
	}
	name := c.HolderName
	if name == "" {
		name = a.text.UnknownAgent
	}
	return a.text.By + " " + name
}

// TakenByText is the line shown to the other agents in a conversation
// someone else took over ("übernommen von Bert"), or "".
func (a *App) TakenByText(c *Conversation) string {
	if c == nil || c.State != protocol.StateLive || c.Holder == a.me {
		return ""
	}
	name := c.HolderName
	if name == "" {
		name = a.text.UnknownAgent
	}
	return a.text.TakenBy + " " + name
}

// CanTakeover reports whether the open conversation c can be taken over by
// this agent: it is not live with this agent already.
func (a *App) CanTakeover(c *Conversation) bool {
	return c != nil && a.live() && !(c.State == protocol.StateLive && c.Holder == a.me)
}

// CanClose reports whether c can be ended (it is not closed yet).
func (a *App) CanClose(c *Conversation) bool {
	return c != nil && a.live() && c.State != protocol.StateClosed
}

func (a *App) live() bool {
	return a.phase == PhaseReady && a.sess != nil && !a.removed
}

// WaitingCount is the number of conversations waiting for a person (the
// title badge).
func (a *App) WaitingCount() int {
	if a.phase != PhaseReady {
		return 0
	}
	return a.inbox.CountState(protocol.StateWaiting)
}

// PageTitle is the document title: "(2) Siegel – Posteingang" while two
// conversations wait for a person; otherwise the unread count as before.
func (a *App) PageTitle() string {
	n := a.WaitingCount()
	if n == 0 && a.phase == PhaseReady {
		n = a.inbox.TotalUnread()
	}
	if n > 0 {
		return "(" + itoa(n) + ") " + a.text.Title
	}
	return a.text.Title
}

// Takeover makes this agent the one who holds a conversation.
func (a *App) Takeover(id ids.ConvID) bool {
	defer a.p.Changed()
	c := a.inbox.Get(id)
	if !a.CanTakeover(c) {
		return false
	}
	if err := a.liveOp(opTakeover, id, false); err != nil {
		a.err = a.text.TakeoverFailed
		return false
	}
	a.err = ""
	return true
}

// CloseConv ends a conversation (after the user confirmed).
func (a *App) CloseConv(id ids.ConvID) bool {
	defer a.p.Changed()
	c := a.inbox.Get(id)
	if !a.CanClose(c) {
		return false
	}
	a.stopTyping()
	if err := a.liveOp(opClose, id, false); err != nil {
		a.err = a.text.CloseFailed
		return false
	}
	a.err = ""
	return true
}

// ReplyInput tells the App what the reply box of the open conversation holds
// now (on every input): it signals typing at most every TypingEvery while
// there is text, and stopping when the box became empty.
func (a *App) ReplyInput(text string) {
	c, ok := a.inbox.Selected()
	if !ok || !a.live() || a.conn != ConnOnline {
		return
	}
	if strings.TrimSpace(text) == "" {
		a.stopTyping()
		return
	}
	now := a.p.Now()
	if a.typing.on && a.typing.conv == c.ID && now.Sub(a.typing.at) < TypingEvery {
		return
	}
	if a.typing.on && a.typing.conv != c.ID {
		a.stopTyping()
	}
	if a.liveOp(opTyping, c.ID, true) == nil {
		a.typing.on, a.typing.conv, a.typing.at = true, c.ID, now
	}
}

// ReplyBlur tells the App that the reply box lost the focus.
func (a *App) ReplyBlur() { a.stopTyping() }

func (a *App) stopTyping() {
	if !a.typing.on {
		return
	}
	a.typing.on = false
	if a.live() && a.conn == ConnOnline {
		a.liveOp(opTyping, a.typing.conv, false)
	}
}

// onConvState records a conversation's state from the relay.
func (a *App) onConvState(id ids.ConvID, s protocol.ConvState, holder ids.Key, name string) {
	if s == protocol.StateLive && name == "" {
		if r := a.roster(); r != nil {
			if ag, ok := r.AgentBySign(holder); ok {
				name = ag.Name
			}
		}
	}
	if a.inbox.SetState(id, s, holder, name) {
		a.p.Notify(a.text.NotifyTitle, a.text.NotifyBody+" ("+a.text.Conversation+" "+ShortID(id)+")", id.String())
	}
}

// onTyping records someone's typing indicator: the visitor's, or another
// agent's (name from the roster).
func (a *App) onTyping(id ids.ConvID, key ids.Key, visitor bool, name string, on bool) {
	if key == a.me {
		return
	}
	ty := Typer{Key: key, Visitor: visitor, Name: name, Until: a.p.Now().Add(TypingTTL)}
	if a.inbox.SetTyping(id, ty, on) {
		a.scheduleTypingExpiry()
	}
}

func (a *App) scheduleTypingExpiry() {
	next := a.inbox.ExpireTyping(a.p.Now())
	if a.typingStop != nil {
		a.typingStop()
		a.typingStop = nil
	}
	if next.IsZero() {
		return
	}
	gen := a.gen
	a.typingStop = a.p.After(next.Sub(a.p.Now()), func() {
		a.typingStop = nil
		if gen == a.gen {
			a.scheduleTypingExpiry()
			a.p.Changed()
		}
	})
}

// onRoster takes a verified roster: names are updated; a roster without
// this agent's key means the agent was removed.
func (a *App) onRoster(r *roster.Roster) {
	if r == nil {
		return
	}
	ag, ok := r.AgentBySign(a.me)
	if !ok {
		a.remove()
		return
	}
	a.name = ag.Name
	a.inRoster = true
	a.inbox.RenameAgents(r)
}

// remove stops for good: the agent is no longer in the team.
func (a *App) remove() {
	if a.removed {
		return
	}
	a.removed = true
	a.typing.on = false
	a.stopTimers()
	a.conn = ConnStopped
	if c := a.cur; c != nil {
		a.cur = nil
		c.t.Close()
	}
	a.err = "" // the page shows RemovedText instead
}

// RemovedText is the message shown once the agent was removed ("" before).
func (a *App) RemovedText() string {
	if a.removed {
		return a.text.Removed
	}
	return ""
}

// refusedNotAgent handles the relay's refusal of this key (Forbidden at
// the handshake, or a close with policy violation): removed when the key
// was accepted before in this page, otherwise not in the roster yet.
func (a *App) refusedNotAgent() {
	if a.inRoster {
		a.remove()
		return
	}
	a.notInRoster = true
	a.err = a.text.NotInRoster
}
