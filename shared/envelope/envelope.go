// Package envelope implements the Siegel envelope v1 (docs/PROTOCOL.md §2–3): a
// message sealed with a fresh key for a set of recipients, padded to a size
// bucket and signed by its sender, in a canonical binary encoding.
//
// The package is compiled into the browser's WebAssembly, so it avoids fmt,
// encoding/json and reflect. Errors are the sentinel values below, wrapped with
// context; test them with errors.Is.
package envelope

//go:generate go run ./internal/genvectors -dir testdata

import (
	"encoding/binary"
	"errors"
	"math"

	"siegel/shared/content"
	"siegel/shared/ids"
	"siegel/shared/sig"
)

const (
	// Version is the envelope version byte.
	Version = 1
	// MaxStanzas is the largest number of recipients of one envelope.
	MaxStanzas = 64
	// MaxContent is the largest content the encoding can carry (65536 − 86).
	MaxContent = 65450
	// MaxText is the largest text content, in bytes of UTF-8.
	MaxText = 16384
	// MaxEnvelopeSize is the size of the largest valid envelope.
	MaxEnvelopeSize = 70870
)

// ContentType says what the content of a message is.
type ContentType uint8

// Content types (docs/PROTOCOL.md §3, §3.3). Contents are checked by
// shared/content: Seal refuses and Open rejects content that is not valid for
// its type, and any other type, as malformed.
const (
	// ContentText is UTF-8 text of 1 … MaxText bytes typed by a visitor or an agent.
	ContentText ContentType = ContentType(content.TypeText)
	// ContentBot is UTF-8 text of 1 … MaxText bytes that the bot showed the visitor.
	ContentBot ContentType = ContentType(content.TypeBot)
	// ContentAnswer is the visitor's answer to a bot question or choice (content.Answer).
	ContentAnswer ContentType = ContentType(content.TypeAnswer)
	// ContentConsent is a consent decision (content.Consent).
	ContentConsent ContentType = ContentType(content.TypeConsent)
	// ContentHandoff is a request for a person (content.Handoff).
	ContentHandoff ContentType = ContentType(content.TypeHandoff)
	// ContentCorrection corrects an earlier answer of the visitor (content.Correction).
	ContentCorrection ContentType = ContentType(content.TypeCorrection)
)

// Error classes (docs/PROTOCOL.md §3.2). Returned errors wrap exactly one of them.
var (
	ErrMalformed          = errors.New("malformed envelope")
	ErrUnsupportedVersion = errors.New("unsupported envelope version")
	ErrBadSignature       = errors.New("bad envelope signature")
	ErrWrongConversation  = errors.New("envelope of another conversation")
	ErrNotRecipient       = errors.New("not a recipient of the envelope")
	ErrWeakKey            = errors.New("weak box key")
	ErrStanza             = errors.New("cannot open stanza")
	ErrBody               = errors.New("cannot open body")
	ErrHeaderMismatch     = errors.New("inner header does not match envelope")
	ErrDuplicate          = errors.New("duplicate envelope")
	ErrTooManyRecipients  = errors.New("too many recipients")
)

// domain is the domain-separation string of the envelope signature.
const domain = "siegel/envelope/v1"

// maxTime is the largest time an Inner may carry.
const maxTime = math.MaxInt64

// Layout of the outer envelope.
const (
	offSite     = 1
	offConv     = offSite + 16
	offSeq      = offConv + 16
	offSign     = offSeq + 8
	offBox      = offSign + 32
	offNonce    = offBox + 32
	offCount    = offNonce + 24
	headerLen   = offCount + 1 // 130
	stanzaLen   = 32 + 48
	sigLen      = sig.SignatureSize
	boxOverhead = 16 // secretbox and box authenticator
	minSize     = headerLen + stanzaLen + 4 + boxOverhead + 256 + sigLen
)

// Layout of the inner plaintext.
const (
	innerVersion  = 1
	inOffSite     = 1
	inOffConv     = inOffSite + 16
	inOffSeq      = inOffConv + 16
	inOffSign     = inOffSeq + 8
	inOffType     = inOffSign + 32
	inOffTime     = inOffType + 1
	inOffLen      = inOffTime + 8
	innerHeader   = inOffLen + 4 // 86
	smallestBuck  = 256
	largestBucket = 65536
)

// bucket returns the smallest padding bucket that holds n bytes of Inner, or 0.
func bucket(n int) int {
	for b := smallestBuck; b <= largestBucket; b <<= 1 {
		if n <= b {
			return b
		}
	}
	return 0
}

// isBucket reports whether n is one of the padding buckets.
func isBucket(n uint64) bool {
	return n >= smallestBuck && n <= largestBucket && n&(n-1) == 0
}

// Message is the content of an envelope together with its header fields.
type Message struct {
	Site    ids.SiteID
	Conv    ids.ConvID
	Seq     uint64 // sender's sequence number in the conversation, ≥ 1
	Type    ContentType
	Time    int64 // sender's clock, Unix milliseconds, ≥ 0
	Content []byte
}

// Envelope is a structurally parsed envelope. Its slices alias the bytes it
// was parsed from. Parse checks no cryptography: call Verify.
type Envelope struct {
	Site       ids.SiteID
	Conv       ids.ConvID
	Seq        uint64
	SenderSign ids.Key
	SenderBox  ids.Key
	Nonce      [24]byte
	Recipients []ids.Key // strictly ascending

	raw   []byte     // the whole envelope
	body  []byte     // secretbox of Inner
	small [4]ids.Key // backing store of Recipients for few recipients
}

func malformed(what string) error { return &ids.Error{What: "envelope: " + what, Err: ErrMalformed} }

var (
	errEmpty      = &ids.Error{What: "envelope: empty", Err: ErrMalformed}
	errVersion    = &ids.Error{What: "envelope: version", Err: ErrUnsupportedVersion}
	errShort      = malformed("too short")
	errLong       = malformed("too long")
	errSeq        = malformed("sequence number 0")
	errCount      = malformed("stanza count out of range")
	errOrder      = malformed("recipients not strictly ascending")
	errBodyLen    = malformed("body length is not a padding bucket")
	errLength     = malformed("length does not match body length")
	errSignature  = &ids.Error{What: "envelope: signature", Err: ErrBadSignature}
	errNotParsed  = malformed("not parsed")
	errInnerVer   = malformed("inner version")
	errInnerLen   = malformed("content length exceeds bucket")
	errInnerBuck  = malformed("padding bucket not the smallest")
	errPadding    = malformed("non-zero padding")
	errTime       = malformed("time out of range")
	errType       = malformed("unknown content type")
	errContent    = malformed("content not valid for its type")
	errMismatch   = &ids.Error{What: "envelope: inner header", Err: ErrHeaderMismatch}
	errNotRecip   = &ids.Error{What: "open envelope", Err: ErrNotRecipient}
	errStanzaOpen = &ids.Error{What: "open envelope", Err: ErrStanza}
	errBodyOpen   = &ids.Error{What: "open envelope", Err: ErrBody}
)

// Parse decodes an envelope strictly (docs/PROTOCOL.md §1, §3): any input that
// is not the exact canonical encoding of an envelope is refused with
// ErrMalformed, an unknown version byte with ErrUnsupportedVersion. The result
// aliases b.
func Parse(b []byte) (*Envelope, error) {
	if len(b) == 0 {
		return nil, errEmpty
	}
	if b[0] != Version {
		return nil, errVersion
	}
	if len(b) < minSize {
		return nil, errShort
	}
	if len(b) > MaxEnvelopeSize {
		return nil, errLong
	}
	n := int(b[offCount])
	if n < 1 || n > MaxStanzas {
		return nil, errCount
	}
	offLen := headerLen + n*stanzaLen
	if len(b) < offLen+4 {
		return nil, errShort
	}
	l := uint64(binary.BigEndian.Uint32(b[offLen:]))
	if l < boxOverhead || !isBucket(l-boxOverhead) {
		return nil, errBodyLen
	}
	if uint64(len(b)) != uint64(offLen)+4+l+sigLen {
		return nil, errLength
	}
	seq := binary.BigEndian.Uint64(b[offSeq:])
	if seq == 0 {
		return nil, errSeq
	}

	e := &Envelope{Seq: seq, raw: b}
	copy(e.Site[:], b[offSite:])
	copy(e.Conv[:], b[offConv:])
	copy(e.SenderSign[:], b[offSign:])
	copy(e.SenderBox[:], b[offBox:])
	copy(e.Nonce[:], b[offNonce:])
	if n <= len(e.small) {
		e.Recipients = e.small[:n]
	} else {
		e.Recipients = make([]ids.Key, n)
	}
	for i := range n {
		o := headerLen + i*stanzaLen
		copy(e.Recipients[i][:], b[o:o+32])
		if i > 0 && compareKeys(&e.Recipients[i-1], &e.Recipients[i]) >= 0 {
			return nil, errOrder
		}
	}
	e.body = b[offLen+4 : uint64(offLen)+4+l]
	return e, nil
}

// Verify checks the sender's signature over the envelope (ErrBadSignature),
// using the bytes it was parsed from, whatever the exported fields now hold.
func (e *Envelope) Verify() error {
	if len(e.raw) < minSize {
		return errNotParsed
	}
	var signer ids.Key
	copy(signer[:], e.raw[offSign:])
	signed := e.raw[:len(e.raw)-sigLen]
	if !VerifySignature(signer, domain, signed, e.raw[len(signed):]) {
		return errSignature
	}
	return nil
}

// Verify parses b and checks its signature: what the relay does, once, with
// every envelope it receives.
func Verify(b []byte) (*Envelope, error) {
	e, err := Parse(b)
	if err != nil {
		return nil, err
	}
	if err := e.Verify(); err != nil {
		return nil, err
	}
	return e, nil
}

// wrapped returns the wrapped key of stanza i.
func (e *Envelope) wrapped(i int) []byte {
	o := headerLen + i*stanzaLen + 32
	return e.raw[o : o+48]
}

// recipientIndex returns the index of the stanza for box key k, or -1.
func (e *Envelope) recipientIndex(k *ids.Key) int {
	lo, hi := 0, len(e.Recipients)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch c := compareKeys(&e.Recipients[m], k); {
		case c == 0:
			return m
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return -1
}

func compareKeys(a, b *ids.Key) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}
