package session

import (
	"slices"

	"siegel/shared/protocol"
)

// MaxConsents is the largest number of consent receipts waiting to be sent.
const MaxConsents = 16

// Consent is a consent receipt for the relay (docs/PROTOCOL.md §6): it says
// that the visitor decided on a consent text, without any personal data.
type Consent struct {
	FlowVersion uint32   // the flow revision that showed the consent text
	TextHash    [32]byte // SHA-256 of the exact consent text shown (UTF-8)
	Accepted    bool
}

func (c *Consent) valid() bool { return c.FlowVersion != 0 }

// SendConsent queues a consent receipt for the relay (visitors). Receipts go
// out one at a time, in order, after the Welcome of a connection; each stays
// queued (and in State) until the relay has confirmed it, so a reload or a
// dropped connection sends it again (the relay does not store a receipt equal
// to the conversation's last one twice).
func (s *Session) SendConsent(c Consent) ([]Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.cfg.Role != protocol.RoleVisitor:
		return nil, ErrRole
	case s.phase == phaseStopped:
		return nil, ErrStopped
	case !c.valid():
		return nil, ErrConfig
	case len(s.consents) >= MaxConsents:
		return nil, ErrOutboxFull
	}
	s.consents = append(s.consents, c)
	return s.transmitConsent(nil), nil
}

// Consents returns the receipts waiting to be confirmed (visitors).
func (s *Session) Consents() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.consents)
}

// transmitConsent sends the oldest waiting receipt when the connection is
// ready and no receipt is waiting for its reply.
func (s *Session) transmitConsent(evs []Event) []Event {
	if s.phase != phaseReady || s.consentPending || len(s.consents) == 0 {
		return evs
	}
	c := s.consents[0]
	d := protocol.ConsentDeclined
	if c.Accepted {
		d = protocol.ConsentAccepted
	}
	f := &protocol.Consent{Conv: s.conv, FlowVersion: c.FlowVersion, TextHash: c.TextHash, Decision: d}
	if err := s.send(request{kind: reqConsent, conv: s.conv}, f); err != nil {
		return append(evs, ErrorEvent{Err: err}, StatusEvent{StatusOffline})
	}
	s.consentPending = true
	return evs
}

// onConsentReceipts handles the relay's list of a conversation's receipts:
// the reply to the visitor's Consent, or a push to agents.
func (s *Session) onConsentReceipts(reqID uint32, f *protocol.ConsentReceipts) []Event {
	if s.phase != phaseReady || (s.cfg.Role == protocol.RoleVisitor && f.Conv != s.conv) {
		return s.drop(ErrProtocol)
	}
	evs := []Event{ConsentReceiptsEvent{Conv: f.Conv, Receipts: slices.Clone(f.Receipts)}}
	if r, ok := s.reqs[reqID]; ok && reqID != 0 && r.kind == reqConsent {
		delete(s.reqs, reqID)
		s.consentDone()
		evs = s.transmitConsent(evs)
	}
	return evs
}

// consentDone removes the receipt the relay has answered.
func (s *Session) consentDone() {
	if s.consentPending && len(s.consents) > 0 {
		s.consents = slices.Delete(s.consents, 0, 1)
	}
	s.consentPending = false
}
