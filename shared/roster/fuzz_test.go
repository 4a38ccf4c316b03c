package roster

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
)

// FuzzRosterParse checks that Parse never panics and fails only with the
// documented errors. To reach past the signature, it also re-signs the input
// with a fixed owner key (putting that key in the owner field): whatever then
// parses must be canonical, that is Encode reproduces it byte for byte.
func FuzzRosterParse(f *testing.F) {
	f.Add(vector(f))
	k := ownerKey()
	owner := pubOf(k)
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := Parse(b); err != nil {
			if r != nil {
				t.Fatal("roster and error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupportedVersion) && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("unexpected error %v", err)
			}
		}

		if len(b) < 1+16+32+sigSize {
			return
		}
		m := append([]byte(nil), b[:len(b)-sigSize]...)
		copy(m[17:49], owner[:])
		m = append(m, ed25519.Sign(k, append([]byte(Domain), m...))...)
		r, err := Parse(m)
		if err != nil {
			if errors.Is(err, ErrBadSignature) {
				t.Fatalf("re-signed roster: %v", err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupportedVersion) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		again, err := r.Encode(k)
		if err != nil {
			t.Fatalf("Encode of a parsed roster: %v", err)
		}
		if !bytes.Equal(again, m) {
			t.Fatalf("not canonical:\n  in %x\n out %x", m, again)
		}
	})
}
