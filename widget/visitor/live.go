package visitor

import (
	"time"

	"siegel/shared/content"
	"siegel/shared/ids"
	"siegel/widget/session"
)

// TypingInterval is the least time between two "typing" frames of the
// visitor; TypingTimeout is how long an agent's typing indicator stays without
// a refresh (docs/PROTOCOL.md §6.7).
const (
	TypingInterval = 3 * time.Second
	TypingTimeout  = 6 * time.Second
)

// Notice is the live-chat notice shown under the header.
type Notice uint8

const (
	NoticeNone   Notice = iota
	NoticeLeave         // the visitor asked for a person while nobody is reachable: leave a message
	NoticeJoined        // an agent took the conversation over
	NoticeClosed        // an agent ended the conversation
)

// live is the person side of the model: presence, the conversation's state
// and an agent's typing indicator.
type live struct {
	known, online bool              // presence, known only while connected
	conv          session.ConvState // as last reported by the relay
	agent         string            // name of the agent holding the conversation (live)
	asked         bool              // the visitor asked for a person (or left a message)
	left          bool              // a message was left (handoff reason 2)

	typist ids.Key   // the agent typing (zero: nobody)
	typing string    // their name
	until  time.Time // the indicator is dropped then
}

// Presence reports whether it is known (only while connected) whether a
// person is reachable, and if so whether one is.
func (m *Model) Presence() (known, online bool) { return m.lv.known, m.lv.online }

// Asked reports whether the visitor asked for a person in this conversation.
func (m *Model) Asked() bool { return m.lv.asked }

// ConvState returns the conversation's state as last reported by the relay
// (StateBot until a report arrives).
func (m *Model) ConvState() session.ConvState { return m.lv.conv }

// LeaveMode reports whether the composer's next text is left as a message
// (handoff reason 2): the visitor asked for a person, nobody is reachable,
// nobody holds the conversation and no message was left yet.
func (m *Model) LeaveMode() bool {
	return m.noticeKind() == NoticeLeave && !m.lv.left
}

func (m *Model) noticeKind() Notice {
	switch {
	case m.lv.conv == session.StateLive:
		return NoticeJoined
	case m.lv.conv == session.StateClosed:
		return NoticeClosed
	case m.lv.asked && m.lv.known && !m.lv.online:
		return NoticeLeave
	}
	return NoticeNone
}

// Notice returns the live-chat notice and its text.
func (m *Model) Notice() (Notice, string) {
	switch n := m.noticeKind(); n {
	case NoticeJoined:
		return n, m.s.AgentJoined(m.lv.agent)
	case NoticeClosed:
		return n, m.s.Closed
	case NoticeLeave:
		return n, m.s.LeaveMessage
	}
	return NoticeNone, ""
}

// Typing returns the typing indicator ("" for none).
func (m *Model) Typing() string {
	if m.lv.typing == "" {
		return ""
	}
	return m.s.Typing(m.lv.typing)
}

// TypingUntil returns when the typing indicator is dropped without a refresh
// (zero when none is shown).
func (m *Model) TypingUntil() time.Time { return m.lv.until }

// ExpireTyping drops the typing indicator if its time has passed at now; it
// reports whether the indicator changed.
func (m *Model) ExpireTyping(now time.Time) bool {
	if m.lv.typing == "" || now.Before(m.lv.until) {
		return false
	}
	m.stopTyping()
	return true
}

func (m *Model) stopTyping() bool {
	if m.lv.typing == "" {
		return false
	}
	m.lv.typist, m.lv.typing, m.lv.until = ids.Key{}, "", time.Time{}
	return true
}

// snapshot of what the view shows of the live state, to tell what changed.
type liveView struct {
	known, online bool
	notice        Notice
	text          string
	leave         bool
}

func (m *Model) liveView() liveView {
	n, text := m.Notice()
	return liveView{m.lv.known, m.lv.online, n, text, m.LeaveMode()}
}

func (m *Model) agentName(a string) string {
	if a == "" {
		return m.s.AgentFallback
	}
	return a
}

// applyLive handles the live-chat events; it reports whether ev was one.
func (m *Model) applyLive(c *Changes, ev session.Event) bool {
	switch ev := ev.(type) {
	case session.PresenceEvent:
		m.lv.known, m.lv.online = true, ev.Online > 0
	case session.ConvStateEvent:
		m.lv.conv = ev.State
		if ev.State != session.StateBot {
			m.lv.asked = true
		}
		if ev.State == session.StateLive {
			m.lv.agent = m.agentName(ev.Agent.Name)
		}
		if ev.State != session.StateLive && ev.State != session.StateWaiting {
			c.Typing = m.stopTyping() || c.Typing
		}
		if ev.State == session.StateClosed {
			m.lv.left = false // a new message re-opens it, as a message
		}
	case session.TypingEvent:
		if ev.From != session.FromAgent {
			return true
		}
		switch {
		case ev.On:
			name := m.agentName(ev.Agent.Name)
			if m.lv.typing != name || m.lv.typist != ev.Key {
				c.Typing = true // a new burst: announced once
			}
			m.lv.typist, m.lv.typing, m.lv.until = ev.Key, name, m.now().Add(TypingTimeout)
		case ev.Key == m.lv.typist:
			c.Typing = m.stopTyping() || c.Typing
		}
	default:
		return false
	}
	return true
}

// ownHandoff records an own handoff envelope: the visitor asked for a person
// or left a message (reason 2). The widget leaves the message as a text
// envelope after an empty-noted handoff; a note, if there is one, is shown as
// the visitor's text.
func (m *Model) ownHandoff(ev session.MessageEvent) (text string, ok bool) {
	h, err := content.DecodeHandoff(ev.Content)
	if err != nil {
		return "", false
	}
	m.lv.asked = true
	if h.Reason == content.HandoffMessage {
		m.lv.left = true
		return h.Note, h.Note != ""
	}
	return "", false
}

// now is the model's clock.
func (m *Model) now() time.Time {
	if m.clock != nil {
		return m.clock()
	}
	return time.Now()
}

// SetClock sets the model's clock (nil: time.Now).
func (m *Model) SetClock(now func() time.Time) { m.clock = now }
