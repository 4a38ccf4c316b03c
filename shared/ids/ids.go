// Package ids defines the fixed-size identifiers and keys shared by every Siegel
// component, and their text form (base64url without padding, docs/PROTOCOL.md §1).
package ids

import (
	"encoding/base64"
	"errors"

	"siegel/shared/sha2"
)

// ErrInvalid is returned when the text form of an identifier does not decode to
// exactly the expected number of bytes.
var ErrInvalid = errors.New("invalid identifier")

// SiteID identifies a site (a website using Siegel).
type SiteID [16]byte

// ConvID identifies a conversation; it is derived from the visitor's signing key.
type ConvID [16]byte

// AgentID identifies an agent within a roster.
type AgentID [16]byte

// Key is a 32-byte public key: Ed25519 for signing keys, X25519 for box keys.
type Key [32]byte

// Fingerprint is the SHA-256 of an owner signing key.
type Fingerprint [32]byte

var b64 = base64.RawURLEncoding

func (s SiteID) String() string      { return b64.EncodeToString(s[:]) }
func (c ConvID) String() string      { return b64.EncodeToString(c[:]) }
func (a AgentID) String() string     { return b64.EncodeToString(a[:]) }
func (k Key) String() string         { return b64.EncodeToString(k[:]) }
func (f Fingerprint) String() string { return b64.EncodeToString(f[:]) }

// IsZero reports whether the conversation ID is all zeros (the agents' Welcome).
func (c ConvID) IsZero() bool { return c == ConvID{} }

func decode(dst []byte, s, what string) error {
	if len(s) != b64.EncodedLen(len(dst)) {
		return &Error{What: what, Err: ErrInvalid}
	}
	n, err := b64.Strict().Decode(dst, []byte(s))
	if err != nil || n != len(dst) {
		return &Error{What: what, Err: ErrInvalid}
	}
	return nil
}

// ParseSiteID decodes the text form of a site ID.
func ParseSiteID(s string) (SiteID, error) {
	var v SiteID
	return v, decode(v[:], s, "site ID")
}

// ParseConvID decodes the text form of a conversation ID.
func ParseConvID(s string) (ConvID, error) {
	var v ConvID
	return v, decode(v[:], s, "conversation ID")
}

// ParseKey decodes the text form of a public key.
func ParseKey(s string) (Key, error) {
	var v Key
	return v, decode(v[:], s, "key")
}

// ParseFingerprint decodes the text form of an owner fingerprint.
func ParseFingerprint(s string) (Fingerprint, error) {
	var v Fingerprint
	return v, decode(v[:], s, "owner fingerprint")
}

// ConversationID derives the conversation ID of the visitor with the given
// signing key on the given site (docs/PROTOCOL.md §2).
func ConversationID(site SiteID, visitorSign Key) ConvID {
	var h sha2.Digest256
	h.Write([]byte("siegel/conversation/v1"))
	h.Write(site[:])
	h.Write(visitorSign[:])
	sum := h.Sum256()
	return ConvID(sum[:16])
}

// OwnerFingerprint is the SHA-256 of the owner's signing key.
func OwnerFingerprint(owner Key) Fingerprint {
	return Fingerprint(sha2.Sum256(owner[:]))
}

// Error adds context to an error without fmt (which the widget avoids for size).
type Error struct {
	What string
	Err  error
}

func (e *Error) Error() string { return e.What + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Wrap returns err with the context what, or nil when err is nil.
func Wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{What: what, Err: err}
}
