package keyfile

import (
	"bytes"
	"errors"
	"testing"
)

// fuzzLimits keep argon2id cheap while fuzzing; files asking for more are
// refused as malformed, before any key derivation.
var fuzzLimits = limits{maxTime: 1, maxMemory: 8192, maxThreads: 1}

// FuzzKeyfileOpen checks that opening never panics, fails only with the
// documented errors, and accepts only canonical files: whatever opens, Seal
// reproduces byte for byte from the same salt, nonce and parameters.
func FuzzKeyfileOpen(f *testing.F) {
	f.Add(vector(f))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := open(in, vectorPassphrase, fuzzLimits)
		if err != nil {
			if s != (Secret{}) {
				t.Fatal("secret and error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupportedVersion) && !errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		b, err := decodeText(in)
		if err != nil {
			t.Fatal(err)
		}
		p := Params{Time: 1, MemoryKiB: 8192, Threads: 1}
		rnd := bytes.NewReader(append(append([]byte(nil), b[49:65]...), b[74:98]...))
		again, err := Seal(rnd, s, vectorPassphrase, p)
		if err != nil {
			t.Fatalf("Seal of an opened secret: %v", err)
		}
		if want, _ := decodeText(again); !bytes.Equal(want, b) {
			t.Fatalf("not canonical:\n  in %x\n out %x", b, want)
		}
	})
}
