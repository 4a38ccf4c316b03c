package protocol

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode checks that Decode never panics, fails only with the documented
// errors, and accepts only canonical frames: whatever it accepts, Encode
// reproduces byte for byte.
func FuzzDecode(f *testing.F) {
	for _, b := range readVectors(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		id, fr, err := Decode(b)
		if err != nil {
			if fr != nil {
				t.Fatal("frame and error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupportedVersion) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if got := Encode(id, fr); !bytes.Equal(got, b) {
			t.Fatalf("not canonical:\n  in %x\n out %x", b, got)
		}
	})
}
