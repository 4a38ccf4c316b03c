package store

import (
	"encoding/binary"
	"math"
	"unicode/utf8"

	"siegel/shared/ids"
)

// Record encodings (docs/STORAGE.md §3). Every record has exactly one encoding: the
// decoders reject short input, trailing bytes, out-of-range values and anything the
// encoders would refuse to write, so decode(encode(x)) == x and encode(decode(b)) == b.

// Limits of the site record.
const (
	MaxSiteName      = 256   // bytes of UTF-8
	MaxOrigins       = 64    // allowed origins per site
	MaxOrigin        = 256   // bytes per origin
	MaxPrivacyURL    = 2048  // bytes
	MaxRetentionDays = 36500 // 0 means: DefaultRetentionDays
)

// Fixed record sizes.
const (
	convMetaSize   = 32 + 8 + 8 + 8 + 1 + 32
	convMetaV3Size = 32 + 8 + 8 + 8 // before schema version 4
	senderSize     = 8 + 8
	countersSize   = 8 + 8
	schemaSize     = 4
	posKeySize     = 8
	receiptSize    = 4 + 32 + 1 + 8
)

// reader consumes a byte slice front to back; any short read marks it bad.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) take(n int) []byte {
	if r.bad || n < 0 || len(r.b) < n {
		r.bad = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() uint8 {
	v := r.take(1)
	if v == nil {
		return 0
	}
	return v[0]
}

func (r *reader) u16() uint16 {
	v := r.take(2)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint16(v)
}

func (r *reader) u32() uint32 {
	v := r.take(4)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

func (r *reader) u64() uint64 {
	v := r.take(8)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// end reports whether everything was read without error and nothing is left.
func (r *reader) end() bool { return !r.bad && len(r.b) == 0 }

// ---- site ----

// validName: UTF-8 without control characters, at most MaxSiteName bytes.
func validName(s string) bool {
	if len(s) > MaxSiteName || !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if c < 0x20 || (c >= 0x7f && c < 0xa0) {
			return false
		}
	}
	return true
}

// printableASCII: 1 … max bytes of 0x21 … 0x7e (origins and URLs, no spaces).
func printableASCII(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// validateSite checks everything that the site record can hold. The ID is the key,
// not part of the value, but it must not be zero.
func validateSite(s *Site) error {
	switch {
	case s.ID == ids.SiteID{}:
		return ids.Wrap("site ID is zero", ErrInvalid)
	case s.Owner == ids.Key{}:
		return ids.Wrap("site owner key is zero", ErrInvalid)
	case !validName(s.Name):
		return ids.Wrap("site name", ErrInvalid)
	case len(s.Origins) > MaxOrigins:
		return ids.Wrap("too many site origins", ErrInvalid)
	case s.RetentionDays < 0 || s.RetentionDays > MaxRetentionDays:
		return ids.Wrap("site retention days", ErrInvalid)
	case s.PrivacyURL != "" && !printableASCII(s.PrivacyURL, MaxPrivacyURL):
		return ids.Wrap("site privacy URL", ErrInvalid)
	case s.Created < 0:
		return ids.Wrap("site created time", ErrInvalid)
	}
	for i, o := range s.Origins {
		if !printableASCII(o, MaxOrigin) {
			return ids.Wrap("site origin", ErrInvalid)
		}
		for _, p := range s.Origins[:i] {
			if p == o {
				return ids.Wrap("duplicate site origin", ErrInvalid)
			}
		}
	}
	return nil
}

// encodeSite encodes the value of a sites entry (the ID is the key). The site must
// have passed validateSite.
//
//	u16 name length, name | u8 origin count, count × (u16 length, origin) |
//	[32] owner | u32 retention days | u16 privacy URL length, URL | u64 created
func encodeSite(s *Site) []byte {
	n := 2 + len(s.Name) + 1 + 32 + 4 + 2 + len(s.PrivacyURL) + 8
	for _, o := range s.Origins {
		n += 2 + len(o)
	}
	b := make([]byte, 0, n)
	b = binary.BigEndian.AppendUint16(b, uint16(len(s.Name)))
	b = append(b, s.Name...)
	b = append(b, uint8(len(s.Origins)))
	for _, o := range s.Origins {
		b = binary.BigEndian.AppendUint16(b, uint16(len(o)))
		b = append(b, o...)
	}
	b = append(b, s.Owner[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(s.RetentionDays))
	b = binary.BigEndian.AppendUint16(b, uint16(len(s.PrivacyURL)))
	b = append(b, s.PrivacyURL...)
	b = binary.BigEndian.AppendUint64(b, uint64(s.Created))
	return b
}

// decodeSite decodes a sites entry.
func decodeSite(id ids.SiteID, b []byte) (Site, error) {
	r := reader{b: b}
	s := Site{ID: id}
	s.Name = string(r.take(int(r.u16())))
	n := int(r.u8())
	if n > MaxOrigins {
		return Site{}, errRecord("site")
	}
	if n > 0 {
		s.Origins = make([]string, 0, n)
	}
	for i := 0; i < n && !r.bad; i++ {
		s.Origins = append(s.Origins, string(r.take(int(r.u16()))))
	}
	copy(s.Owner[:], r.take(32))
	days := r.u32()
	s.PrivacyURL = string(r.take(int(r.u16())))
	created := r.u64()
	if !r.end() || days > MaxRetentionDays || created > math.MaxInt64 {
		return Site{}, errRecord("site")
	}
	s.RetentionDays = int(days)
	s.Created = int64(created)
	if validateSite(&s) != nil {
		return Site{}, errRecord("site")
	}
	return s, nil
}

// ---- roster ----

// encodeRoster: u64 version (≥ 1) | raw roster (≥ 1 byte).
func encodeRoster(version uint64, raw []byte) []byte {
	b := make([]byte, 8, 8+len(raw))
	binary.BigEndian.PutUint64(b, version)
	return append(b, raw...)
}

// decodeRoster returns the version and a copy of the raw roster.
func decodeRoster(b []byte) (uint64, []byte, error) {
	if len(b) < 9 {
		return 0, nil, errRecord("roster")
	}
	v := binary.BigEndian.Uint64(b)
	if v == 0 {
		return 0, nil, errRecord("roster")
	}
	return v, append([]byte(nil), b[8:]...), nil
}

// ---- conversation meta ----

// convMeta is the "m" record of a conversation bucket.
type convMeta struct {
	Visitor      ids.Key
	Created      int64 // unix s, multiple of 3600
	LastPos      uint64
	DeliveredPos uint64
	State        ConvState
	Agent        ids.Key // set exactly when State is StateLive
}

// encodeConvMeta: [32] visitor | u64 created | u64 last pos | u64 delivered pos |
// u8 state | [32] agent signing key (zero unless live).
func encodeConvMeta(m *convMeta) []byte {
	b := make([]byte, 0, convMetaSize)
	b = append(b, m.Visitor[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(m.Created))
	b = binary.BigEndian.AppendUint64(b, m.LastPos)
	b = binary.BigEndian.AppendUint64(b, m.DeliveredPos)
	b = append(b, byte(m.State))
	return append(b, m.Agent[:]...)
}

func decodeConvMeta(b []byte) (convMeta, error) {
	if len(b) != convMetaSize {
		return convMeta{}, errRecord("conversation meta")
	}
	var m convMeta
	copy(m.Visitor[:], b)
	created := binary.BigEndian.Uint64(b[32:])
	m.LastPos = binary.BigEndian.Uint64(b[40:])
	m.DeliveredPos = binary.BigEndian.Uint64(b[48:])
	m.State = ConvState(b[56])
	copy(m.Agent[:], b[57:])
	if m.Visitor == (ids.Key{}) || created > math.MaxInt64 || created%3600 != 0 ||
		m.DeliveredPos > m.LastPos || !m.State.Valid() || (m.State == StateLive) == (m.Agent == ids.Key{}) {
		return convMeta{}, errRecord("conversation meta")
	}
	m.Created = int64(created)
	return m, nil
}

// ---- sender ----

// senderRec is the value in a conversation's "s" bucket: the last committed seq of a
// sender and the position that envelope got.
type senderRec struct {
	Seq, Pos uint64
}

// encodeSender: u64 seq (≥ 1) | u64 pos (≥ 1).
func encodeSender(r senderRec) []byte {
	b := make([]byte, 0, senderSize)
	b = binary.BigEndian.AppendUint64(b, r.Seq)
	return binary.BigEndian.AppendUint64(b, r.Pos)
}

func decodeSender(b []byte) (senderRec, error) {
	if len(b) != senderSize {
		return senderRec{}, errRecord("sender")
	}
	r := senderRec{Seq: binary.BigEndian.Uint64(b), Pos: binary.BigEndian.Uint64(b[8:])}
	if r.Seq == 0 || r.Pos == 0 {
		return senderRec{}, errRecord("sender")
	}
	return r, nil
}

// ---- envelope value ----

// newEnvelopeValue allocates an envelope value holding a copy of raw; the stored
// time is filled in by putStored when the envelope is committed.
func newEnvelopeValue(raw []byte) []byte {
	b := make([]byte, 8+len(raw))
	copy(b[8:], raw)
	return b
}

func putStored(v []byte, stored int64) { binary.BigEndian.PutUint64(v, uint64(stored)) }

// encodeEnvelope: u64 stored (unix s, multiple of 60) | raw envelope (≥ 1 byte).
func encodeEnvelope(stored int64, raw []byte) []byte {
	b := newEnvelopeValue(raw)
	putStored(b, stored)
	return b
}

// decodeEnvelope returns the stored time and the raw envelope, which aliases b.
func decodeEnvelope(b []byte) (int64, []byte, error) {
	if len(b) < 9 {
		return 0, nil, errRecord("envelope")
	}
	stored := binary.BigEndian.Uint64(b)
	if stored > math.MaxInt64 || stored%60 != 0 {
		return 0, nil, errRecord("envelope")
	}
	return int64(stored), b[8:], nil
}

// ---- counters ----

// counters is the per-site counters record.
type counters struct {
	Conversations, Envelopes uint64
}

// encodeCounters: u64 conversations | u64 envelopes.
func encodeCounters(c counters) []byte {
	b := make([]byte, 0, countersSize)
	b = binary.BigEndian.AppendUint64(b, c.Conversations)
	return binary.BigEndian.AppendUint64(b, c.Envelopes)
}

func decodeCounters(b []byte) (counters, error) {
	if len(b) != countersSize {
		return counters{}, errRecord("counters")
	}
	return counters{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])}, nil
}

// ---- schema version ----

// encodeSchema: u32 version (≥ 1).
func encodeSchema(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func decodeSchema(b []byte) (uint32, error) {
	if len(b) != schemaSize {
		return 0, errRecord("schema version")
	}
	v := binary.BigEndian.Uint32(b)
	if v == 0 {
		return 0, errRecord("schema version")
	}
	return v, nil
}

// ---- keys ----

// posKey is the key of an envelope: its position as u64 big-endian, so that keys sort
// in position order.
func posKey(pos uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), pos) }

func decodePosKey(k []byte) (uint64, error) {
	if len(k) != posKeySize {
		return 0, errRecord("envelope position")
	}
	p := binary.BigEndian.Uint64(k)
	if p == 0 {
		return 0, errRecord("envelope position")
	}
	return p, nil
}

// ---- consent receipts ----

// validReceipt: a decision of 1 or 2 and a time that is a whole minute.
func validReceipt(r *ConsentReceipt) bool {
	return (r.Decision == ConsentAccepted || r.Decision == ConsentDeclined) &&
		r.Time >= 0 && r.Time%60 == 0
}

// sameReceipt reports whether two receipts are equal apart from their time.
func sameReceipt(a, b *ConsentReceipt) bool {
	return a.FlowVersion == b.FlowVersion && a.TextHash == b.TextHash && a.Decision == b.Decision
}

// encodeReceipts encodes the "c" record of a conversation: u8 count (1 … 16) |
// count × (u32 flow version | [32] text hash | u8 decision | u64 time). The list
// must be valid (see decodeReceipts).
func encodeReceipts(list []ConsentReceipt) []byte {
	b := make([]byte, 0, 1+len(list)*receiptSize)
	b = append(b, uint8(len(list)))
	for i := range list {
		r := &list[i]
		b = binary.BigEndian.AppendUint32(b, r.FlowVersion)
		b = append(b, r.TextHash[:]...)
		b = append(b, r.Decision)
		b = binary.BigEndian.AppendUint64(b, uint64(r.Time))
	}
	return b
}

// decodeReceipts decodes a "c" record. It rejects an empty list, more than
// MaxConsentReceipts entries, an unknown decision, a time that is not a whole
// minute, and a receipt equal to the one before it apart from the time (the store
// never writes those).
func decodeReceipts(b []byte) ([]ConsentReceipt, error) {
	if len(b) < 1 {
		return nil, errRecord("consent receipts")
	}
	n := int(b[0])
	if n == 0 || n > MaxConsentReceipts || len(b) != 1+n*receiptSize {
		return nil, errRecord("consent receipts")
	}
	list := make([]ConsentReceipt, n)
	p := b[1:]
	for i := range list {
		r := &list[i]
		r.FlowVersion = binary.BigEndian.Uint32(p)
		copy(r.TextHash[:], p[4:36])
		r.Decision = p[36]
		t := binary.BigEndian.Uint64(p[37:])
		if t > math.MaxInt64 {
			return nil, errRecord("consent receipts")
		}
		r.Time = int64(t)
		if !validReceipt(r) || (i > 0 && sameReceipt(r, &list[i-1])) {
			return nil, errRecord("consent receipts")
		}
		p = p[receiptSize:]
	}
	return list, nil
}

// ---- flow ----

// encodeFlow: u32 revision (≥ 1) | compiled flow (1 … MaxFlowSize bytes).
func encodeFlow(revision uint32, compiled []byte) []byte {
	b := make([]byte, 4, 4+len(compiled))
	binary.BigEndian.PutUint32(b, revision)
	return append(b, compiled...)
}

// decodeFlow returns the revision and the compiled flow, which aliases b.
func decodeFlow(b []byte) (uint32, []byte, error) {
	if len(b) < 5 || len(b) > 4+MaxFlowSize {
		return 0, nil, errRecord("flow")
	}
	rev := binary.BigEndian.Uint32(b)
	if rev == 0 {
		return 0, nil, errRecord("flow")
	}
	return rev, b[4:], nil
}

func errRecord(what string) error { return ids.Wrap("decode "+what+" record", ErrCorrupt) }

// ---- erasure records ----

// Fixed sizes of the erasure records.
const (
	tombKeySize  = 32
	auditSize    = 1 + 8 // u8 reason | u64 day
	requestSize  = 8     // u64 counter
	replacedSize = 8     // u64 new pos
)

// decodeTombKey checks the tombstones' HMAC key in meta.
func decodeTombKey(b []byte) ([32]byte, error) {
	var k [32]byte
	if len(b) != tombKeySize || [32]byte(b) == k {
		return k, errRecord("tombstone key")
	}
	return [32]byte(b), nil
}

// tombValue is the value of every tombstone: u8 1. A tombstone records only that
// a conversation was erased, not when.
var tombValue = []byte{1}

func decodeTomb(b []byte) error {
	if len(b) != 1 || b[0] != 1 {
		return errRecord("tombstone")
	}
	return nil
}

// encodeAudit: u8 reason (1 … 3) | u64 day (a multiple of 86400).
func encodeAudit(reason EraseReason, day int64) []byte {
	b := make([]byte, 0, auditSize)
	b = append(b, uint8(reason))
	return binary.BigEndian.AppendUint64(b, uint64(day))
}

func decodeAudit(b []byte) (EraseReason, int64, error) {
	if len(b) != auditSize {
		return 0, 0, errRecord("audit entry")
	}
	r := EraseReason(b[0])
	d := binary.BigEndian.Uint64(b[1:])
	if !r.valid() || d > math.MaxInt64 || d%86400 != 0 {
		return 0, 0, errRecord("audit entry")
	}
	return r, int64(d), nil
}

// encodeCounter: u64 request counter (≥ 1). Also the value of a replaced position
// (u64 new pos ≥ 1).
func encodeCounter(c uint64) []byte { return binary.BigEndian.AppendUint64(nil, c) }

func decodeCounter(b []byte, what string) (uint64, error) {
	if len(b) != 8 {
		return 0, errRecord(what)
	}
	c := binary.BigEndian.Uint64(b)
	if c == 0 {
		return 0, errRecord(what)
	}
	return c, nil
}
