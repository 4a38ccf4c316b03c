package session

import (
	"siegel/shared/content"
	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/shared/roster"
)

// Event is something the UI should show. The concrete types are listed below.
type Event interface{ isEvent() }

// Status is the connection state shown to the user.
type Status uint8

const (
	// StatusOffline: no connection (never connected, or the connection dropped).
	StatusOffline Status = iota
	// StatusConnecting: a connection is open, the handshake is not finished.
	StatusConnecting
	// StatusReady: the Welcome's roster verified; envelopes flow.
	StatusReady
	// StatusStopped: the session has stopped for good (roster failure, unknown
	// site, refused hello). Nothing is sent any more.
	StatusStopped
)

// From says who wrote a message.
type From uint8

const (
	FromVisitor From = 1
	FromAgent   From = 2
)

// StatusEvent reports a change of the connection state.
type StatusEvent struct{ Status Status }

// MessageEvent is a message to show: opened from a Deliver, or queued locally
// (Pending, Pos 0) by Send/Reply or Queued.
type MessageEvent struct {
	Conv    ids.ConvID
	Pos     uint64 // position in the conversation; 0 while pending
	Stored  uint64 // relay commit time, Unix seconds (0 while pending)
	Seq     uint64 // sender's sequence number
	From    From
	Own     bool         // written with this session's identity
	Pending bool         // queued locally, not acknowledged by the relay
	Seen    bool         // at or before the last position of an earlier session (State.LastPos)
	Agent   roster.Agent // the roster entry when From == FromAgent
	Sender  ids.Key      // sender signing key
	Time    int64        // sender's clock, Unix milliseconds
	// Type is the content type (docs/PROTOCOL.md §3.3); Content its raw
	// bytes (decode with shared/content). Text is set for text and bot texts.
	Type    content.Type
	Content []byte
	Text    string
}

// AckEvent: the relay committed the own message Seq at Pos (Pos 0: committed
// earlier, position not known yet; the Deliver will tell).
type AckEvent struct {
	Conv     ids.ConvID
	Seq, Pos uint64
}

// ReceiptEvent: an agent confirmed every message up to Pos.
type ReceiptEvent struct {
	Conv ids.ConvID
	Pos  uint64
}

// RosterEvent: a roster verified (agent names for the UI).
type RosterEvent struct{ Roster *roster.Roster }

// RosterErrorEvent: the roster could not be verified; the session has stopped.
type RosterErrorEvent struct{ Err error }

// ErrorEvent: the relay sent an error frame, or the session hit a protocol error
// (Code 0, Err set). Fatal means the session has stopped.
type ErrorEvent struct {
	Code   protocol.ErrorCode
	Reason string
	Err    error
	Fatal  bool
}

// SendFailedEvent: the relay refused the own message Seq in a way retrying cannot
// fix; it was removed from the outbox. Text lets the UI offer to send it again.
type SendFailedEvent struct {
	Conv ids.ConvID
	Seq  uint64
	Code protocol.ErrorCode
	Text string
}

// SeqChangedEvent: a queued own message was renumbered from Old to New (after an
// earlier message of the outbox was refused or dropped).
type SeqChangedEvent struct {
	Conv     ids.ConvID
	Old, New uint64
}

// RejectedEvent: the envelope at Pos could not be accepted (does not open, a
// duplicate, or a sender that is neither the visitor nor a roster agent).
type RejectedEvent struct {
	Conv ids.ConvID
	Pos  uint64
	Err  error
}

// FetchedEvent: everything of Conv up to LastPos has been delivered (after a
// Welcome for visitors, after Fetch for agents).
type FetchedEvent struct {
	Conv    ids.ConvID
	LastPos uint64
}

// ConversationsEvent: the reply to List (agents).
type ConversationsEvent struct{ Entries []protocol.ConvInfo }

// ConsentReceiptsEvent: the relay's consent receipts of Conv, oldest first
// (all of them): the answer to the visitor's Consent, or pushed to agents.
type ConsentReceiptsEvent struct {
	Conv     ids.ConvID
	Receipts []protocol.ConsentReceipt
}

// ConsentFailedEvent: the relay refused a consent receipt in a way retrying
// cannot fix (for example the conversation holds the most receipts it may);
// it was removed from the queue.
type ConsentFailedEvent struct {
	Consent Consent
	Code    protocol.ErrorCode
}

// DoneEvent: the relay carried out a signed request (docs/PROTOCOL.md §6.5).
// For a correction Pos is the original position that was replaced. After a
// visitor's erase the session has stopped (a StatusEvent follows).
type DoneEvent struct {
	Op   protocol.Operation
	Conv ids.ConvID
	Pos  uint64
}

// RequestFailedEvent: the relay refused a signed request (Code, Reason), or it
// could not be prepared (Err). Nothing was changed. Code protocol.CodeGone
// means the conversation no longer exists (an ErasedEvent follows).
type RequestFailedEvent struct {
	Op     protocol.Operation
	Conv   ids.ConvID
	Code   protocol.ErrorCode
	Reason string
	Err    error
}

// ErasedEvent: the conversation was erased — by this client, on another
// device, by an agent or by the relay's retention. The caller drops every byte
// it holds of it. A visitor's session has stopped (a StatusEvent follows); an
// agent's session has forgotten the conversation.
type ErasedEvent struct{ Conv ids.ConvID }

// ReplacedEvent: the visitor's envelope at Old was replaced by the correction
// at New (docs/PROTOCOL.md §6.5); the caller drops what it holds of Old.
type ReplacedEvent struct {
	Conv     ids.ConvID
	Old, New uint64
}

func (DoneEvent) isEvent()            {}
func (RequestFailedEvent) isEvent()   {}
func (ErasedEvent) isEvent()          {}
func (ReplacedEvent) isEvent()        {}
func (ConsentReceiptsEvent) isEvent() {}
func (ConsentFailedEvent) isEvent()   {}
func (StatusEvent) isEvent()          {}
func (MessageEvent) isEvent()         {}
func (AckEvent) isEvent()             {}
func (ReceiptEvent) isEvent()         {}
func (RosterEvent) isEvent()          {}
func (RosterErrorEvent) isEvent()     {}
func (ErrorEvent) isEvent()           {}
func (SendFailedEvent) isEvent()      {}
func (SeqChangedEvent) isEvent()      {}
func (RejectedEvent) isEvent()        {}
func (FetchedEvent) isEvent()         {}
func (ConversationsEvent) isEvent()   {}

// TypingEvent: someone started (On) or stopped typing in Conv. Key is the
// typist's signing key; Agent is its roster entry when From is FromAgent.
// Typing of keys that are neither the conversation's visitor nor an agent of
// the verified roster is not reported. Drop the indicator after 6 s without a
// refresh.
type TypingEvent struct {
	Conv  ids.ConvID
	Key   ids.Key
	Agent roster.Agent
	From  From
	On    bool
}

// ConvStateEvent: the state of Conv changed (or, for agents, is reported after
// a List). AgentKey is the signing key of the agent holding it when State is
// StateLive (zero otherwise); Agent is that key's entry in the verified roster
// (zero value when it is not in it).
type ConvStateEvent struct {
	Conv     ids.ConvID
	State    ConvState
	Agent    roster.Agent
	AgentKey ids.Key
}

// PresenceEvent: the number of distinct agents of the site connected now
// (visitors). Zero means nobody is available: offer to leave a message.
type PresenceEvent struct{ Online int }

func (TypingEvent) isEvent()    {}
func (ConvStateEvent) isEvent() {}
func (PresenceEvent) isEvent()  {}
