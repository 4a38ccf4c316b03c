package store

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// Every decoder accepts exactly the encodings: whatever decodes must encode back to
// the same bytes. The seed corpora under testdata/fuzz hold valid records and
// near misses.

func FuzzSite(f *testing.F) {
	site := testSite(1)
	f.Add(encodeSite(&site))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSite(siteID(1), b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		if validateSite(&s) != nil || !bytes.Equal(encodeSite(&s), b) {
			t.Fatalf("decoded %+v does not encode back to the input", s)
		}
	})
}

func FuzzRoster(f *testing.F) {
	f.Add(encodeRoster(3, []byte("roster")))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, raw, err := decodeRoster(b)
		if err != nil {
			return
		}
		if v == 0 || len(raw) == 0 || !bytes.Equal(encodeRoster(v, raw), b) {
			t.Fatalf("roster %d %x does not encode back", v, raw)
		}
	})
}

func FuzzConvMeta(f *testing.F) {
	f.Add(encodeConvMeta(&convMeta{Visitor: key(1), Created: 3600 * 400000, LastPos: 5, DeliveredPos: 2}))
	f.Add(encodeConvMeta(&convMeta{Visitor: key(1), Created: 3600, State: StateLive, Agent: key(2)}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeConvMeta(b)
		if err != nil {
			return
		}
		if m.DeliveredPos > m.LastPos || m.Created%3600 != 0 || !bytes.Equal(encodeConvMeta(&m), b) {
			t.Fatalf("meta %+v does not encode back", m)
		}
	})
}

func FuzzSender(f *testing.F) {
	f.Add(encodeSender(senderRec{Seq: 7, Pos: 9}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeSender(b)
		if err != nil {
			return
		}
		if r.Seq == 0 || r.Pos == 0 || !bytes.Equal(encodeSender(r), b) {
			t.Fatalf("sender %+v does not encode back", r)
		}
	})
}

func FuzzEnvelope(f *testing.F) {
	f.Add(encodeEnvelope(1700000040, []byte("ciphertext")))
	f.Fuzz(func(t *testing.T, b []byte) {
		stored, raw, err := decodeEnvelope(b)
		if err != nil {
			return
		}
		if stored%60 != 0 || len(raw) == 0 || !bytes.Equal(encodeEnvelope(stored, raw), b) {
			t.Fatalf("envelope %d %x does not encode back", stored, raw)
		}
	})
}

func FuzzCounters(f *testing.F) {
	f.Add(encodeCounters(counters{3, 99}))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeCounters(b)
		if err != nil {
			return
		}
		if !bytes.Equal(encodeCounters(c), b) {
			t.Fatalf("counters %+v do not encode back", c)
		}
	})
}

func FuzzSchema(f *testing.F) {
	f.Add(encodeSchema(1))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeSchema(b)
		if err != nil {
			return
		}
		if v == 0 || !bytes.Equal(encodeSchema(v), b) {
			t.Fatalf("schema %d does not encode back", v)
		}
	})
}

func FuzzPosKey(f *testing.F) {
	f.Add(posKey(1))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePosKey(b)
		if err != nil {
			return
		}
		if p == 0 || !bytes.Equal(posKey(p), b) {
			t.Fatalf("pos %d does not encode back", p)
		}
	})
}

func FuzzConsentReceipts(f *testing.F) {
	f.Add(encodeReceipts([]ConsentReceipt{
		{FlowVersion: 3, TextHash: [32]byte{1}, Decision: ConsentAccepted, Time: 1700000040},
		{FlowVersion: 3, TextHash: [32]byte{1}, Decision: ConsentDeclined, Time: 1700000100},
	}))
	f.Fuzz(func(t *testing.T, b []byte) {
		list, err := decodeReceipts(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		if len(list) == 0 || len(list) > MaxConsentReceipts || !bytes.Equal(encodeReceipts(list), b) {
			t.Fatalf("receipts %+v do not encode back", list)
		}
		for i := range list {
			if !validReceipt(&list[i]) || (i > 0 && sameReceipt(&list[i], &list[i-1])) {
				t.Fatalf("decoded an invalid list %+v", list)
			}
		}
	})
}

func FuzzFlow(f *testing.F) {
	f.Add(encodeFlow(2, []byte("compiled flow")))
	f.Fuzz(func(t *testing.T, b []byte) {
		rev, body, err := decodeFlow(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		if rev == 0 || len(body) == 0 || len(body) > MaxFlowSize || !bytes.Equal(encodeFlow(rev, body), b) {
			t.Fatalf("flow %d %x does not encode back", rev, body)
		}
	})
}

func TestSiteRoundTrip(t *testing.T) {
	for _, s := range []Site{
		testSite(1),
		{ID: siteID(2), Owner: key(2)},
		{ID: siteID(3), Name: "日本語 ✓", Owner: key(3), Origins: []string{"http://127.0.0.1:8080"},
			RetentionDays: MaxRetentionDays, Created: 1<<63 - 1},
	} {
		b := encodeSite(&s)
		got, err := decodeSite(s.ID, b)
		if err != nil || !equalSite(got, s) {
			t.Fatalf("round trip of %+v: %+v %v", s, got, err)
		}
	}
}

func TestDecodersRejectNearMisses(t *testing.T) {
	site := testSite(1)
	good := encodeSite(&site)
	bad := map[string][]byte{
		"site trailing":   append(append([]byte(nil), good...), 0),
		"site short":      good[:len(good)-1],
		"site empty":      nil,
		"site zero owner": encodeSite(&Site{ID: siteID(1), Name: "x"}),
	}
	for name, b := range bad {
		if _, err := decodeSite(siteID(1), b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: decodeSite = %v", name, err)
		}
	}
	checks := []struct {
		name string
		err  error
	}{
		{"roster version 0", errOf2(decodeRoster(encodeRoster(0, []byte("r"))))},
		{"roster empty raw", errOf2(decodeRoster(encodeRoster(1, nil)))},
		{"meta hour", errOf(decodeConvMeta(encodeConvMeta(&convMeta{Visitor: key(1), Created: 3601})))},
		{"meta delivered", errOf(decodeConvMeta(encodeConvMeta(&convMeta{Visitor: key(1), LastPos: 1, DeliveredPos: 2})))},
		{"meta zero visitor", errOf(decodeConvMeta(encodeConvMeta(&convMeta{})))},
		{"meta long", errOf(decodeConvMeta(append(encodeConvMeta(&convMeta{Visitor: key(1)}), 0)))},
		{"meta schema 3", errOf(decodeConvMeta(encodeConvMeta(&convMeta{Visitor: key(1)})[:convMetaV3Size]))},
		{"meta state 4", errOf(decodeConvMeta(encodeConvMeta(&convMeta{Visitor: key(1), State: 4})))},
		{"meta live without agent", errOf(decodeConvMeta(encodeConvMeta(&convMeta{Visitor: key(1), State: StateLive})))},
		{"meta waiting with agent", errOf(decodeConvMeta(encodeConvMeta(&convMeta{Visitor: key(1), State: StateWaiting, Agent: key(2)})))},
		{"sender seq 0", errOf(decodeSender(encodeSender(senderRec{0, 1})))},
		{"sender short", errOf(decodeSender(make([]byte, 15)))},
		{"envelope minute", errOf2(decodeEnvelope(encodeEnvelope(61, []byte("x"))))},
		{"envelope empty", errOf2(decodeEnvelope(encodeEnvelope(60, nil)))},
		{"envelope negative", errOf2(decodeEnvelope(encodeEnvelope(-60, []byte("x"))))},
		{"counters short", errOf(decodeCounters(make([]byte, 15)))},
		{"schema 0", errOf(decodeSchema(encodeSchema(0)))},
		{"schema long", errOf(decodeSchema(make([]byte, 8)))},
		{"receipts empty list", errOf(decodeReceipts([]byte{0}))},
		{"receipts none", errOf(decodeReceipts(nil))},
		{"receipts too many", errOf(decodeReceipts(encodeReceipts(manyReceipts(MaxConsentReceipts + 1))))},
		{"receipts short", errOf(decodeReceipts(encodeReceipts(manyReceipts(2))[:1+receiptSize+3]))},
		{"receipts trailing", errOf(decodeReceipts(append(encodeReceipts(manyReceipts(1)), 0)))},
		{"receipt decision 0", errOf(decodeReceipts(encodeReceipts([]ConsentReceipt{{Decision: 0}})))},
		{"receipt decision 3", errOf(decodeReceipts(encodeReceipts([]ConsentReceipt{{Decision: 3}})))},
		{"receipt minute", errOf(decodeReceipts(encodeReceipts([]ConsentReceipt{{Decision: 1, Time: 61}})))},
		{"receipt negative", errOf(decodeReceipts(encodeReceipts([]ConsentReceipt{{Decision: 1, Time: -60}})))},
		{"receipt repeated", errOf(decodeReceipts(encodeReceipts([]ConsentReceipt{{Decision: 1}, {Decision: 1, Time: 60}})))},
		{"flow revision 0", errOf2(decodeFlow(encodeFlow(0, []byte("f"))))},
		{"flow empty", errOf2(decodeFlow(encodeFlow(1, nil)))},
		{"flow too large", errOf2(decodeFlow(encodeFlow(1, make([]byte, MaxFlowSize+1))))},
		{"pos 0", errOf(decodePosKey(posKey(0)))},
		{"pos short", errOf(decodePosKey(make([]byte, 7)))},
	}
	for _, c := range checks {
		if !errors.Is(c.err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", c.name, c.err)
		}
	}
}

// errOf and errOf2 keep only the error of a decoder's results.
func errOf[A any](_ A, err error) error          { return err }
func errOf2[A, B any](_ A, _ B, err error) error { return err }

// manyReceipts returns n valid receipts, each different from the one before.
func manyReceipts(n int) []ConsentReceipt {
	list := make([]ConsentReceipt, n)
	for i := range list {
		list[i] = ConsentReceipt{FlowVersion: uint32(i), Decision: ConsentAccepted, Time: 60 * int64(i)}
	}
	return list
}

func TestReceiptsRoundTrip(t *testing.T) {
	for _, list := range [][]ConsentReceipt{
		manyReceipts(1),
		manyReceipts(MaxConsentReceipts),
		{{FlowVersion: 1<<32 - 1, TextHash: [32]byte{31: 9}, Decision: ConsentDeclined, Time: 1<<63 - 1 - (1<<63-1)%60}},
	} {
		got, err := decodeReceipts(encodeReceipts(list))
		if err != nil || !slices.Equal(got, list) {
			t.Fatalf("round trip of %+v: %+v %v", list, got, err)
		}
	}
}
