package envelope

import (
	"encoding/binary"

	"golang.org/x/crypto/nacl/secretbox"

	"siegel/shared/ids"
)

// Opened is a verified and decrypted envelope.
type Opened struct {
	Message
	SenderSign, SenderBox ids.Key
}

var errWrongConv = &ids.Error{What: "open envelope", Err: ErrWrongConversation}

// Open verifies and decrypts the envelope b for the recipient me, who expects
// it in conversation conv of site (docs/PROTOCOL.md §3.2, steps 1–9 in that
// order). Whether the sender may write in the conversation is the caller's
// decision, as is the check for duplicates (Tracker). Content aliases a buffer
// of its own, not b.
func Open(b []byte, me *Identity, site ids.SiteID, conv ids.ConvID) (*Opened, error) {
	e, err := Parse(b)
	if err != nil {
		return nil, err
	}
	if err := e.Verify(); err != nil {
		return nil, err
	}
	if e.Site != site || e.Conv != conv {
		return nil, errWrongConv
	}
	i := e.recipientIndex(&me.boxPub)
	if i < 0 {
		return nil, errNotRecip
	}
	shared, err := me.shared(&e.SenderBox)
	if err != nil {
		return nil, ids.Wrap("open envelope: sender", err)
	}
	var key [32]byte
	// box_open_afternm is secretbox under the shared key (what
	// nacl/box.OpenAfterPrecomputation does).
	if _, ok := secretbox.Open(key[:0], e.wrapped(i), &e.Nonce, &shared); !ok {
		return nil, errStanzaOpen
	}
	inner, ok := secretbox.Open(nil, e.body, &e.Nonce, &key)
	clear(key[:])
	if !ok {
		return nil, errBodyOpen
	}
	o := &Opened{SenderSign: e.SenderSign, SenderBox: e.SenderBox}
	if err := parseInner(inner, &o.Message); err != nil {
		return nil, err
	}
	if o.Site != e.Site || o.Conv != e.Conv || o.Seq != e.Seq || innerSign(inner) != e.SenderSign {
		return nil, errMismatch
	}
	return o, nil
}

func innerSign(inner []byte) (k ids.Key) {
	copy(k[:], inner[inOffSign:])
	return k
}

// parseInner decodes Inner strictly, with the padding and bucket rules and the
// rules of the content type. The content aliases inner.
func parseInner(inner []byte, m *Message) error {
	if len(inner) < innerHeader || !isBucket(uint64(len(inner))) {
		return errInnerLen
	}
	if inner[0] != innerVersion {
		return errInnerVer
	}
	c := uint64(binary.BigEndian.Uint32(inner[inOffLen:]))
	if c > uint64(len(inner)-innerHeader) {
		return errInnerLen
	}
	end := innerHeader + int(c)
	if bucket(end) != len(inner) {
		return errInnerBuck
	}
	for _, x := range inner[end:] {
		if x != 0 {
			return errPadding
		}
	}
	t := binary.BigEndian.Uint64(inner[inOffTime:])
	if t > maxTime {
		return errTime
	}
	copy(m.Site[:], inner[inOffSite:])
	copy(m.Conv[:], inner[inOffConv:])
	m.Seq = binary.BigEndian.Uint64(inner[inOffSeq:])
	m.Type = ContentType(inner[inOffType])
	m.Time = int64(t)
	m.Content = inner[innerHeader:end:end]
	return checkContent(m.Type, m.Content)
}
