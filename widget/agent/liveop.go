package agent

import (
	"errors"

	"siegel/shared/ids"
	"siegel/shared/roster"
)

// ErrNoLive is returned when the session cannot do a live-chat operation.
var ErrNoLive = errors.New("agent: live chat not available")

type liveOpKind uint8

const (
	opTakeover liveOpKind = iota + 1
	opClose
	opTyping
)

func (a *App) liveOp(op liveOpKind, id ids.ConvID, on bool) error {
	if a.sess == nil {
		return ErrNoLive
	}
	switch op {
	case opTakeover:
		return a.sess.Takeover(id)
	case opClose:
		return a.sess.Close(id)
	}
	return a.sess.Typing(id, on)
}

func (a *App) roster() *roster.Roster {
	if a.sess == nil {
		return nil
	}
	return a.sess.Roster()
}
