package session

import (
	"errors"
	"slices"

	"siegel/shared/content"
	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
)

// Errors of Erase and Correct.
var (
	// ErrBusy: too many signed requests are waiting for the relay.
	ErrBusy = errors.New("session: too many requests waiting")
	// ErrNotAnswer: a correction must carry a typed answer (not a choice) with a
	// variable, at a position ≥ 1.
	ErrNotAnswer = errors.New("session: only a typed answer can be corrected")
)

// MaxRequests is the largest number of signed requests waiting for the relay.
const MaxRequests = 16

// pendingReq is a signed request waiting to be sent or answered. A correction
// is sealed when it is sent (it takes the next own sequence number then).
type pendingReq struct {
	op       protocol.Operation
	conv     ids.ConvID
	corr     content.Correction // OpCorrect
	at       int64              // OpCorrect: the correction's time, Unix ms
	inFlight bool               // sent on the current connection, no reply yet
	seq      uint64             // OpCorrect: the seq of the last envelope sent (0: never sent)
}

// Counter returns the last request counter used (or restored): persist it
// (State.Counter) so that the next one is larger even when the clock is not.
func (s *Session) Counter() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counter
}

// Requests returns the number of signed requests waiting for the relay.
func (s *Session) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqQ)
}

// Erase asks the relay to erase a conversation with a signed request
// (docs/PROTOCOL.md §6.5): a visitor its own (conv is ignored), an agent any
// conversation of the site. The request goes out when the connection is
// ready, one request at a time; the answer is a DoneEvent, a
// RequestFailedEvent, or (when the conversation is already gone) an
// ErasedEvent. A request whose connection ends before the answer is sent
// again after the next Welcome.
func (s *Session) Erase(conv ids.ConvID) ([]Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Role == protocol.RoleVisitor {
		conv = s.conv
	}
	if err := s.canRequest(); err != nil {
		return nil, err
	}
	s.reqQ = append(s.reqQ, &pendingReq{op: protocol.OpErase, conv: conv})
	return s.transmitRequest(nil), nil
}

// Correct asks the relay to replace the visitor's own answer at position pos
// by the answer a (visitors only): a correction envelope (content type 0x06,
// the next own sequence number, time at in Unix ms) in a signed request. It
// is sealed and sent when the connection is ready and every queued own
// message has been acknowledged (the relay needs consecutive sequence
// numbers). The answer is a DoneEvent (then the relay delivers the correction
// and pushes Replaced) or a RequestFailedEvent.
func (s *Session) Correct(pos uint64, a content.Answer, at int64) ([]Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Role != protocol.RoleVisitor {
		return nil, ErrRole
	}
	c := content.Correction{Pos: pos, Answer: a}
	if pos == 0 || a.Kind == content.InputChoice || a.Variable == "" ||
		content.Check(content.TypeCorrection, content.EncodeCorrection(c)) != nil {
		return nil, ErrNotAnswer
	}
	if at < 0 {
		return nil, content.ErrMalformed
	}
	if err := s.canRequest(); err != nil {
		return nil, err
	}
	s.reqQ = append(s.reqQ, &pendingReq{op: protocol.OpCorrect, conv: s.conv, corr: c, at: at})
	return s.transmitRequest(nil), nil
}

func (s *Session) canRequest() error {
	switch {
	case s.phase == phaseStopped:
		return ErrStopped
	case len(s.reqQ) >= MaxRequests:
		return ErrBusy
	}
	return nil
}

// nextCounter returns max(now in Unix ms, last + 1) and records it.
func (s *Session) nextCounter() uint64 {
	n := uint64(max(s.now().UnixMilli(), 0))
	s.counter = max(n, s.counter+1)
	return s.counter
}

// transmitRequest sends the oldest waiting request when the connection is
// ready and no request is waiting for its answer.
func (s *Session) transmitRequest(evs []Event) []Event {
	if s.phase != phaseReady || len(s.reqQ) == 0 || s.reqQ[0].inFlight {
		return evs
	}
	p := s.reqQ[0]
	r := &protocol.Request{Op: p.op, Conv: p.conv}
	if p.op == protocol.OpCorrect {
		cs := s.convs[p.conv]
		if len(cs.outbox) > 0 {
			return evs // after the queued messages (the next Ack tries again)
		}
		m := envelope.Message{Site: s.cfg.Site, Conv: p.conv, Seq: cs.next,
			Type: envelope.ContentType(content.TypeCorrection), Time: p.at, Content: content.EncodeCorrection(p.corr)}
		raw, err := envelope.Seal(s.cfg.Rand, s.me, s.recipients(cs), m)
		if err != nil {
			s.reqQ = s.reqQ[1:]
			evs = append(evs, RequestFailedEvent{Op: p.op, Conv: p.conv, Err: ids.Wrap("seal", err)})
			return s.transmitRequest(evs)
		}
		p.seq = m.Seq
		cs.next++ // reserved: the relay appends the correction like a Send
		r.Body = protocol.CorrectionBody(p.corr.Pos, raw)
	}
	r.Counter = s.nextCounter()
	protocol.SignRequest(s.cfg.Site, s.nonce, r, s.me.Sign)
	if err := s.send(request{kind: reqRequest, conv: p.conv}, r); err != nil {
		return append(evs, ErrorEvent{Err: err}, StatusEvent{StatusOffline})
	}
	p.inFlight = true
	return evs
}

// resetRequests marks every request as not sent (the connection ended).
func (s *Session) resetRequests() {
	for _, p := range s.reqQ {
		p.inFlight = false
	}
}

// settleRequests runs after a visitor's Welcome: a correction whose envelope
// the relay has committed (acked seq covers it) was carried out although its
// answer was lost with the connection.
func (s *Session) settleRequests(evs []Event, acked uint64) []Event {
	if len(s.reqQ) == 0 {
		return evs
	}
	p := s.reqQ[0]
	if p.op == protocol.OpCorrect && p.seq != 0 && acked >= p.seq {
		s.reqQ = s.reqQ[1:]
		evs = append(evs, DoneEvent{Op: p.op, Conv: p.conv, Pos: p.corr.Pos})
	}
	return evs
}

// onDone handles the relay's confirmation of the request in flight.
func (s *Session) onDone(reqID uint32, d *protocol.Done) []Event {
	r, ok := s.reqs[reqID]
	if s.phase != phaseReady || !ok || r.kind != reqRequest || r.conv != d.Conv {
		return s.drop(ErrProtocol)
	}
	delete(s.reqs, reqID)
	if len(s.reqQ) == 0 || !s.reqQ[0].inFlight || s.reqQ[0].op != d.Op || s.reqQ[0].conv != d.Conv {
		return nil // already answered by an Erased push
	}
	p := s.reqQ[0]
	s.reqQ = s.reqQ[1:]
	ev := DoneEvent{Op: p.op, Conv: p.conv}
	if p.op == protocol.OpCorrect {
		ev.Pos = p.corr.Pos
		if cs := s.convs[p.conv]; cs != nil {
			cs.acked = max(cs.acked, p.seq)
		}
	}
	if p.op == protocol.OpErase {
		if s.cfg.Role == protocol.RoleVisitor {
			// Nothing of the conversation remains: never send again.
			return s.stop(ev)
		}
		s.forget(p.conv)
	}
	return s.transmitRequest([]Event{ev})
}

// onRequestError handles an Error answer to the request in flight.
func (s *Session) onRequestError(f *protocol.Error) []Event {
	if len(s.reqQ) == 0 || !s.reqQ[0].inFlight {
		return []Event{ErrorEvent{Code: f.Code, Reason: f.Reason}}
	}
	p := s.reqQ[0]
	s.reqQ = s.reqQ[1:]
	if p.op == protocol.OpCorrect {
		// Give the reserved sequence number back unless something was queued after it.
		if cs := s.convs[p.conv]; cs != nil && cs.next == p.seq+1 && len(cs.outbox) == 0 {
			cs.next = p.seq
		}
	}
	evs := []Event{RequestFailedEvent{Op: p.op, Conv: p.conv, Code: f.Code, Reason: f.Reason}}
	if f.Code == protocol.CodeGone {
		return s.erased(evs, p.conv)
	}
	return s.transmitRequest(evs)
}

// erased handles the news that conv no longer exists at the relay: a visitor
// stops for good, an agent forgets the conversation.
func (s *Session) erased(evs []Event, conv ids.ConvID) []Event {
	evs = append(evs, ErasedEvent{Conv: conv})
	if s.cfg.Role == protocol.RoleVisitor {
		if conv != s.conv {
			return evs
		}
		s.reqQ = nil
		return append(evs, s.halt()...)
	}
	s.forget(conv)
	return s.transmitRequest(evs)
}

// onErased handles the relay's push that a conversation was erased.
func (s *Session) onErased(e *protocol.Erased) []Event {
	if s.phase != phaseReady {
		return s.drop(ErrProtocol)
	}
	if s.cfg.Role == protocol.RoleVisitor && e.Conv != s.conv {
		return s.drop(ErrProtocol)
	}
	// A request in flight for it is answered by the erasure.
	s.reqQ = slices.DeleteFunc(s.reqQ, func(p *pendingReq) bool { return p.conv == e.Conv })
	return s.erased(nil, e.Conv)
}

// onReplaced handles the relay's push that an envelope was replaced by a
// correction.
func (s *Session) onReplaced(r *protocol.Replaced) []Event {
	if s.phase != phaseReady || (s.cfg.Role == protocol.RoleVisitor && r.Conv != s.conv) {
		return s.drop(ErrProtocol)
	}
	if cs := s.convs[r.Conv]; cs != nil {
		cs.pos.add(r.OldPos) // never delivered again: replays skip it
	}
	return []Event{ReplacedEvent{Conv: r.Conv, Old: r.OldPos, New: r.NewPos}}
}

// forget drops what the session holds of conv (agents, after an erasure):
// its cursor, sender tracking, the visitor's box key and queued replies.
func (s *Session) forget(conv ids.ConvID) {
	if s.cfg.Role == protocol.RoleAgent {
		delete(s.convs, conv)
		s.reqQ = slices.DeleteFunc(s.reqQ, func(p *pendingReq) bool { return p.conv == conv && !p.inFlight })
	}
}

// Forget drops what the session holds of conv (agents): call it when the page
// purges a conversation. It does nothing for visitors.
func (s *Session) Forget(conv ids.ConvID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forget(conv)
}
