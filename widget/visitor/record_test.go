package visitor

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/widget/session"
)

// sampleRecord builds a record with a roster-like blob and n sealed outbox
// entries (consecutive seqs ending at NextSeq-1).
func sampleRecord(t testing.TB, n int) *Record {
	t.Helper()
	id, err := envelope.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var site ids.SiteID
	site[0] = 7
	conv := ids.ConversationID(site, id.SignKey())
	r := &Record{Seed: id.Seed(), BoxPriv: id.BoxPrivate()}
	r.State = session.State{NextSeq: 5 + uint64(n), LastPos: 9, RosterVersion: 3, Roster: []byte("roster bytes")}
	for i := 0; i < n; i++ {
		raw, err := envelope.Seal(rand.Reader, id, []ids.Key{id.BoxKey()}, envelope.Message{
			Site: site, Conv: conv, Seq: 5 + uint64(i), Type: envelope.ContentText, Time: 1, Content: []byte("hallo")})
		if err != nil {
			t.Fatal(err)
		}
		r.State.Outbox = append(r.State.Outbox, raw)
	}
	return r
}

func TestRecordRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		r := sampleRecord(t, n)
		text := r.EncodeText()
		got, err := DecodeRecordText(text)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if got.Seed != r.Seed || got.BoxPriv != r.BoxPriv || got.State.NextSeq != r.State.NextSeq ||
			got.State.LastPos != 9 || got.State.RosterVersion != 3 || !bytes.Equal(got.State.Roster, r.State.Roster) ||
			len(got.State.Outbox) != n {
			t.Fatalf("n=%d: round trip differs: %+v", n, got)
		}
		for i := range got.State.Outbox {
			if !bytes.Equal(got.State.Outbox[i], r.State.Outbox[i]) {
				t.Fatalf("outbox %d differs", i)
			}
		}
		// The restored keys are the same identity.
		id, err := envelope.IdentityFromKeys(got.Seed, got.BoxPriv)
		if err != nil {
			t.Fatal(err)
		}
		orig, _ := envelope.IdentityFromKeys(r.Seed, r.BoxPriv)
		if id.SignKey() != orig.SignKey() || id.BoxKey() != orig.BoxKey() {
			t.Fatal("keys differ")
		}
	}
	// An empty roster round-trips as nil.
	r := sampleRecord(t, 0)
	r.State.Roster = nil
	got, err := DecodeRecord(r.Encode())
	if err != nil || got.State.Roster != nil {
		t.Fatalf("empty roster: %v %v", got, err)
	}
}

func TestRecordStrict(t *testing.T) {
	r := sampleRecord(t, 2)
	good := r.Encode()
	if _, err := DecodeRecord(good); err != nil {
		t.Fatal(err)
	}
	const hdr = 1 + 64 // offset of next seq
	rosterLenOff := hdr + 24
	countOff := rosterLenOff + 4 + len(r.State.Roster)
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	cases := map[string][]byte{
		"empty":         nil,
		"version 0":     mut(func(b []byte) []byte { b[0] = 0; return b }),
		"version 4":     mut(func(b []byte) []byte { b[0] = 4; return b }),
		"version 1":     mut(func(b []byte) []byte { b[0] = 1; return b }), // v2 fields left over
		"version 2":     mut(func(b []byte) []byte { b[0] = 2; return b }), // v3 fields left over
		"trailing":      append(bytes.Clone(good), 0),
		"truncated":     good[:len(good)-1],
		"header only":   good[:hdr],
		"next seq zero": mut(func(b []byte) []byte { binary.BigEndian.PutUint64(b[hdr:], 0); return b }),
		"next seq off":  mut(func(b []byte) []byte { binary.BigEndian.PutUint64(b[hdr:], 9); return b }),
		"roster len":    mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[rosterLenOff:], 13); return b }),
		"roster huge":   mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[rosterLenOff:], MaxRoster+1); return b }),
		"count high":    mut(func(b []byte) []byte { binary.BigEndian.PutUint16(b[countOff:], 3); return b }),
		"count low":     mut(func(b []byte) []byte { binary.BigEndian.PutUint16(b[countOff:], 1); return b }),
		"envelope len0": mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[countOff+2:], 0); return b }),
		"envelope junk": mut(func(b []byte) []byte { b[countOff+2+4] = 9; return b }),
	}
	// Entries out of order.
	swapped := *r
	swapped.State.Outbox = [][]byte{r.State.Outbox[1], r.State.Outbox[0]}
	cases["order"] = swapped.Encode()
	// More entries than sequence numbers before NextSeq.
	few := *r
	few.State.NextSeq = 2
	cases["count vs next"] = few.Encode()
	for name, b := range cases {
		if _, err := DecodeRecord(b); !errors.Is(err, ErrRecord) {
			t.Errorf("%s: %v", name, err)
		}
	}
	text := r.EncodeText()
	for name, s := range map[string]string{
		"not base64":  "***",
		"url base64":  base64.RawURLEncoding.EncodeToString(good),
		"line breaks": text[:10] + "\n" + text[10:],
		"empty":       "",
	} {
		if _, err := DecodeRecordText(s); !errors.Is(err, ErrRecord) {
			t.Errorf("text %s: %v", name, err)
		}
	}
}

// botRecord is a record with queued consent receipts and a bot state.
func botRecord(t testing.TB) *Record {
	r := sampleRecord(t, 1)
	r.State.Consents = []session.Consent{{FlowVersion: 7, TextHash: [32]byte{1, 2}, Accepted: true},
		{FlowVersion: 8, TextHash: [32]byte{3}}}
	r.Bot = BotState{Revision: 7, Sealed: 3, Engine: []byte("SFE\x01engine state")}
	return r
}

func TestRecordBotAndConsents(t *testing.T) {
	r := botRecord(t)
	got, err := DecodeRecordText(r.EncodeText())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, r)
	}
	good := r.Encode()
	tail := len(good) - 10 - len(r.Bot.Engine) - 12 // flow revision
	consents := tail - 2*37 - 1                     // consent count
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for name, b := range map[string][]byte{
		"consent count":    mut(func(b []byte) []byte { b[consents] = 3; return b }),
		"too many":         mut(func(b []byte) []byte { b[consents] = session.MaxConsents + 1; return b }),
		"decision 0":       mut(func(b []byte) []byte { b[consents+1+36] = 0; return b }),
		"decision 3":       mut(func(b []byte) []byte { b[consents+1+36] = 3; return b }),
		"flow version 0":   mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[consents+1:], 0); return b }),
		"engine length":    mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[tail+8:], 99); return b }),
		"engine too large": mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[tail+8:], MaxBotState+1); return b }),
		"revision 0":       mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[tail:], 0); return b }),
		"no bot fields":    good[:tail],
		"no v3 fields":     good[:len(good)-10],
		"trailing":         append(bytes.Clone(good), 0),
	} {
		if _, err := DecodeRecord(b); !errors.Is(err, ErrRecord) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Without a bot: revision, sealed and engine are all zero.
	r.Bot = BotState{}
	if _, err := DecodeRecord(r.Encode()); err != nil {
		t.Fatal(err)
	}
	r.Bot.Sealed = 1
	if _, err := DecodeRecord(r.Encode()); !errors.Is(err, ErrRecord) {
		t.Fatalf("sealed without a bot: %v", err)
	}
	r.Bot = BotState{Revision: 3}
	if _, err := DecodeRecord(r.Encode()); !errors.Is(err, ErrRecord) {
		t.Fatalf("revision without an engine state: %v", err)
	}
}

// A record written before the bot (version 1) is still read: the
// conversation keys and queue survive the update.
func TestRecordVersion1(t *testing.T) {
	r := sampleRecord(t, 2)
	v3 := r.Encode()
	v1 := append([]byte{1}, v3[1:len(v3)-10-1-12]...) // no consents, no bot fields, no counter
	got, err := DecodeRecord(v1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("version 1:\n got %+v\nwant %+v", got, r)
	}
	if !bytes.Equal(got.Encode(), v3) {
		t.Fatal("a version 1 record is not rewritten as version 3")
	}
	if _, err := DecodeRecord(append(v1, 0)); !errors.Is(err, ErrRecord) {
		t.Fatalf("version 1 with trailing byte: %v", err)
	}
}

// A record written before signed requests (version 2) is still read, with
// counter 0 and no local corrections.
func TestRecordVersion2(t *testing.T) {
	r := botRecord(t)
	v3 := r.Encode()
	v2 := append([]byte{2}, v3[1:len(v3)-10]...)
	got, err := DecodeRecord(v2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("version 2:\n got %+v\nwant %+v", got, r)
	}
	if !bytes.Equal(got.Encode(), v3) {
		t.Fatal("a version 2 record is not rewritten as version 3")
	}
}

// Version 3 keeps the request counter and the answers corrected in the browser.
func TestRecordCounterAndCorrections(t *testing.T) {
	r := botRecord(t)
	r.State.Counter = 1750000000123
	r.Bot.Corrections = []LocalCorrection{{Index: 4, Value: "neu@example.com"}, {Index: 9, Value: "Zoë"}}
	good := r.Encode()
	got, err := DecodeRecordText(r.EncodeText())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, r)
	}
	// Offsets from the end: the second correction's value, its length, its index.
	second := len(good) - len("Zoë")
	first := second - 8 - len("neu@example.com")
	count := first - 8 - 2
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for name, b := range map[string][]byte{
		"unsorted":    mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[second-8:], 4); return b }),
		"zero length": mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[first-4:], 0); return b }),
		"long length": mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[second-4:], 5); return b }),
		"bad utf-8":   mut(func(b []byte) []byte { b[len(b)-1] = 0xff; return b }),
		"count high":  mut(func(b []byte) []byte { binary.BigEndian.PutUint16(b[count:], 3); return b }),
		"count huge":  mut(func(b []byte) []byte { binary.BigEndian.PutUint16(b[count:], MaxLocalCorrections+1); return b }),
		"trailing":    append(bytes.Clone(good), 0),
		"truncated":   good[:len(good)-1],
		"no counter":  good[:count-8],
	} {
		if _, err := DecodeRecord(b); !errors.Is(err, ErrRecord) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Corrections belong to a bot state.
	r.Bot = BotState{Corrections: r.Bot.Corrections}
	if _, err := DecodeRecord(r.Encode()); !errors.Is(err, ErrRecord) {
		t.Fatalf("corrections without a bot: %v", err)
	}
}

func TestStorageKey(t *testing.T) {
	var site ids.SiteID
	site[15] = 1
	if got := StorageKey(site); got != "siegel.v1.AAAAAAAAAAAAAAAAAAAAAQ" {
		t.Fatalf("key %q", got)
	}
}

func FuzzState(f *testing.F) {
	f.Add(sampleRecord(f, 0).Encode())
	f.Add(sampleRecord(f, 2).Encode())
	f.Add(botRecord(f).Encode())
	withCorr := botRecord(f)
	withCorr.State.Counter = 42
	withCorr.Bot.Corrections = []LocalCorrection{{Index: 1, Value: "x"}}
	f.Add(withCorr.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRecord(b)
		if err != nil {
			if !errors.Is(err, ErrRecord) {
				t.Fatalf("error class: %v", err)
			}
			return
		}
		enc := r.Encode()
		if b[0] == RecordVersion && !bytes.Equal(enc, b) {
			t.Fatal("decoded record does not re-encode to the same bytes")
		}
		if again, err := DecodeRecord(enc); err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("re-encoded record differs: %v", err)
		}
		if _, err := DecodeRecordText(r.EncodeText()); err != nil {
			t.Fatalf("text form: %v", err)
		}
	})
}
