package sig

import (
	"crypto/sha512"
	"math/rand/v2"
	"testing"
)

// TestSum512 holds sum512 (shared/sha2 in WebAssembly, crypto/sha512
// natively) to crypto/sha512 of the concatenation, with parts around the
// block and padding boundaries.
func TestSum512(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	buf := make([]byte, 800)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	lens := []int{0, 1, 32, 64, 111, 112, 127, 128, 129, 300}
	for _, la := range lens {
		for _, lb := range lens {
			for _, lc := range []int{0, 1, 55, 112, 128} {
				a, b, c := buf[:la], buf[la:la+lb], buf[la+lb:la+lb+lc]
				want := sha512.Sum512(buf[:la+lb+lc])
				if got := sum512(a, b, c); got != want {
					t.Fatalf("sum512 of parts %d, %d, %d = %x, want %x", la, lb, lc, got, want)
				}
			}
		}
	}
	if got, want := sum512(nil, nil, nil), sha512.Sum512(nil); got != want {
		t.Fatalf("sum512 of nothing = %x, want %x", got, want)
	}
}
