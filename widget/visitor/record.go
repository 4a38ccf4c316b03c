// Package visitor is the pure-Go part of the visitor widget: the record kept in
// the frame origin's localStorage, the bot (Bot: runs the site's flow and
// decides which transcript entries leave the browser, and when), the chat logic
// (Chat: routes the visitor's actions to the bot or the session, and the bot's
// prompts to the view), the view-model of the chat (messages, status, alert,
// unread count), the reconnect backoff, and the visitor's rights: the "My
// data" view (History, View), corrections and the erasure (rights.go), the
// export files (export.go) and the conversation code (code.go). The DOM
// wiring lives in widget/cmd/visitor.
package visitor

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"unicode/utf8"

	"siegel/shared/content"
	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/widget/session"
)

// RecordVersion is the version byte of the storage record written now.
// DecodeRecord also reads versions 1 (written before the bot) and 2 (before
// signed requests).
const RecordVersion = 3

// MaxLocalCorrections is the largest number of local corrections a record holds.
const MaxLocalCorrections = 1024

// MaxRoster is the largest roster a record holds (a roster of 64 agents with the
// longest names is 9410 bytes).
const MaxRoster = 16384

// MaxBotState is the largest bot engine state a record holds.
const MaxBotState = 3 << 20

// ErrRecord is returned for a storage record that is not the exact encoding of a
// Record.
var ErrRecord = errors.New("visitor: invalid storage record")

// StorageKey returns the localStorage key of a site's record.
func StorageKey(site ids.SiteID) string { return "siegel.v1." + site.String() }

// Record is everything the widget keeps between page loads: the conversation keys,
// the session state (sequence numbers, cursor, roster, unsent envelopes and
// consent receipts) and the bot's state.
//
// Encoding (big-endian):
//
//	u8   version = 2
//	[32] Ed25519 seed
//	[32] X25519 private key
//	u64  next seq             ≥ 1
//	u64  last seen position
//	u64  highest roster version seen
//	u32  roster length        0 … MaxRoster
//	[..] roster
//	u16  outbox count n       0 … session.MaxOutbox
//	n ×  (u32 length, [..] envelope)   consecutive seqs ending at next seq − 1
//	u8   consent count c      0 … session.MaxConsents
//	c ×  (u32 flow version ≥ 1, [32] text hash, u8 decision: 1 accepted, 2 declined)
//	u32  flow revision        0: no bot state (then the next two fields are 0)
//	u32  transcript entries sealed
//	u32  engine state length  0 … MaxBotState (≥ 1 when the flow revision is)
//	[..] engine state         (widget/flowengine MarshalState)
//	u64  request counter      the last signed-request counter used
//	u16  local corrections k  0 … MaxLocalCorrections (0 without a flow revision)
//	k ×  (u32 transcript index, strictly ascending; u32 length 1 … 16384; [..] UTF-8 value)
//
// Version 1 ends after the outbox, version 2 after the engine state. The text
// form stored in localStorage is standard base64 with padding.
type Record struct {
	Seed, BoxPriv [32]byte
	State         session.State
	Bot           BotState // zero: no bot state
}

// Encode returns the binary form of r (always the current version).
func (r *Record) Encode() []byte {
	st := &r.State
	n := 1 + 64 + 24 + 4 + len(st.Roster) + 2 + 1 + len(st.Consents)*37 + 12 + len(r.Bot.Engine)
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
	b = append(b, byte(len(st.Consents)))
	for _, c := range st.Consents {
		b = binary.BigEndian.AppendUint32(b, c.FlowVersion)
		b = append(b, c.TextHash[:]...)
		d := byte(2)
		if c.Accepted {
			d = 1
		}
		b = append(b, d)
	}
	b = binary.BigEndian.AppendUint32(b, r.Bot.Revision)
	b = binary.BigEndian.AppendUint32(b, r.Bot.Sealed)
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Bot.Engine)))
	b = append(b, r.Bot.Engine...)
	b = binary.BigEndian.AppendUint64(b, st.Counter)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Bot.Corrections)))
	for _, c := range r.Bot.Corrections {
		b = binary.BigEndian.AppendUint32(b, c.Index)
		b = binary.BigEndian.AppendUint32(b, uint32(len(c.Value)))
		b = append(b, c.Value...)
	}
	return b
}

// EncodeText returns the base64 text form of r for localStorage.
func (r *Record) EncodeText() string { return base64.StdEncoding.EncodeToString(r.Encode()) }

// DecodeRecord parses the binary form (version 2, or 1) strictly: exact
// lengths, no trailing bytes, every outbox entry a well-formed envelope, their
// seqs consecutive and ending at next seq − 1, known consent decisions, no bot
// fields without a flow revision. It does not check keys, signatures or the
// engine state (session.New and RestoreBot do).
func DecodeRecord(b []byte) (*Record, error) {
	d := reader{b: b}
	version := d.u8()
	if version < 1 || version > RecordVersion {
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
	if version >= 2 {
		n := int(d.u8())
		if n > session.MaxConsents {
			return nil, ErrRecord
		}
		for i := 0; i < n && !d.bad; i++ {
			c := session.Consent{FlowVersion: d.u32()}
			copy(c.TextHash[:], d.take(32))
			switch d.u8() {
			case 1:
				c.Accepted = true
			case 2:
			default:
				return nil, ErrRecord
			}
			if c.FlowVersion == 0 {
				return nil, ErrRecord
			}
			st.Consents = append(st.Consents, c)
		}
		bot := &r.Bot
		bot.Revision, bot.Sealed = d.u32(), d.u32()
		n = int(d.u32())
		if d.bad || n > MaxBotState || (bot.Revision == 0) != (n == 0) || bot.Revision == 0 && bot.Sealed != 0 {
			return nil, ErrRecord
		}
		if n > 0 {
			bot.Engine = append([]byte(nil), d.take(n)...)
		}
	}
	if version >= 3 {
		st.Counter = d.u64()
		k := int(d.u16())
		if k > MaxLocalCorrections || k > 0 && r.Bot.Revision == 0 {
			return nil, ErrRecord
		}
		for i := 0; i < k && !d.bad; i++ {
			c := LocalCorrection{Index: d.u32()}
			n := d.u32()
			if n == 0 || n > content.MaxText || i > 0 && c.Index <= r.Bot.Corrections[i-1].Index {
				return nil, ErrRecord
			}
			v := d.take(int(n))
			if d.bad || !utf8.Valid(v) {
				return nil, ErrRecord
			}
			c.Value = string(v)
			r.Bot.Corrections = append(r.Bot.Corrections, c)
		}
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
