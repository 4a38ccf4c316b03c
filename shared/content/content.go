// Package content defines the message contents carried inside envelopes
// (docs/PROTOCOL.md §3.3): text typed by a person, and the entries of the bot's
// transcript — what the bot said, the visitor's answers, consent decisions and
// handoff requests — and the visitor's corrections of earlier answers. Every
// type has exactly one encoding; Decode is strict.
//
// The package is a leaf (no other Siegel imports) so that shared/envelope can
// check contents when it seals and opens.
package content

import (
	"encoding/binary"
	"errors"
	"unicode/utf8"
)

// Type is the content type byte of an envelope's inner header.
type Type uint8

// Content types. The values are part of the wire format.
const (
	TypeText    Type = 0x01 // UTF-8 text typed by a visitor or an agent
	TypeBot     Type = 0x02 // a text the bot showed the visitor
	TypeAnswer  Type = 0x03 // the visitor's answer to a question or choice of the bot
	TypeConsent Type = 0x04 // a consent decision
	TypeHandoff Type = 0x05 // the visitor asks for a person or leaves a message
	// TypeCorrection: the visitor corrects an earlier answer (§3.3, §6.5).
	TypeCorrection Type = 0x06
)

// Limits.
const (
	MaxText     = 16384 // bytes of UTF-8 in a text, bot text, answer value or note
	MaxVariable = 64    // bytes of a variable name
)

// ErrMalformed is returned for content that is not the exact encoding of a value.
var ErrMalformed = errors.New("malformed content")

// InputKind is the kind of input an answer was given in.
type InputKind uint8

// Input kinds. The values are part of the wire format.
const (
	InputChoice InputKind = 0 // a button of a choice step
	InputText   InputKind = 1
	InputEmail  InputKind = 2
	InputPhone  InputKind = 3
	InputNumber InputKind = 4
	InputDate   InputKind = 5
)

// Answer is the visitor's answer to an ask or choice step.
type Answer struct {
	Variable string    // the flow variable it was stored in; empty for a choice
	Personal bool      // personal data (only sent after an accepted consent)
	Kind     InputKind // how it was entered
	Value    string    // what the visitor entered or the label of the chosen button
}

// Consent is a consent decision as recorded in the transcript.
type Consent struct {
	FlowVersion uint32   // version of the flow that showed the consent text
	TextHash    [32]byte // SHA-256 of the exact consent text shown (UTF-8)
	Accepted    bool
	Time        int64 // Unix milliseconds, visitor's clock
}

// Correction replaces the visitor's answer at position Pos of the conversation
// by a new answer. The new answer is never a choice (a button cannot be edited).
type Correction struct {
	Pos    uint64 // position of the original answer envelope, ≥ 1
	Answer Answer
}

// Handoff reasons.
const (
	HandoffPerson  uint8 = 1 // the visitor wants to talk to a person now
	HandoffMessage uint8 = 2 // no person is available: the visitor left a message
)

// Handoff is a request for a person.
type Handoff struct {
	Reason uint8  // HandoffPerson or HandoffMessage
	Note   string // optional text, may be empty
}

func validText(s []byte, allowEmpty bool) bool {
	if len(s) > MaxText || (!allowEmpty && len(s) == 0) {
		return false
	}
	return utf8.Valid(s)
}

// EncodeText encodes a text or bot text: the UTF-8 bytes themselves.
func EncodeText(s string) []byte { return []byte(s) }

// EncodeAnswer encodes an answer:
// u8 flags (bit 0: personal; other bits zero) | u8 kind | u8 variable length | variable | value.
func EncodeAnswer(a Answer) []byte {
	b := make([]byte, 0, 3+len(a.Variable)+len(a.Value))
	var flags byte
	if a.Personal {
		flags = 1
	}
	b = append(b, flags, byte(a.Kind), byte(len(a.Variable)))
	b = append(b, a.Variable...)
	return append(b, a.Value...)
}

// EncodeConsent encodes a consent decision:
// u32 flow version | [32] text hash | u8 decision (1 accepted, 2 declined) | u64 time.
func EncodeConsent(c Consent) []byte {
	b := make([]byte, 45)
	binary.BigEndian.PutUint32(b, c.FlowVersion)
	copy(b[4:36], c.TextHash[:])
	b[36] = 2
	if c.Accepted {
		b[36] = 1
	}
	binary.BigEndian.PutUint64(b[37:], uint64(c.Time))
	return b
}

// EncodeHandoff encodes a handoff request: u8 reason | note.
func EncodeHandoff(h Handoff) []byte {
	return append([]byte{h.Reason}, h.Note...)
}

// EncodeCorrection encodes a correction: u64 original pos | Answer encoding.
func EncodeCorrection(c Correction) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8+3+len(c.Answer.Variable)+len(c.Answer.Value)), c.Pos)
	return append(b, EncodeAnswer(c.Answer)...)
}

// DecodeCorrection decodes a correction strictly: the position is at least 1
// and the answer is a valid answer that is not a choice.
func DecodeCorrection(b []byte) (Correction, error) {
	if len(b) < 8 {
		return Correction{}, ErrMalformed
	}
	pos := binary.BigEndian.Uint64(b)
	if pos == 0 {
		return Correction{}, ErrMalformed
	}
	a, err := DecodeAnswer(b[8:])
	if err != nil || a.Kind == InputChoice {
		return Correction{}, ErrMalformed
	}
	return Correction{Pos: pos, Answer: a}, nil
}

// DecodeAnswer decodes an answer strictly.
func DecodeAnswer(b []byte) (Answer, error) {
	var a Answer
	if len(b) < 3 || b[0] > 1 || b[1] > byte(InputDate) {
		return a, ErrMalformed
	}
	n := int(b[2])
	if n > MaxVariable || len(b) < 3+n {
		return a, ErrMalformed
	}
	v, val := b[3:3+n], b[3+n:]
	if InputKind(b[1]) == InputChoice && (n != 0 || b[0] != 0) {
		return a, ErrMalformed // a choice has no variable and is never personal
	}
	if InputKind(b[1]) != InputChoice && !validVariable(v) {
		return a, ErrMalformed
	}
	if !validText(val, false) {
		return a, ErrMalformed
	}
	return Answer{Variable: string(v), Personal: b[0] == 1, Kind: InputKind(b[1]), Value: string(val)}, nil
}

// validVariable: 1 … MaxVariable bytes of [A-Za-z0-9_].
func validVariable(v []byte) bool {
	if len(v) == 0 || len(v) > MaxVariable {
		return false
	}
	for _, c := range v {
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// DecodeConsent decodes a consent decision strictly.
func DecodeConsent(b []byte) (Consent, error) {
	var c Consent
	if len(b) != 45 || (b[36] != 1 && b[36] != 2) {
		return c, ErrMalformed
	}
	t := binary.BigEndian.Uint64(b[37:])
	if t > 1<<63-1 {
		return c, ErrMalformed
	}
	c.FlowVersion = binary.BigEndian.Uint32(b)
	copy(c.TextHash[:], b[4:36])
	c.Accepted = b[36] == 1
	c.Time = int64(t)
	return c, nil
}

// DecodeHandoff decodes a handoff request strictly.
func DecodeHandoff(b []byte) (Handoff, error) {
	if len(b) < 1 || (b[0] != HandoffPerson && b[0] != HandoffMessage) || !validText(b[1:], true) {
		return Handoff{}, ErrMalformed
	}
	return Handoff{Reason: b[0], Note: string(b[1:])}, nil
}

// Check reports whether c is a valid content of type t (ErrMalformed if not,
// also for an unknown type).
func Check(t Type, c []byte) error {
	var err error
	switch t {
	case TypeText, TypeBot:
		if !validText(c, false) {
			err = ErrMalformed
		}
	case TypeAnswer:
		_, err = DecodeAnswer(c)
	case TypeConsent:
		_, err = DecodeConsent(c)
	case TypeHandoff:
		_, err = DecodeHandoff(c)
	case TypeCorrection:
		_, err = DecodeCorrection(c)
	default:
		err = ErrMalformed
	}
	return err
}
