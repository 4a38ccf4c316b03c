package x25519

import (
	"bytes"
	"testing"

	"golang.org/x/crypto/nacl/box"
)

// FuzzX25519 compares X25519 with golang.org/x/crypto/curve25519 and SharedKey
// with nacl/box.Precompute on arbitrary scalars and points.
func FuzzX25519(f *testing.F) {
	f.Add(bytes.Repeat([]byte{1}, 32), Basepoint[:])
	low := h32(f, lowOrder[2])
	f.Add(bytes.Repeat([]byte{2}, 32), low[:])
	f.Fuzz(func(t *testing.T, k, u []byte) {
		var kk, uu [32]byte
		copy(kk[:], k)
		copy(uu[:], u)
		err := check(t, kk, uu)
		key, kerr := SharedKey(kk, uu)
		if (err == nil) != (kerr == nil) {
			t.Fatalf("X25519 error %v, SharedKey error %v", err, kerr)
		}
		if kerr == nil {
			var want [32]byte
			box.Precompute(&want, &uu, &kk)
			if key != want {
				t.Fatalf("SharedKey = %x, box.Precompute %x", key, want)
			}
		}
	})
}
