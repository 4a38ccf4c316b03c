package envelope

import (
	"encoding/binary"
	"io"

	"golang.org/x/crypto/nacl/secretbox"

	"siegel/shared/content"
	"siegel/shared/ids"
	"siegel/shared/sig"
)

var (
	errNoRecipients  = malformed("no recipients")
	errDupRecipient  = malformed("duplicate recipient")
	errManyRecipient = &ids.Error{What: "seal envelope", Err: ErrTooManyRecipients}
)

// checkContent applies the rules of the content type (docs/PROTOCOL.md §3,
// §3.3; shared/content).
func checkContent(t ContentType, c []byte) error {
	if t < ContentText || t > ContentCorrection {
		return errType
	}
	if content.Check(content.Type(t), c) != nil {
		return errContent
	}
	return nil
}

// Seal encrypts m for the recipients' box keys and signs it with sender's key
// (docs/PROTOCOL.md §3.1). It reads the message key K (32 bytes) and then the
// nonce N (24 bytes) from rand. The sender's own box key should be among the
// recipients. The order of recipients does not matter; duplicates are refused.
func Seal(rand io.Reader, sender *Identity, recipients []ids.Key, m Message) ([]byte, error) {
	if m.Seq == 0 {
		return nil, errSeq
	}
	if m.Time < 0 {
		return nil, errTime
	}
	if err := checkContent(m.Type, m.Content); err != nil {
		return nil, err
	}
	if len(recipients) == 0 {
		return nil, errNoRecipients
	}
	if len(recipients) > MaxStanzas {
		return nil, errManyRecipient
	}
	var keys [MaxStanzas]ids.Key
	sorted := keys[:len(recipients)]
	copy(sorted, recipients)
	// Insertion sort: at most 64 keys, no allocation.
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && compareKeys(&sorted[j-1], &sorted[j]) > 0; j-- {
			sorted[j-1], sorted[j] = sorted[j], sorted[j-1]
		}
	}
	for i := 1; i < len(sorted); i++ {
		if sorted[i-1] == sorted[i] {
			return nil, errDupRecipient
		}
	}

	inner := make([]byte, bucket(innerHeader+len(m.Content)))
	inner[0] = innerVersion
	copy(inner[inOffSite:], m.Site[:])
	copy(inner[inOffConv:], m.Conv[:])
	binary.BigEndian.PutUint64(inner[inOffSeq:], m.Seq)
	copy(inner[inOffSign:], sender.signPub[:])
	inner[inOffType] = byte(m.Type)
	binary.BigEndian.PutUint64(inner[inOffTime:], uint64(m.Time))
	binary.BigEndian.PutUint32(inner[inOffLen:], uint32(len(m.Content)))
	copy(inner[innerHeader:], m.Content)

	var key [32]byte
	var nonce [24]byte
	if _, err := io.ReadFull(rand, key[:]); err != nil {
		return nil, ids.Wrap("seal envelope", err)
	}
	if _, err := io.ReadFull(rand, nonce[:]); err != nil {
		return nil, ids.Wrap("seal envelope", err)
	}
	out, err := sealInner(sender, sorted, m.Site, m.Conv, m.Seq, &key, &nonce, inner)
	clear(inner)
	clear(key[:])
	return out, err
}

// sealInner builds and signs an envelope around an already encoded Inner for
// recipients sorted in strictly ascending order.
func sealInner(sender *Identity, sorted []ids.Key, site ids.SiteID, conv ids.ConvID, seq uint64,
	key *[32]byte, nonce *[24]byte, inner []byte) ([]byte, error) {
	bodyLen := len(inner) + boxOverhead
	size := headerLen + len(sorted)*stanzaLen + 4 + bodyLen + sigLen
	// The buffer starts with the signature's domain string, so that the signed
	// bytes are contiguous without a copy; the envelope is the part after it.
	buf := make([]byte, len(domain)+size)
	copy(buf, domain)
	b := buf[len(domain):]
	b[0] = Version
	copy(b[offSite:], site[:])
	copy(b[offConv:], conv[:])
	binary.BigEndian.PutUint64(b[offSeq:], seq)
	copy(b[offSign:], sender.signPub[:])
	copy(b[offBox:], sender.boxPub[:])
	copy(b[offNonce:], nonce[:])
	b[offCount] = byte(len(sorted))
	o := headerLen
	for i := range sorted {
		shared, err := sender.shared(&sorted[i])
		if err != nil {
			return nil, ids.Wrap("seal envelope", err)
		}
		copy(b[o:], sorted[i][:])
		// box_afternm: NaCl box with a precomputed shared key is secretbox
		// under that key (what nacl/box.SealAfterPrecomputation does).
		secretbox.Seal(b[o+32:o+32], key[:], nonce, &shared)
		o += stanzaLen
	}
	binary.BigEndian.PutUint32(b[o:], uint32(bodyLen))
	o += 4
	secretbox.Seal(b[o:o], inner, nonce, key)
	o += bodyLen
	s := sig.Sign(&sender.signPriv, buf[:len(domain)+o])
	copy(b[o:], s[:])
	return b, nil
}
