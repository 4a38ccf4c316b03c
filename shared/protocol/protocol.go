// Package protocol encodes and decodes the WebSocket frames between clients
// (widget, agent page) and the relay (docs/PROTOCOL.md §6).
//
// Every frame has exactly one encoding. Decode is strict: it rejects trailing
// bytes, short bodies, empty envelopes and rosters, unsorted conversation lists
// and error reasons that are not printable ASCII.
package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"

	"siegel/shared/ids"
	"siegel/shared/sha2"
	"siegel/shared/sig"
)

// Version is the protocol version byte that starts every frame.
const Version = 1

// MaxFrameSize is the largest frame (WebSocket message) in bytes.
const MaxFrameSize = 98304

// MaxConversations is the largest number of entries in a Conversations frame.
const MaxConversations = 1000

// MaxReason is the longest reason of an Error frame, in bytes.
const MaxReason = 255

// MaxConsentReceipts is the largest number of receipts in a ConsentReceipts
// frame (the relay keeps at most this many per conversation).
const MaxConsentReceipts = 16

// Consent decisions of Consent and ConsentReceipt.
const (
	ConsentAccepted uint8 = 1
	ConsentDeclined uint8 = 2
)

// HeaderSize is the size of the frame header: version, type, request ID.
const HeaderSize = 6

// HelloDomain is the domain-separation string of the hello signature.
const HelloDomain = "siegel/hello/v1"

// RequestDomain is the domain-separation string of the signature of a Request.
const RequestDomain = "siegel/request/v1"

var (
	// ErrMalformed is returned for a frame that is not the exact encoding of a frame.
	ErrMalformed = errors.New("malformed frame")
	// ErrUnsupportedVersion is returned for a frame with another protocol version.
	ErrUnsupportedVersion = errors.New("unsupported protocol version")
)

// Type is the frame type byte.
type Type uint8

// Frame types (docs/PROTOCOL.md §6).
const (
	TypeChallenge       Type = 0x01
	TypeHello           Type = 0x02
	TypeWelcome         Type = 0x03
	TypeSend            Type = 0x04
	TypeAck             Type = 0x05
	TypeDeliver         Type = 0x06
	TypeList            Type = 0x07
	TypeConversations   Type = 0x08
	TypeFetch           Type = 0x09
	TypeFetched         Type = 0x0A
	TypeDelivered       Type = 0x0B
	TypeReceipt         Type = 0x0C
	TypeError           Type = 0x0D
	TypeConsent         Type = 0x0E
	TypeConsentReceipts Type = 0x0F
	TypeRequest         Type = 0x20
	TypeDone            Type = 0x21
	TypeErased          Type = 0x22
	TypeReplaced        Type = 0x23
	TypeTyping          Type = 0x30
	TypeTypingPush      Type = 0x31
	TypeWantPerson      Type = 0x32
	TypeTakeover        Type = 0x33
	TypeClose           Type = 0x34
	TypeConvState       Type = 0x35
	TypePresence        Type = 0x36
	TypeRosterUpdate    Type = 0x37
)

var typeNames = [...]string{
	TypeChallenge:       "challenge",
	TypeHello:           "hello",
	TypeWelcome:         "welcome",
	TypeSend:            "send",
	TypeAck:             "ack",
	TypeDeliver:         "deliver",
	TypeList:            "list",
	TypeConversations:   "conversations",
	TypeFetch:           "fetch",
	TypeFetched:         "fetched",
	TypeDelivered:       "delivered",
	TypeReceipt:         "receipt",
	TypeError:           "error",
	TypeConsent:         "consent",
	TypeConsentReceipts: "consent-receipts",
	TypeRequest:         "request",
	TypeDone:            "done",
	TypeErased:          "erased",
	TypeReplaced:        "replaced",
	TypeTyping:          "typing",
	TypeTypingPush:      "typing-push",
	TypeWantPerson:      "want-person",
	TypeTakeover:        "takeover",
	TypeClose:           "close",
	TypeConvState:       "conv-state",
	TypePresence:        "presence",
	TypeRosterUpdate:    "roster-update",
}

// String returns the short lower-case name of the frame type.
func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "type " + strconv.Itoa(int(t))
}

// Role is the role a client claims in its Hello.
type Role uint8

// Roles.
const (
	RoleVisitor Role = 1
	RoleAgent   Role = 2
)

// ErrorCode is the code of an Error frame (docs/PROTOCOL.md §6.3).
type ErrorCode uint16

// Error codes.
const (
	CodeMalformed          ErrorCode = 1
	CodeUnsupportedVersion ErrorCode = 2
	CodeBadSignature       ErrorCode = 3
	CodeUnknownSite        ErrorCode = 4
	CodeForbidden          ErrorCode = 5
	CodeNotFound           ErrorCode = 6
	CodeSequence           ErrorCode = 7
	CodeTooLarge           ErrorCode = 8
	CodeRateLimited        ErrorCode = 9
	CodeInternal           ErrorCode = 10
	CodeState              ErrorCode = 11
	CodeLimit              ErrorCode = 12
	CodeReplay             ErrorCode = 13 // a request counter not above the last one (§6.5)
	CodeGone               ErrorCode = 14 // the conversation was erased (§6.5)
)

var codeNames = [...]string{
	CodeMalformed:          "malformed",
	CodeUnsupportedVersion: "unsupported version",
	CodeBadSignature:       "bad signature",
	CodeUnknownSite:        "unknown site",
	CodeForbidden:          "forbidden",
	CodeNotFound:           "not found",
	CodeSequence:           "sequence",
	CodeTooLarge:           "too large",
	CodeRateLimited:        "rate limited",
	CodeInternal:           "internal",
	CodeState:              "state",
	CodeLimit:              "limit",
	CodeReplay:             "replay",
	CodeGone:               "gone",
}

// String returns the short name of the code as in docs/PROTOCOL.md §6.3, or
// "code N" for a code outside the table.
func (c ErrorCode) String() string {
	if int(c) < len(codeNames) && codeNames[c] != "" {
		return codeNames[c]
	}
	return "code " + strconv.Itoa(int(c))
}

// Frame is one of the frame types of this package. Decode returns pointers
// (*Challenge, *Hello, ...); Encode accepts the same pointer types.
type Frame interface{ Type() Type }

// Challenge is sent by the relay on connect.
type Challenge struct{ Nonce [32]byte }

// Hello authenticates a client. Sig covers HelloSigned(challenge nonce, h).
type Hello struct {
	Role    Role
	Site    ids.SiteID
	SignKey ids.Key
	BoxKey  ids.Key
	Since   uint64
	Sig     [64]byte
}

// Welcome answers a Hello. Conv is zero for agents. Roster is the site's
// current signed roster (never empty).
type Welcome struct {
	Conv         ids.ConvID
	AckedSeq     uint64
	DeliveredPos uint64
	Roster       []byte
}

// Send carries an envelope from the client to the relay.
type Send struct{ Envelope []byte }

// Ack confirms that the envelope with Seq was committed at position Pos.
type Ack struct {
	Conv ids.ConvID
	Seq  uint64
	Pos  uint64
}

// Deliver carries a stored envelope to a client. Stored is the commit time in
// Unix seconds, rounded down to the minute.
type Deliver struct {
	Conv     ids.ConvID
	Pos      uint64
	Stored   uint64
	Envelope []byte
}

// List asks for the site's conversations (agents only).
type List struct{}

// ConvInfo is one entry of a Conversations frame.
type ConvInfo struct {
	Conv         ids.ConvID
	LastPos      uint64
	Created      uint64
	DeliveredPos uint64
}

// Conversations answers a List: at most MaxConversations entries, sorted
// strictly ascending by conversation ID.
type Conversations struct{ Entries []ConvInfo }

// Fetch asks for the envelopes of a conversation after position Since (agents only).
type Fetch struct {
	Conv  ids.ConvID
	Since uint64
}

// Fetched ends the Deliver frames that answer a Fetch (or a Hello).
type Fetched struct {
	Conv    ids.ConvID
	LastPos uint64
}

// Delivered confirms that an agent has received everything up to Pos (agents only).
type Delivered struct {
	Conv ids.ConvID
	Pos  uint64
}

// Receipt tells subscribers that an agent confirmed the conversation up to Pos.
type Receipt struct {
	Conv ids.ConvID
	Pos  uint64
}

// Error reports a refused or failed request. Reason is printable ASCII, at
// most MaxReason bytes, and never contains content or personal data.
type Error struct {
	Code   ErrorCode
	Reason string
}

// Consent asks the relay to record a consent receipt (visitors only, for their
// own conversation): which flow version showed the consent, the SHA-256 of the
// exact text shown and the decision (ConsentAccepted or ConsentDeclined). It
// carries no personal data.
type Consent struct {
	Conv        ids.ConvID
	FlowVersion uint32
	TextHash    [32]byte
	Decision    uint8
}

// ConsentReceipt is one stored consent receipt. Time is the relay's commit time
// in Unix seconds, rounded down to the minute.
type ConsentReceipt struct {
	FlowVersion uint32
	TextHash    [32]byte
	Decision    uint8
	Time        uint64
}

// ConsentReceipts lists all consent receipts of a conversation, oldest first
// (at most MaxConsentReceipts). It answers a Consent, is pushed to the site's
// agents, and precedes Fetched in the answer to an agent's Fetch.
type ConsentReceipts struct {
	Conv     ids.ConvID
	Receipts []ConsentReceipt
}

// Operation is the operation of a signed Request (docs/PROTOCOL.md §6.5).
type Operation uint8

// Operations.
const (
	// OpErase erases a conversation (visitor: its own; agent: any of the site).
	// The body is empty.
	OpErase Operation = 1
	// OpCorrect replaces one of the visitor's answers (visitors only). The body
	// is the original position (u64, ≥ 1) followed by the correction envelope.
	OpCorrect Operation = 2
)

func (o Operation) valid() bool { return o == OpErase || o == OpCorrect }

// Request is a signed request (docs/PROTOCOL.md §6.5). Sig covers
// RequestSigned(site, challenge nonce, r) and is made by the connection's key;
// BodyHash is the SHA-256 of Body. Decode checks the structure only: the
// operation, and the body's shape for it (empty for OpErase; for OpCorrect a
// position ≥ 1 and a non-empty envelope). The hash and the signature are
// checked by BodyHashValid and VerifyRequest.
type Request struct {
	Op       Operation
	Conv     ids.ConvID
	Counter  uint64
	BodyHash [32]byte
	Sig      [64]byte
	Body     []byte
}

// Done confirms that a Request was carried out.
type Done struct {
	Op   Operation
	Conv ids.ConvID
}

// Erased tells a client that a conversation was erased: it drops everything it
// holds of it.
type Erased struct{ Conv ids.ConvID }

// Replaced tells a client that the envelope at OldPos was replaced by the
// correction at NewPos: it drops the old one.
type Replaced struct {
	Conv   ids.ConvID
	OldPos uint64
	NewPos uint64
}

// ConvState is the state of a conversation (docs/PROTOCOL.md §6.7). It is
// stored with the conversation and carries no content.
type ConvState uint8

// Conversation states.
const (
	// StateBot: created, nobody asked for a person.
	StateBot ConvState = 0
	// StateWaiting: the visitor asked for a person (WantPerson).
	StateWaiting ConvState = 1
	// StateLive: an agent took the conversation over (Takeover).
	StateLive ConvState = 2
	// StateClosed: an agent closed the conversation (Close).
	StateClosed ConvState = 3
)

// Valid reports whether s is one of the four states.
func (s ConvState) Valid() bool { return s <= StateClosed }

var stateNames = [...]string{StateBot: "bot", StateWaiting: "waiting", StateLive: "live", StateClosed: "closed"}

// String returns "bot", "waiting", "live", "closed" or "state N".
func (s ConvState) String() string {
	if s.Valid() {
		return stateNames[s]
	}
	return "state " + strconv.Itoa(int(s))
}

// Typing tells the relay that the client started (On) or stopped typing in a
// conversation. The relay forwards it and never stores it.
type Typing struct {
	Conv ids.ConvID
	On   bool
}

// TypingPush forwards a Typing: Key is the signing key of the typist (the
// visitor's or an agent's).
type TypingPush struct {
	Conv ids.ConvID
	Key  ids.Key
	On   bool
}

// WantPerson asks for a person (visitors only, own conversation): the
// conversation becomes waiting.
type WantPerson struct{ Conv ids.ConvID }

// Takeover makes the sending agent the one who holds the conversation (agents only).
type Takeover struct{ Conv ids.ConvID }

// Close ends a conversation (agents only).
type Close struct{ Conv ids.ConvID }

// ConvStateFrame tells a client the state of a conversation. Agent is the
// signing key of the agent who holds it when State is StateLive, and zero
// otherwise (Decode refuses any other combination).
type ConvStateFrame struct {
	Conv  ids.ConvID
	State ConvState
	Agent ids.Key
}

// Presence tells a visitor how many distinct agent keys of the site are connected.
type Presence struct{ Online uint16 }

// RosterUpdate carries the site's newly stored signed roster (never empty).
type RosterUpdate struct{ Roster []byte }

func (*Challenge) Type() Type       { return TypeChallenge }
func (*Hello) Type() Type           { return TypeHello }
func (*Welcome) Type() Type         { return TypeWelcome }
func (*Send) Type() Type            { return TypeSend }
func (*Ack) Type() Type             { return TypeAck }
func (*Deliver) Type() Type         { return TypeDeliver }
func (*List) Type() Type            { return TypeList }
func (*Conversations) Type() Type   { return TypeConversations }
func (*Fetch) Type() Type           { return TypeFetch }
func (*Fetched) Type() Type         { return TypeFetched }
func (*Delivered) Type() Type       { return TypeDelivered }
func (*Receipt) Type() Type         { return TypeReceipt }
func (*Error) Type() Type           { return TypeError }
func (*Consent) Type() Type         { return TypeConsent }
func (*ConsentReceipts) Type() Type { return TypeConsentReceipts }
func (*Request) Type() Type         { return TypeRequest }
func (*Done) Type() Type            { return TypeDone }
func (*Erased) Type() Type          { return TypeErased }
func (*Replaced) Type() Type        { return TypeReplaced }
func (*Typing) Type() Type          { return TypeTyping }
func (*TypingPush) Type() Type      { return TypeTypingPush }
func (*WantPerson) Type() Type      { return TypeWantPerson }
func (*Takeover) Type() Type        { return TypeTakeover }
func (*Close) Type() Type           { return TypeClose }
func (*ConvStateFrame) Type() Type  { return TypeConvState }
func (*Presence) Type() Type        { return TypePresence }
func (*RosterUpdate) Type() Type    { return TypeRosterUpdate }

// Error makes an Error frame usable as a Go error: "<code name>: <reason>".
func (e *Error) Error() string {
	if e.Reason == "" {
		return e.Code.String()
	}
	return e.Code.String() + ": " + e.Reason
}

// ErrorFrame returns an Error frame whose reason is made encodable: bytes
// outside printable ASCII become '?', and it is cut to MaxReason bytes.
func ErrorFrame(code ErrorCode, reason string) *Error {
	return &Error{Code: code, Reason: sanitizeReason(reason)}
}

func sanitizeReason(s string) string {
	if len(s) > MaxReason {
		s = s[:MaxReason]
	}
	if printable(s) {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Fixed body sizes.
const (
	challengeSize = 32
	helloSize     = 1 + 16 + 32 + 32 + 8 + 64
	helloUnsigned = helloSize - 64
	welcomeFixed  = 16 + 8 + 8
	ackSize       = 16 + 8 + 8
	deliverFixed  = 16 + 8 + 8
	convInfoSize  = 16 + 8 + 8 + 8
	convPosSize   = 16 + 8 // Fetch, Fetched, Delivered, Receipt
	consentSize   = 16 + 4 + 32 + 1
	receiptSize   = 4 + 32 + 1 + 8
	receiptsFixed = 16 + 2
	requestFixed  = 1 + 16 + 8 + 32 + 64
	doneSize      = 1 + 16
	erasedSize    = 16
	replacedSize  = 16 + 8 + 8
	typingSize    = 16 + 1
	pushSize      = 16 + 32 + 1
	convSize      = 16 // WantPerson, Takeover, Close
	stateSize     = 16 + 1 + 32
	presenceSize  = 2
)

// Encode returns the frame f with request ID reqID (0 in pushes).
//
// Encode writes the values as given; a frame that breaks a rule of the
// specification (an empty envelope or roster, an unsorted conversation list,
// an unknown role, consent decision or operation, a request body of the wrong
// shape) is encoded anyway and then refused by Decode. Only what the format cannot hold is adjusted: a Conversations frame
// keeps its first MaxConversations entries, a ConsentReceipts frame its first
// MaxConsentReceipts, and an Error reason is made printable and cut to
// MaxReason bytes as by ErrorFrame. Encode panics if f is nil or not one of
// this package's frame types.
func Encode(reqID uint32, f Frame) []byte {
	switch v := f.(type) {
	case *Challenge:
		b := header(reqID, TypeChallenge, challengeSize)
		return append(b, v.Nonce[:]...)
	case *Hello:
		b := header(reqID, TypeHello, helloSize)
		b = appendHelloUnsigned(b, v)
		return append(b, v.Sig[:]...)
	case *Welcome:
		b := header(reqID, TypeWelcome, welcomeFixed+len(v.Roster))
		b = append(b, v.Conv[:]...)
		b = binary.BigEndian.AppendUint64(b, v.AckedSeq)
		b = binary.BigEndian.AppendUint64(b, v.DeliveredPos)
		return append(b, v.Roster...)
	case *Send:
		b := header(reqID, TypeSend, len(v.Envelope))
		return append(b, v.Envelope...)
	case *Ack:
		b := header(reqID, TypeAck, ackSize)
		b = append(b, v.Conv[:]...)
		b = binary.BigEndian.AppendUint64(b, v.Seq)
		return binary.BigEndian.AppendUint64(b, v.Pos)
	case *Deliver:
		b := header(reqID, TypeDeliver, deliverFixed+len(v.Envelope))
		b = append(b, v.Conv[:]...)
		b = binary.BigEndian.AppendUint64(b, v.Pos)
		b = binary.BigEndian.AppendUint64(b, v.Stored)
		return append(b, v.Envelope...)
	case *List:
		return header(reqID, TypeList, 0)
	case *Conversations:
		e := v.Entries
		if len(e) > MaxConversations {
			e = e[:MaxConversations]
		}
		b := header(reqID, TypeConversations, 2+len(e)*convInfoSize)
		b = binary.BigEndian.AppendUint16(b, uint16(len(e)))
		for i := range e {
			b = append(b, e[i].Conv[:]...)
			b = binary.BigEndian.AppendUint64(b, e[i].LastPos)
			b = binary.BigEndian.AppendUint64(b, e[i].Created)
			b = binary.BigEndian.AppendUint64(b, e[i].DeliveredPos)
		}
		return b
	case *Fetch:
		return convPos(reqID, TypeFetch, v.Conv, v.Since)
	case *Fetched:
		return convPos(reqID, TypeFetched, v.Conv, v.LastPos)
	case *Delivered:
		return convPos(reqID, TypeDelivered, v.Conv, v.Pos)
	case *Receipt:
		return convPos(reqID, TypeReceipt, v.Conv, v.Pos)
	case *Error:
		r := sanitizeReason(v.Reason)
		b := header(reqID, TypeError, 2+1+len(r))
		b = binary.BigEndian.AppendUint16(b, uint16(v.Code))
		b = append(b, byte(len(r)))
		return append(b, r...)
	case *Consent:
		b := header(reqID, TypeConsent, consentSize)
		b = append(b, v.Conv[:]...)
		b = binary.BigEndian.AppendUint32(b, v.FlowVersion)
		b = append(b, v.TextHash[:]...)
		return append(b, v.Decision)
	case *ConsentReceipts:
		rs := v.Receipts
		if len(rs) > MaxConsentReceipts {
			rs = rs[:MaxConsentReceipts]
		}
		b := header(reqID, TypeConsentReceipts, receiptsFixed+len(rs)*receiptSize)
		b = append(b, v.Conv[:]...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(rs)))
		for i := range rs {
			b = binary.BigEndian.AppendUint32(b, rs[i].FlowVersion)
			b = append(b, rs[i].TextHash[:]...)
			b = append(b, rs[i].Decision)
			b = binary.BigEndian.AppendUint64(b, rs[i].Time)
		}
		return b
	case *Request:
		b := header(reqID, TypeRequest, requestFixed+len(v.Body))
		b = append(b, byte(v.Op))
		b = append(b, v.Conv[:]...)
		b = binary.BigEndian.AppendUint64(b, v.Counter)
		b = append(b, v.BodyHash[:]...)
		b = append(b, v.Sig[:]...)
		return append(b, v.Body...)
	case *Done:
		b := header(reqID, TypeDone, doneSize)
		b = append(b, byte(v.Op))
		return append(b, v.Conv[:]...)
	case *Erased:
		b := header(reqID, TypeErased, erasedSize)
		return append(b, v.Conv[:]...)
	case *Replaced:
		b := header(reqID, TypeReplaced, replacedSize)
		b = append(b, v.Conv[:]...)
		b = binary.BigEndian.AppendUint64(b, v.OldPos)
		return binary.BigEndian.AppendUint64(b, v.NewPos)
	case *Typing:
		b := header(reqID, TypeTyping, typingSize)
		b = append(b, v.Conv[:]...)
		return append(b, boolByte(v.On))
	case *TypingPush:
		b := header(reqID, TypeTypingPush, pushSize)
		b = append(b, v.Conv[:]...)
		b = append(b, v.Key[:]...)
		return append(b, boolByte(v.On))
	case *WantPerson:
		return append(header(reqID, TypeWantPerson, convSize), v.Conv[:]...)
	case *Takeover:
		return append(header(reqID, TypeTakeover, convSize), v.Conv[:]...)
	case *Close:
		return append(header(reqID, TypeClose, convSize), v.Conv[:]...)
	case *ConvStateFrame:
		b := header(reqID, TypeConvState, stateSize)
		b = append(b, v.Conv[:]...)
		b = append(b, byte(v.State))
		return append(b, v.Agent[:]...)
	case *Presence:
		return binary.BigEndian.AppendUint16(header(reqID, TypePresence, presenceSize), v.Online)
	case *RosterUpdate:
		return append(header(reqID, TypeRosterUpdate, len(v.Roster)), v.Roster...)
	}
	panic("protocol: Encode of an unknown frame type")
}

func header(reqID uint32, t Type, body int) []byte {
	b := make([]byte, 0, HeaderSize+body)
	b = append(b, Version, byte(t))
	return binary.BigEndian.AppendUint32(b, reqID)
}

func convPos(reqID uint32, t Type, c ids.ConvID, pos uint64) []byte {
	b := header(reqID, t, convPosSize)
	b = append(b, c[:]...)
	return binary.BigEndian.AppendUint64(b, pos)
}

func appendHelloUnsigned(b []byte, h *Hello) []byte {
	b = append(b, byte(h.Role))
	b = append(b, h.Site[:]...)
	b = append(b, h.SignKey[:]...)
	b = append(b, h.BoxKey[:]...)
	return binary.BigEndian.AppendUint64(b, h.Since)
}

// Decode parses one frame. It is strict (docs/PROTOCOL.md §1, §6): a frame
// with another version byte gives ErrUnsupportedVersion, anything that is not
// the exact encoding of a frame gives an error wrapping ErrMalformed. When the
// six header bytes are present and the version is known, reqID is the frame's
// request ID even if the body is refused, so that the error reply can echo it.
// Byte slices in the result (Welcome.Roster, Send.Envelope,
// Deliver.Envelope, Request.Body, RosterUpdate.Roster) alias b.
func Decode(b []byte) (reqID uint32, f Frame, err error) {
	if len(b) == 0 {
		return 0, nil, malformed("empty frame")
	}
	if b[0] != Version {
		return 0, nil, ErrUnsupportedVersion
	}
	if len(b) < HeaderSize {
		return 0, nil, malformed("short header")
	}
	reqID = binary.BigEndian.Uint32(b[2:6])
	if len(b) > MaxFrameSize {
		return reqID, nil, malformed("frame too large")
	}
	t := Type(b[1])
	f, err = decodeBody(t, b[HeaderSize:])
	if err != nil {
		return reqID, nil, err
	}
	return reqID, f, nil
}

func decodeBody(t Type, p []byte) (Frame, error) {
	switch t {
	case TypeChallenge:
		if len(p) != challengeSize {
			return nil, badLength(t)
		}
		f := &Challenge{}
		copy(f.Nonce[:], p)
		return f, nil
	case TypeHello:
		if len(p) != helloSize {
			return nil, badLength(t)
		}
		f := &Hello{Role: Role(p[0])}
		if f.Role != RoleVisitor && f.Role != RoleAgent {
			return nil, malformed("hello: unknown role")
		}
		p = p[1:]
		p = take(f.Site[:], p)
		p = take(f.SignKey[:], p)
		p = take(f.BoxKey[:], p)
		f.Since, p = u64(p)
		copy(f.Sig[:], p)
		return f, nil
	case TypeWelcome:
		if len(p) <= welcomeFixed {
			return nil, malformed("welcome: missing roster")
		}
		f := &Welcome{}
		p = take(f.Conv[:], p)
		f.AckedSeq, p = u64(p)
		f.DeliveredPos, p = u64(p)
		f.Roster = p
		return f, nil
	case TypeSend:
		if len(p) == 0 {
			return nil, malformed("send: missing envelope")
		}
		return &Send{Envelope: p}, nil
	case TypeAck:
		if len(p) != ackSize {
			return nil, badLength(t)
		}
		f := &Ack{}
		p = take(f.Conv[:], p)
		f.Seq, p = u64(p)
		f.Pos, _ = u64(p)
		return f, nil
	case TypeDeliver:
		if len(p) <= deliverFixed {
			return nil, malformed("deliver: missing envelope")
		}
		f := &Deliver{}
		p = take(f.Conv[:], p)
		f.Pos, p = u64(p)
		f.Stored, p = u64(p)
		f.Envelope = p
		return f, nil
	case TypeList:
		if len(p) != 0 {
			return nil, badLength(t)
		}
		return &List{}, nil
	case TypeConversations:
		return decodeConversations(p)
	case TypeFetch, TypeFetched, TypeDelivered, TypeReceipt:
		if len(p) != convPosSize {
			return nil, badLength(t)
		}
		var c ids.ConvID
		p = take(c[:], p)
		n, _ := u64(p)
		switch t {
		case TypeFetch:
			return &Fetch{Conv: c, Since: n}, nil
		case TypeFetched:
			return &Fetched{Conv: c, LastPos: n}, nil
		case TypeDelivered:
			return &Delivered{Conv: c, Pos: n}, nil
		default:
			return &Receipt{Conv: c, Pos: n}, nil
		}
	case TypeError:
		if len(p) < 3 || len(p) != 3+int(p[2]) {
			return nil, badLength(t)
		}
		r := p[3:]
		for _, c := range r {
			if c < 0x20 || c > 0x7e {
				return nil, malformed("error: reason not printable ASCII")
			}
		}
		return &Error{Code: ErrorCode(binary.BigEndian.Uint16(p)), Reason: string(r)}, nil
	case TypeConsent:
		if len(p) != consentSize {
			return nil, badLength(t)
		}
		f := &Consent{}
		p = take(f.Conv[:], p)
		f.FlowVersion = binary.BigEndian.Uint32(p)
		p = take(f.TextHash[:], p[4:])
		f.Decision = p[0]
		if !validDecision(f.Decision) {
			return nil, malformed("consent: unknown decision")
		}
		return f, nil
	case TypeConsentReceipts:
		return decodeConsentReceipts(p)
	case TypeRequest:
		return decodeRequest(p)
	case TypeDone:
		if len(p) != doneSize {
			return nil, badLength(t)
		}
		f := &Done{Op: Operation(p[0])}
		if !f.Op.valid() {
			return nil, malformed("done: unknown operation")
		}
		copy(f.Conv[:], p[1:])
		return f, nil
	case TypeErased:
		if len(p) != erasedSize {
			return nil, badLength(t)
		}
		f := &Erased{}
		copy(f.Conv[:], p)
		return f, nil
	case TypeReplaced:
		if len(p) != replacedSize {
			return nil, badLength(t)
		}
		f := &Replaced{}
		p = take(f.Conv[:], p)
		f.OldPos, p = u64(p)
		f.NewPos, _ = u64(p)
		return f, nil
	case TypeTyping:
		if len(p) != typingSize {
			return nil, badLength(t)
		}
		f := &Typing{}
		p = take(f.Conv[:], p)
		on, ok := byteBool(p[0])
		if !ok {
			return nil, malformed("typing: unknown state")
		}
		f.On = on
		return f, nil
	case TypeTypingPush:
		if len(p) != pushSize {
			return nil, badLength(t)
		}
		f := &TypingPush{}
		p = take(f.Conv[:], p)
		p = take(f.Key[:], p)
		on, ok := byteBool(p[0])
		if !ok {
			return nil, malformed("typing-push: unknown state")
		}
		f.On = on
		return f, nil
	case TypeWantPerson, TypeTakeover, TypeClose:
		if len(p) != convSize {
			return nil, badLength(t)
		}
		var c ids.ConvID
		copy(c[:], p)
		switch t {
		case TypeWantPerson:
			return &WantPerson{Conv: c}, nil
		case TypeTakeover:
			return &Takeover{Conv: c}, nil
		default:
			return &Close{Conv: c}, nil
		}
	case TypeConvState:
		if len(p) != stateSize {
			return nil, badLength(t)
		}
		f := &ConvStateFrame{}
		p = take(f.Conv[:], p)
		f.State = ConvState(p[0])
		copy(f.Agent[:], p[1:])
		if !f.State.Valid() {
			return nil, malformed("conv-state: unknown state")
		}
		if (f.State == StateLive) == (f.Agent == ids.Key{}) {
			return nil, malformed("conv-state: agent key must be set exactly when live")
		}
		return f, nil
	case TypePresence:
		if len(p) != presenceSize {
			return nil, badLength(t)
		}
		return &Presence{Online: binary.BigEndian.Uint16(p)}, nil
	case TypeRosterUpdate:
		if len(p) == 0 {
			return nil, malformed("roster-update: missing roster")
		}
		return &RosterUpdate{Roster: p}, nil
	}
	return nil, malformed("unknown frame type " + strconv.Itoa(int(t)))
}

func decodeConversations(p []byte) (Frame, error) {
	if len(p) < 2 {
		return nil, badLength(TypeConversations)
	}
	n := int(binary.BigEndian.Uint16(p))
	if n > MaxConversations {
		return nil, malformed("conversations: too many entries")
	}
	p = p[2:]
	if len(p) != n*convInfoSize {
		return nil, badLength(TypeConversations)
	}
	f := &Conversations{}
	if n == 0 {
		return f, nil
	}
	f.Entries = make([]ConvInfo, n)
	for i := range f.Entries {
		e := &f.Entries[i]
		p = take(e.Conv[:], p)
		if i > 0 && bytes.Compare(f.Entries[i-1].Conv[:], e.Conv[:]) >= 0 {
			return nil, malformed("conversations: not sorted strictly ascending")
		}
		e.LastPos, p = u64(p)
		e.Created, p = u64(p)
		e.DeliveredPos, p = u64(p)
	}
	return f, nil
}

func decodeRequest(p []byte) (Frame, error) {
	if len(p) < requestFixed {
		return nil, badLength(TypeRequest)
	}
	f := &Request{Op: Operation(p[0])}
	if !f.Op.valid() {
		return nil, malformed("request: unknown operation")
	}
	p = take(f.Conv[:], p[1:])
	f.Counter, p = u64(p)
	p = take(f.BodyHash[:], p)
	p = take(f.Sig[:], p)
	switch f.Op {
	case OpErase:
		if len(p) != 0 {
			return nil, malformed("request: erase with a body")
		}
	case OpCorrect:
		if len(p) <= 8 {
			return nil, malformed("request: correction without an envelope")
		}
		if binary.BigEndian.Uint64(p) == 0 {
			return nil, malformed("request: correction of position 0")
		}
	}
	if len(p) > 0 {
		f.Body = p
	}
	return f, nil
}

func boolByte(on bool) byte {
	if on {
		return 1
	}
	return 0
}

func byteBool(b byte) (on, ok bool) {
	switch b {
	case 0:
		return false, true
	case 1:
		return true, true
	}
	return false, false
}

func validDecision(d uint8) bool { return d == ConsentAccepted || d == ConsentDeclined }

func decodeConsentReceipts(p []byte) (Frame, error) {
	if len(p) < receiptsFixed {
		return nil, badLength(TypeConsentReceipts)
	}
	f := &ConsentReceipts{}
	p = take(f.Conv[:], p)
	n := int(binary.BigEndian.Uint16(p))
	if n > MaxConsentReceipts {
		return nil, malformed("consent-receipts: too many receipts")
	}
	p = p[2:]
	if len(p) != n*receiptSize {
		return nil, badLength(TypeConsentReceipts)
	}
	if n == 0 {
		return f, nil
	}
	f.Receipts = make([]ConsentReceipt, n)
	for i := range f.Receipts {
		r := &f.Receipts[i]
		r.FlowVersion = binary.BigEndian.Uint32(p)
		p = take(r.TextHash[:], p[4:])
		r.Decision = p[0]
		if !validDecision(r.Decision) {
			return nil, malformed("consent-receipts: unknown decision")
		}
		r.Time, p = u64(p[1:])
	}
	return f, nil
}

// take copies len(dst) bytes of p into dst and returns the rest. The caller
// has checked the length.
func take(dst, p []byte) []byte {
	copy(dst, p)
	return p[len(dst):]
}

func u64(p []byte) (uint64, []byte) {
	return binary.BigEndian.Uint64(p), p[8:]
}

func malformed(what string) error { return ids.Wrap(what, ErrMalformed) }

func badLength(t Type) error { return malformed(t.String() + ": wrong body length") }

// HelloSigned returns the bytes the hello signature covers: the domain
// "siegel/hello/v1", the challenge nonce, and the Hello body without the
// signature (docs/PROTOCOL.md §6.1).
func HelloSigned(nonce [32]byte, h *Hello) []byte {
	b := make([]byte, 0, len(HelloDomain)+32+helloUnsigned)
	b = append(b, HelloDomain...)
	b = append(b, nonce[:]...)
	return appendHelloUnsigned(b, h)
}

// SignHello fills h.Sig with sign(HelloSigned(nonce, h)); sign is a plain
// Ed25519 signature by the key h.SignKey.
func SignHello(nonce [32]byte, h *Hello, sign func([]byte) [64]byte) {
	h.Sig = sign(HelloSigned(nonce, h))
}

// VerifyHello reports whether h.Sig is a valid signature by h.SignKey over
// HelloSigned(nonce, h).
func VerifyHello(nonce [32]byte, h *Hello) bool {
	return sig.Verify(h.SignKey, HelloSigned(nonce, h), h.Sig[:])
}

// Correction splits the body of an OpCorrect request into the original
// position and the correction envelope. ok is false for another operation or a
// body that Decode would refuse.
func (r *Request) Correction() (originalPos uint64, envelope []byte, ok bool) {
	if r.Op != OpCorrect || len(r.Body) <= 8 {
		return 0, nil, false
	}
	pos := binary.BigEndian.Uint64(r.Body)
	if pos == 0 {
		return 0, nil, false
	}
	return pos, r.Body[8:], true
}

// CorrectionBody returns the body of an OpCorrect request: the original
// position followed by the correction envelope.
func CorrectionBody(originalPos uint64, envelope []byte) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(envelope)), originalPos)
	return append(b, envelope...)
}

// BodyHashValid reports whether r.BodyHash is the SHA-256 of r.Body.
func (r *Request) BodyHashValid() bool {
	return sha2.Sum256(r.Body) == r.BodyHash
}

// RequestSigned returns the bytes the signature of a Request covers
// (docs/PROTOCOL.md §6.5): the domain "siegel/request/v1", the operation, the
// site, the conversation, the connection's challenge nonce, the counter and the
// body hash as given in r.BodyHash.
func RequestSigned(site ids.SiteID, nonce [32]byte, r *Request) []byte {
	b := make([]byte, 0, len(RequestDomain)+1+16+16+32+8+32)
	b = append(b, RequestDomain...)
	b = append(b, byte(r.Op))
	b = append(b, site[:]...)
	b = append(b, r.Conv[:]...)
	b = append(b, nonce[:]...)
	b = binary.BigEndian.AppendUint64(b, r.Counter)
	return append(b, r.BodyHash[:]...)
}

// SignRequest sets r.BodyHash to the SHA-256 of r.Body and r.Sig to
// sign(RequestSigned(site, nonce, r)); sign is a plain Ed25519 signature by the
// connection's key.
func SignRequest(site ids.SiteID, nonce [32]byte, r *Request, sign func([]byte) [64]byte) {
	r.BodyHash = sha2.Sum256(r.Body)
	r.Sig = sign(RequestSigned(site, nonce, r))
}

// VerifyRequest reports whether r.Sig is a valid signature by signer over
// RequestSigned(site, nonce, r). It does not check the body hash (BodyHashValid).
func VerifyRequest(signer ids.Key, site ids.SiteID, nonce [32]byte, r *Request) bool {
	return sig.Verify(signer, RequestSigned(site, nonce, r), r.Sig[:])
}
