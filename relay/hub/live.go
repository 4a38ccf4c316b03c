package hub

import (
	"context"
	"errors"

	"siegel/relay/store"
	"siegel/shared/ids"
	"siegel/shared/protocol"
)

// Live chat (docs/PROTOCOL.md §6.7): typing indicators, the conversation
// state (waiting for a person, live with an agent, closed) and presence.

// stateFrame is the ConvState frame of a stored conversation.
func stateFrame(c store.Conversation) *protocol.ConvStateFrame {
	f := &protocol.ConvStateFrame{Conv: c.ID, State: protocol.ConvState(c.State)}
	if c.State == store.StateLive {
		f.Agent = c.Agent
	}
	return f
}

// typing forwards a Typing frame, never stored: a visitor's to the site's
// agents, an agent's to the conversation's visitors and the other agents.
func (ss *session) typing(req uint32, f *protocol.Typing) {
	if ss.role == protocol.RoleVisitor && f.Conv != ss.conv {
		ss.fail(req, protocol.CodeForbidden, "typing in another conversation")
		return
	}
	frame := protocol.Encode(0, &protocol.TypingPush{Conv: f.Conv, Key: ss.key, On: f.On})
	ss.srv.Hub.publishState(ss.site, f.Conv, frame, ss.cl, ss.role == protocol.RoleVisitor)
}

// wantPerson marks the visitor's own conversation as waiting for a person
// (from bot or closed; waiting and live stay as they are) and answers with
// the conversation's state.
func (ss *session) wantPerson(ctx context.Context, req uint32, f *protocol.WantPerson) {
	if ss.role != protocol.RoleVisitor {
		ss.fail(req, protocol.CodeForbidden, "visitors only")
		return
	}
	if f.Conv != ss.conv {
		ss.fail(req, protocol.CodeForbidden, "want person for another conversation")
		return
	}
	c, err := ss.srv.Store.Conversation(ss.site, f.Conv)
	if err != nil {
		ss.stateFailed(req, f.Conv, err)
		return
	}
	if c.State == store.StateBot || c.State == store.StateClosed {
		ss.setState(ctx, req, f.Conv, store.StateWaiting, ids.Key{})
		return
	}
	ss.cl.send(protocol.Encode(req, stateFrame(c)))
}

// takeover makes the agent the one holding the conversation (also when
// another agent holds it: a hand-over, visible to all agents).
func (ss *session) takeover(ctx context.Context, req uint32, f *protocol.Takeover) {
	if ss.role != protocol.RoleAgent {
		ss.fail(req, protocol.CodeForbidden, "agents only")
		return
	}
	if !ss.stillInRoster(req) {
		return
	}
	ss.setState(ctx, req, f.Conv, store.StateLive, ss.key)
}

// closeConv ends the conversation (agents).
func (ss *session) closeConv(ctx context.Context, req uint32, f *protocol.Close) {
	if ss.role != protocol.RoleAgent {
		ss.fail(req, protocol.CodeForbidden, "agents only")
		return
	}
	if !ss.stillInRoster(req) {
		return
	}
	ss.setState(ctx, req, f.Conv, store.StateClosed, ids.Key{})
}

// setState stores the state, answers with it and, when it changed, pushes it
// to the site's agents and the conversation's visitors.
func (ss *session) setState(ctx context.Context, req uint32, conv ids.ConvID, st store.ConvState, agent ids.Key) {
	changed, err := ss.srv.Store.SetConvState(ctx, ss.site, conv, st, agent)
	if err != nil {
		ss.stateFailed(req, conv, err)
		return
	}
	f := &protocol.ConvStateFrame{Conv: conv, State: protocol.ConvState(st), Agent: agent}
	ss.cl.send(protocol.Encode(req, f))
	if changed {
		ss.srv.Hub.publishState(ss.site, conv, protocol.Encode(0, f), ss.cl, false)
		ss.srv.Log.Info("conversation state", "state", protocol.ConvState(st).String())
	}
}

func (ss *session) stateFailed(req uint32, conv ids.ConvID, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		ss.notFound(req, conv, "no such conversation")
	case errors.Is(err, store.ErrGone):
		ss.fail(req, protocol.CodeGone, "conversation was erased")
	default:
		ss.internal(req, "conversation state", err)
	}
}
