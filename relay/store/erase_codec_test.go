package store

import (
	"bytes"
	"errors"
	"testing"
)

// Fuzz targets of the erasure records (docs/STORAGE.md §3): whatever decodes must
// encode back to the same bytes; everything else is ErrCorrupt.

func FuzzAudit(f *testing.F) {
	f.Add(encodeAudit(EraseAgent, 86400*20000))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, day, err := decodeAudit(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		if !r.valid() || day%86400 != 0 || !bytes.Equal(encodeAudit(r, day), b) {
			t.Fatalf("audit %d %d does not encode back", r, day)
		}
	})
}

func FuzzTombstone(f *testing.F) {
	f.Add(tombValue)
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := decodeTomb(b); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		if !bytes.Equal(tombValue, b) {
			t.Fatalf("tombstone %x accepted", b)
		}
	})
}

func FuzzRequestCounter(f *testing.F) {
	f.Add(encodeCounter(1700000000123))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeCounter(b, "request counter")
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		if c == 0 || !bytes.Equal(encodeCounter(c), b) {
			t.Fatalf("counter %d does not encode back", c)
		}
	})
}

func FuzzTombKey(f *testing.F) {
	f.Add(bytes.Repeat([]byte{7}, 32))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := decodeTombKey(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		if k == ([32]byte{}) || !bytes.Equal(k[:], b) {
			t.Fatalf("key %x does not encode back", k)
		}
	})
}
