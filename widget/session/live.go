package session

import (
	"errors"

	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/shared/roster"
)

// ErrRemoved is carried by the RosterErrorEvent of an agent whose key is not in
// a roster pushed by the relay (RosterUpdate): the agent was removed, and the
// session has stopped.
var ErrRemoved = errors.New("session: this agent is no longer in the roster")

// ConvState is the state of a conversation (docs/PROTOCOL.md §6.7).
type ConvState = protocol.ConvState

// Conversation states.
const (
	StateBot     = protocol.StateBot     // nobody asked for a person
	StateWaiting = protocol.StateWaiting // the visitor asked for a person
	StateLive    = protocol.StateLive    // an agent took it over
	StateClosed  = protocol.StateClosed  // an agent closed it
)

// Typing tells the relay that this client started (on) or stopped typing in
// conv; the relay forwards it to the other side and never stores it. A
// visitor may only name its own conversation (ErrRole otherwise). Callers send
// on at most every 3 s while typing and off when the user stops or sends.
// Without a ready connection it returns ErrNotReady and sends nothing (typing
// is never queued).
func (s *Session) Typing(conv ids.ConvID, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.cfg.Role == protocol.RoleVisitor && conv != s.conv:
		return ErrRole
	case s.phase == phaseStopped:
		return ErrStopped
	case s.phase != phaseReady || s.t == nil:
		return ErrNotReady
	}
	// Not registered as a request: the relay answers only when it refuses
	// (an ErrorEvent).
	if err := s.t.Send(protocol.Encode(s.nextReq(), &protocol.Typing{Conv: conv, On: on})); err != nil {
		s.hangUp()
		return ids.Wrap("send", err)
	}
	return nil
}

// WantPerson asks for a person in the visitor's conversation (visitors): the
// relay marks it waiting (or reopens it from closed) and tells the site's
// agents. Call it together with the handoff envelope (SendContent). It works
// offline too: the request waits and is sent after the next Welcome, after the
// outbox. The relay's answer is a ConvStateEvent.
func (s *Session) WantPerson() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.cfg.Role != protocol.RoleVisitor:
		return ErrRole
	case s.phase == phaseStopped:
		return ErrStopped
	}
	s.wantPerson = true
	s.wantSent = false
	s.transmitWantPerson(nil)
	return nil
}

// transmitWantPerson sends a waiting WantPerson when the connection is ready.
func (s *Session) transmitWantPerson(evs []Event) []Event {
	if !s.wantPerson || s.wantSent || s.phase != phaseReady {
		return evs
	}
	if err := s.send(request{kind: reqWantPerson, conv: s.conv}, &protocol.WantPerson{Conv: s.conv}); err != nil {
		return append(evs, ErrorEvent{Err: err}, StatusEvent{StatusOffline})
	}
	s.wantSent = true
	return evs
}

// Takeover makes this agent the one who holds conv (agents); a conversation
// another agent holds is handed over. The relay answers with a ConvStateEvent
// (state live, this agent) pushed to every agent of the site and the visitor.
func (s *Session) Takeover(conv ids.ConvID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.agentReady(); err != nil {
		return err
	}
	return s.send(request{kind: reqTakeover, conv: conv}, &protocol.Takeover{Conv: conv})
}

// Close ends conv (agents). The relay answers with a ConvStateEvent (state
// closed) pushed to every agent of the site and the visitor. A later
// WantPerson of the visitor reopens it as waiting.
func (s *Session) Close(conv ids.ConvID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.agentReady(); err != nil {
		return err
	}
	return s.send(request{kind: reqClose, conv: conv}, &protocol.Close{Conv: conv})
}

func (s *Session) onTypingPush(f *protocol.TypingPush) []Event {
	if s.phase != phaseReady || (s.cfg.Role == protocol.RoleVisitor && f.Conv != s.conv) {
		return s.drop(ErrProtocol)
	}
	ev := TypingEvent{Conv: f.Conv, Key: f.Key, On: f.On}
	switch {
	case f.Key == s.me.SignKey():
		return nil // this key typing in another tab
	case s.cfg.Role == protocol.RoleAgent && ids.ConversationID(s.cfg.Site, f.Key) == f.Conv:
		ev.From = FromVisitor
	default:
		a, ok := s.roster.AgentBySign(f.Key)
		if !ok {
			return nil // not an agent of the verified roster: not shown
		}
		ev.From, ev.Agent = FromAgent, a
	}
	return []Event{ev}
}

func (s *Session) onConvState(reqID uint32, f *protocol.ConvStateFrame) []Event {
	if s.phase != phaseReady || (s.cfg.Role == protocol.RoleVisitor && f.Conv != s.conv) {
		return s.drop(ErrProtocol)
	}
	if reqID != 0 {
		if r, ok := s.reqs[reqID]; ok && r.kind == reqWantPerson {
			s.wantPerson, s.wantSent = false, false
		}
		delete(s.reqs, reqID)
	}
	ev := ConvStateEvent{Conv: f.Conv, State: f.State, AgentKey: f.Agent}
	if f.State == StateLive && s.roster != nil {
		ev.Agent, _ = s.roster.AgentBySign(f.Agent)
	}
	return []Event{ev}
}

func (s *Session) onPresence(f *protocol.Presence) []Event {
	if s.phase != phaseReady {
		return s.drop(ErrProtocol)
	}
	return []Event{PresenceEvent{Online: int(f.Online)}}
}

// onRosterUpdate verifies a pushed roster exactly like the Welcome's: a wrong
// signer, an expired roster or a lower version than seen stops the session.
func (s *Session) onRosterUpdate(f *protocol.RosterUpdate) []Event {
	if s.phase != phaseReady {
		return s.drop(ErrProtocol)
	}
	r, err := roster.Verify(f.Roster, s.cfg.Owner, s.cfg.Site, s.now(), s.rosterVer)
	if err != nil {
		return s.stop(RosterErrorEvent{Err: ids.Wrap("verify roster update", err)})
	}
	s.roster, s.rosterRaw, s.rosterVer = r, clone(f.Roster), max(s.rosterVer, r.Version)
	evs := []Event{RosterEvent{Roster: r}}
	if s.cfg.Role == protocol.RoleAgent {
		if _, ok := r.AgentBySign(s.me.SignKey()); !ok {
			return append(evs, s.stop(RosterErrorEvent{Err: ErrRemoved})...)
		}
	}
	return evs
}

// onWantPersonError handles the relay's refusal of a WantPerson: a transient
// one is retried after the next Welcome, any other drops the request.
func (s *Session) onWantPersonError(ev ErrorEvent) []Event {
	s.wantSent = false
	switch ev.Code {
	case protocol.CodeRateLimited, protocol.CodeInternal, protocol.CodeState:
		return append([]Event{ev}, s.hangUp()...)
	}
	s.wantPerson = false
	return []Event{ev}
}
