package x25519

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/nacl/box"
	"golang.org/x/crypto/nacl/secretbox"
)

func h32(t testing.TB, s string) [32]byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad hex %q", s)
	}
	return [32]byte(b)
}

// RFC 7748 §5.2: the two scalar multiplication vectors (the second has the top
// bit of the point set, which must be ignored).
func TestRFC7748Vectors(t *testing.T) {
	for _, v := range []struct{ k, u, out string }{
		{"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
			"e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
			"c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
		{"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
			"e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
			"95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
	} {
		got, err := X25519(h32(t, v.k), h32(t, v.u))
		if err != nil || got != h32(t, v.out) {
			t.Fatalf("X25519(%s, %s) = %x, %v; want %s", v.k, v.u, got, err, v.out)
		}
	}
}

// RFC 7748 §5.2: k = u = 9, then repeatedly k, u = X25519(k, u), k.
func TestRFC7748Iterated(t *testing.T) {
	k, u := Basepoint, Basepoint
	for i := 1; i <= 1000; i++ {
		r, err := X25519(k, u)
		if err != nil {
			t.Fatal(err)
		}
		u, k = k, r
		switch i {
		case 1:
			if k != h32(t, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079") {
				t.Fatalf("after 1 iteration: %x", k)
			}
		case 1000:
			if k != h32(t, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51") {
				t.Fatalf("after 1000 iterations: %x", k)
			}
		}
	}
}

// RFC 7748 §6.1: the Diffie-Hellman example.
func TestRFC7748DH(t *testing.T) {
	a := h32(t, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
	b := h32(t, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
	A, B := PublicKey(a), PublicKey(b)
	if A != h32(t, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a") ||
		B != h32(t, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f") {
		t.Fatalf("public keys %x %x", A, B)
	}
	k1, err1 := X25519(a, B)
	k2, err2 := X25519(b, A)
	want := h32(t, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
	if err1 != nil || err2 != nil || k1 != want || k2 != want {
		t.Fatalf("shared %x %x (%v %v)", k1, k2, err1, err2)
	}
}

func fill(r *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}

// check compares X25519 with golang.org/x/crypto/curve25519.X25519.
func check(t *testing.T, k, u [32]byte) error {
	t.Helper()
	got, err := X25519(k, u)
	want, werr := curve25519.X25519(k[:], u[:])
	if (err == nil) != (werr == nil) {
		t.Fatalf("X25519(%x, %x): error %v, reference %v", k, u, err, werr)
	}
	if err == nil && !bytes.Equal(got[:], want) {
		t.Fatalf("X25519(%x, %x) = %x, reference %x", k, u, got, want)
	}
	if err != nil && (!errors.Is(err, ErrLowOrder) || got != [32]byte{}) {
		t.Fatalf("X25519(%x, %x) = %x, %v", k, u, got, err)
	}
	return err
}

// TestMatchesReference compares with x/crypto on random scalars and points,
// about half of which are on the twist, with and without the top bit set, and
// public keys with X25519(k, Basepoint).
func TestMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 500 {
		var k, u [32]byte
		fill(r, k[:])
		fill(r, u[:])
		u[31] |= 0x80
		if check(t, k, u) != nil {
			t.Fatal("random point refused")
		}
		u[31] &= 0x7f
		check(t, k, u)
		pub, err := curve25519.X25519(k[:], curve25519.Basepoint)
		if p := PublicKey(k); err != nil || !bytes.Equal(p[:], pub) {
			t.Fatalf("PublicKey(%x) = %x, reference %x", k, p, pub)
		}
	}
}

// lowOrder are the u-coordinates of small order on the curve and its twist (0,
// 1, the two of order 8, p − 1) and the non-canonical p and p + 1.
var lowOrder = []string{
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
}

// TestLowOrder: each low-order point, with the top bit clear and set, gives
// ErrLowOrder for any scalar, and SharedKey refuses it.
func TestLowOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, s := range lowOrder {
		for _, top := range []byte{0, 0x80} {
			u := h32(t, s)
			u[31] |= top
			for range 8 {
				var k [32]byte
				fill(r, k[:])
				if err := check(t, k, u); !errors.Is(err, ErrLowOrder) {
					t.Fatalf("X25519(%x, %x): %v", k, u, err)
				}
				if key, err := SharedKey(k, u); !errors.Is(err, ErrLowOrder) || key != [32]byte{} {
					t.Fatalf("SharedKey(%x, %x) = %x, %v", k, u, key, err)
				}
			}
		}
	}
}

// TestSharedKeyMatchesBox compares SharedKey with nacl/box.Precompute, and
// checks that a box sealed with secretbox under SharedKey opens with
// box.OpenAfterPrecomputation and with box.Open, and the other way round.
func TestSharedKeyMatchesBox(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for i := range 200 {
		var a, b [32]byte
		fill(r, a[:])
		fill(r, b[:])
		A, B := PublicKey(a), PublicKey(b)
		boxA, privA, err := box.GenerateKey(bytes.NewReader(a[:]))
		if err != nil || *privA != a || *boxA != A {
			t.Fatalf("box key of %x: %x, %v", a, boxA, err)
		}

		k, err := SharedKey(a, B)
		if err != nil {
			t.Fatal(err)
		}
		var want [32]byte
		box.Precompute(&want, &B, &a)
		if k != want {
			t.Fatalf("SharedKey = %x, box.Precompute %x", k, want)
		}
		if k2, err := SharedKey(b, A); err != nil || k2 != k {
			t.Fatalf("SharedKey not symmetric: %x, %v", k2, err)
		}

		var nonce [24]byte
		fill(r, nonce[:])
		msg := make([]byte, r.IntN(100))
		fill(r, msg)
		sealed := secretbox.Seal(nil, msg, &nonce, &k)
		if got, ok := box.OpenAfterPrecomputation(nil, sealed, &nonce, &want); !ok || !bytes.Equal(got, msg) {
			t.Fatalf("%d: box.OpenAfterPrecomputation failed", i)
		}
		if got, ok := box.Open(nil, sealed, &nonce, &A, &b); !ok || !bytes.Equal(got, msg) {
			t.Fatalf("%d: box.Open failed", i)
		}
		other := box.Seal(nil, msg, &nonce, &B, &a)
		if got, ok := secretbox.Open(nil, other, &nonce, &k); !ok || !bytes.Equal(got, msg) {
			t.Fatalf("%d: box.Seal does not open with SharedKey", i)
		}
		if !bytes.Equal(other, sealed) {
			t.Fatalf("%d: box.Seal and secretbox.Seal under SharedKey differ", i)
		}
	}
}

func BenchmarkX25519(b *testing.B) {
	k, u := Basepoint, h32(b, "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c")
	for b.Loop() {
		if _, err := X25519(k, u); err != nil {
			b.Fatal(err)
		}
	}
}
