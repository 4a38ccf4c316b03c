package hub

import (
	"context"
	"errors"

	"siegel/relay/store"
	"siegel/shared/ids"
	"siegel/shared/protocol"
)

// request carries out a signed request (docs/PROTOCOL.md §6.5): a visitor
// erases or corrects its own conversation, an agent erases any conversation of
// the site. Every check that needs no storage comes first; the counter (replay)
// and the existence of the conversation are checked by the store in the same
// transaction as the action. A refused request changes nothing.
func (ss *session) request(ctx context.Context, req uint32, r *protocol.Request) {
	if !r.BodyHashValid() {
		ss.fail(req, protocol.CodeMalformed, "body hash does not match the body")
		return
	}
	if !protocol.VerifyRequest(ss.key, ss.site, ss.nonce, r) {
		ss.fail(req, protocol.CodeBadSignature, "bad request signature")
		return
	}
	if ss.role == protocol.RoleVisitor && r.Conv != ss.conv {
		ss.fail(req, protocol.CodeForbidden, "request for another conversation")
		return
	}
	auth := store.Authorization{Signer: ss.key, Counter: r.Counter}
	switch r.Op {
	case protocol.OpErase:
		ss.erase(ctx, req, r, auth)
	case protocol.OpCorrect:
		ss.correct(ctx, req, r, auth)
	default:
		ss.fail(req, protocol.CodeMalformed, "unknown operation")
	}
}

func (ss *session) erase(ctx context.Context, req uint32, r *protocol.Request, auth store.Authorization) {
	reason := store.EraseVisitor
	if ss.role == protocol.RoleAgent {
		// The agent was in the roster at hello; it must still be in the
		// roster stored now.
		if !ss.stillInRoster(req) {
			return
		}
		reason = store.EraseAgent
	}
	if err := ss.srv.Store.Erase(ctx, ss.site, r.Conv, reason, &auth); err != nil {
		ss.requestFailed(req, r.Conv, "erase", err)
		return
	}
	ss.cl.send(protocol.Encode(req, &protocol.Done{Op: protocol.OpErase, Conv: r.Conv}))
	ss.srv.Hub.erase(ss.site, r.Conv, protocol.Encode(0, &protocol.Erased{Conv: r.Conv}))
	ss.srv.Log.Info("conversation erased", "by", roleName(ss.role))
}

// stillInRoster re-reads the site's stored roster and reports whether the
// connection's agent key is in it and the roster is still valid; if not, it
// sends the error.
func (ss *session) stillInRoster(req uint32) bool {
	_, raw, err := ss.srv.Store.Roster(ss.site)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			ss.fail(req, protocol.CodeForbidden, "site has no roster")
			return false
		}
		ss.internal(req, "read roster", err)
		return false
	}
	r, err := ss.srv.rosters.parsed(ss.site, raw)
	if err != nil {
		ss.internal(req, "parse stored roster", err)
		return false
	}
	if why := agentRefusal(r, ss.key, ss.srv.now(), "key no longer in the roster"); why != "" {
		ss.fail(req, protocol.CodeForbidden, why)
		return false
	}
	return true
}

func (ss *session) correct(ctx context.Context, req uint32, r *protocol.Request, auth store.Authorization) {
	if ss.role != protocol.RoleVisitor {
		ss.fail(req, protocol.CodeForbidden, "visitors only")
		return
	}
	orig, raw, ok := r.Correction()
	if !ok {
		ss.fail(req, protocol.CodeMalformed, "malformed correction")
		return
	}
	env := ss.checkEnvelope(req, raw)
	if env == nil {
		return
	}
	res, err := ss.srv.Store.Correct(ctx, ss.site, r.Conv, orig, ss.key, env.Seq, raw, auth)
	if err != nil {
		ss.requestFailed(req, r.Conv, "correct", err)
		return
	}
	ss.cl.send(protocol.Encode(req, &protocol.Done{Op: protocol.OpCorrect, Conv: r.Conv}))
	if res.Duplicate {
		return
	}
	ss.srv.Hub.publish(ss.site, r.Conv, res.Pos,
		protocol.Encode(0, &protocol.Deliver{Conv: r.Conv, Pos: res.Pos, Stored: uint64(res.Stored), Envelope: raw}))
	ss.srv.Hub.publish(ss.site, r.Conv, 0,
		protocol.Encode(0, &protocol.Replaced{Conv: r.Conv, OldPos: orig, NewPos: res.Pos}))
}

// requestFailed maps a store error of a signed request to its error frame.
func (ss *session) requestFailed(req uint32, conv ids.ConvID, what string, err error) {
	switch {
	case errors.Is(err, store.ErrReplay):
		ss.fail(req, protocol.CodeReplay, "request counter not above the last one")
	case errors.Is(err, store.ErrGone):
		ss.fail(req, protocol.CodeGone, "conversation was erased")
	case errors.Is(err, store.ErrNotFound):
		ss.notFound(req, conv, "no such conversation or position")
	case errors.Is(err, store.ErrSequence):
		ss.fail(req, protocol.CodeSequence, "unexpected sequence number")
	case errors.Is(err, store.ErrLimit):
		ss.fail(req, protocol.CodeLimit, "conversation is full")
	case errors.Is(err, store.ErrInvalid):
		// A correction of a position that is not the visitor's own envelope
		// (another sender's, replaced already, or none).
		ss.fail(req, protocol.CodeForbidden, "cannot "+what+" this position")
	default:
		ss.internal(req, what, err)
	}
}

func roleName(r protocol.Role) string {
	if r == protocol.RoleAgent {
		return "agent"
	}
	return "visitor"
}
