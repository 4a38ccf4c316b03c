// Package visitor is the pure-Go part of the visitor widget: the record kept in
// the frame origin's localStorage, the view-model of the chat (messages, status,
// alert, unread count) and the reconnect backoff. The DOM wiring lives in
// widget/cmd/visitor.
package visitor

import (
	"encoding/base64"
	"encoding/binary"
	"errors"

	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/widget/session"
)

// RecordVersion is the version byte of the storage record.
const RecordVersion = 1

// MaxRoster is the largest roster a record holds (a roster of 64 agents with the
// longest names is 9410 bytes).
const MaxRoster = 16384

// ErrRecord is returned for a storage record that is not the exact encoding of a
// Record.
var ErrRecord = errors.New("visitor: invalid storage record")

// StorageKey returns the localStorage key of a site's record.
func StorageKey(site ids.SiteID) string { return "siegel.v1." + site.String() }

// Record is everything the widget keeps between page loads: the conversation keys
// and the session state (sequence numbers, cursor, roster, unsent envelopes).
//
// Encoding (big-endian):
//
//	u8   version = 1
//	[32] Ed25519 seed
//	[32] X25519 private key
//	u64  next seq             ≥ 1
//	u64  last seen position
//	u64  highest roster version seen
//	u32  roster length        0 … MaxRoster
//	[..] roster
//	u16  outbox count n       0 … session.MaxOutbox
//	n ×  (u32 length, [..] envelope)   consecutive seqs ending at next seq − 1
//
// The text form stored in localStorage is standard base64 with padding.
type Record struct {
	Seed, BoxPriv [32]byte
	State         session.State
}

// Encode returns the binary form of r.
func (r *Record) Encode() []byte {
	st := &r.State
	n := 1 + 64 + 24 + 4 + len(st.Roster) + 2
	for _, e := range st.Outbox {
		n += 4 + len(e)
	}
	b := make([]byte, 0, n)
	b = append(b, RecordVersion)
	b = append(b, r.Seed[:]...)
	b = append(b, r.BoxPriv[:]...)
	b = binary.BigEndian.AppendUint64(b, max(st.NextSeq, 1))
	b = binary.BigEndian.AppendUint64(b, st.LastPos)
	b = binary.BigEndian.AppendUint64(b, st.RosterVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(len(st.Roster)))
	b = append(b, st.Roster...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(st.Outbox)))
	for _, e := range st.Outbox {
		b = binary.BigEndian.AppendUint32(b, uint32(len(e)))
		b = append(b, e...)
	}
	return b
}

// EncodeText returns the base64 text form of r for localStorage.
func (r *Record) EncodeText() string { return base64.StdEncoding.EncodeToString(r.Encode()) }

// DecodeRecord parses the binary form strictly: exact lengths, no trailing bytes,
// every outbox entry a well-formed envelope, their seqs consecutive and ending at
// next seq − 1. It does not check keys or signatures (session.New does).
func DecodeRecord(b []byte) (*Record, error) {
	d := reader{b: b}
	if d.u8() != RecordVersion {
		return nil, ErrRecord
	}
	r := &Record{}
	copy(r.Seed[:], d.take(32))
	copy(r.BoxPriv[:], d.take(32))
	st := &r.State
	st.NextSeq, st.LastPos, st.RosterVersion = d.u64(), d.u64(), d.u64()
	if n := d.u32(); n > MaxRoster {
		return nil, ErrRecord
	} else if n > 0 {
		st.Roster = append([]byte(nil), d.take(int(n))...)
	}
	count := int(d.u16())
	if d.bad || st.NextSeq == 0 || count > session.MaxOutbox || uint64(count) >= st.NextSeq {
		return nil, ErrRecord
	}
	first := st.NextSeq - uint64(count)
	for i := 0; i < count; i++ {
		n := d.u32()
		if n == 0 || n > envelope.MaxEnvelopeSize {
			return nil, ErrRecord
		}
		raw := append([]byte(nil), d.take(int(n))...)
		if d.bad {
			return nil, ErrRecord
		}
		e, err := envelope.Parse(raw)
		if err != nil || e.Seq != first+uint64(i) {
			return nil, ErrRecord
		}
		st.Outbox = append(st.Outbox, raw)
	}
	if d.bad || len(d.b) != 0 {
		return nil, ErrRecord
	}
	return r, nil
}

// DecodeRecordText parses the base64 text form (strict: canonical padding, no
// line breaks).
func DecodeRecordText(s string) (*Record, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || base64.StdEncoding.EncodeToString(b) != s {
		return nil, ErrRecord
	}
	return DecodeRecord(b)
}

// reader consumes b; reading past the end sets bad and yields zeros.
type reader struct {
	b   []byte
	bad bool
}

func (d *reader) take(n int) []byte {
	if d.bad || n > len(d.b) {
		d.bad = true
		return make([]byte, n)
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *reader) u8() byte    { return d.take(1)[0] }
func (d *reader) u16() uint16 { return binary.BigEndian.Uint16(d.take(2)) }
func (d *reader) u32() uint32 { return binary.BigEndian.Uint32(d.take(4)) }
func (d *reader) u64() uint64 { return binary.BigEndian.Uint64(d.take(8)) }
