// Package x25519 implements the X25519 function (RFC 7748 §5) on
// filippo.io/edwards25519/field, and the NaCl box shared key built on it.
//
// It computes the same values as golang.org/x/crypto/curve25519 and
// golang.org/x/crypto/nacl/box.Precompute; it exists so that code compiled to
// WebAssembly does not link crypto/ecdh, which brings the NIST curves and
// crypto/rand with it.
package x25519

import (
	"errors"

	"filippo.io/edwards25519/field"
	"golang.org/x/crypto/salsa20/salsa"
)

// ErrLowOrder is returned when the result of X25519 is all zeros, that is the
// peer's point is of low order (or on the twist with a low-order component).
var ErrLowOrder = errors.New("x25519: low-order point")

// Basepoint is the u-coordinate 9 of the Curve25519 base point.
var Basepoint = [32]byte{9}

// X25519 returns the u-coordinate of [scalar]point: the scalar is clamped and
// the most significant bit of point is ignored, as in RFC 7748 §5. An all-zero
// result gives ErrLowOrder (with that zero result).
func X25519(scalar, point [32]byte) ([32]byte, error) {
	out := scalarMult(&scalar, &point)
	var acc byte
	for _, b := range out {
		acc |= b
	}
	if acc == 0 {
		return out, ErrLowOrder
	}
	return out, nil
}

// PublicKey returns the public key of the private key priv: X25519(priv, 9).
// It cannot be all zeros: the clamped scalar is a nonzero multiple of 8 below
// the order of the base point's subgroup.
func PublicKey(priv [32]byte) [32]byte {
	return scalarMult(&priv, &Basepoint)
}

// SharedKey returns the NaCl box shared key (box_beforenm) of the own private
// key priv and the peer's public key: HSalsa20(X25519(priv, peer), 0^16). A peer
// key giving an all-zero X25519 result is refused with ErrLowOrder.
func SharedKey(priv, peer [32]byte) ([32]byte, error) {
	var k [32]byte
	s, err := X25519(priv, peer)
	if err != nil {
		return k, err
	}
	var zero [16]byte
	salsa.HSalsa20(&k, &zero, &s, &salsa.Sigma)
	clear(s[:])
	return k, nil
}

// scalarMult is the Montgomery ladder of RFC 7748 §5, with constant-time
// conditional swaps and no branch on secret bits.
func scalarMult(scalar, point *[32]byte) [32]byte {
	e := *scalar
	e[0] &= 248
	e[31] &= 127
	e[31] |= 64

	var x1, x2, z2, x3, z3, t0, t1 field.Element
	if _, err := x1.SetBytes(point[:]); err != nil { // ignores the top bit
		panic("x25519: internal error: decoding the point failed")
	}
	x2.One()
	x3.Set(&x1)
	z3.One()

	swap := 0
	for pos := 254; pos >= 0; pos-- {
		b := int(e[pos/8]>>uint(pos&7)) & 1
		swap ^= b
		x2.Swap(&x3, swap)
		z2.Swap(&z3, swap)
		swap = b

		t0.Subtract(&x3, &z3)
		t1.Subtract(&x2, &z2)
		x2.Add(&x2, &z2)
		z2.Add(&x3, &z3)
		z3.Multiply(&t0, &x2)
		z2.Multiply(&z2, &t1)
		t0.Square(&t1)
		t1.Square(&x2)
		x3.Add(&z3, &z2)
		z2.Subtract(&z3, &z2)
		x2.Multiply(&t1, &t0)
		t1.Subtract(&t1, &t0)
		z2.Square(&z2)

		z3.Mult32(&t1, 121666)
		x3.Square(&x3)
		t0.Add(&t0, &z3)
		z3.Multiply(&x1, &z2)
		z2.Multiply(&t1, &t0)
	}
	x2.Swap(&x3, swap)
	z2.Swap(&z3, swap)

	z2.Invert(&z2) // 0 for z2 = 0, so the point at infinity gives u = 0
	x2.Multiply(&x2, &z2)
	var out [32]byte
	copy(out[:], x2.Bytes())
	clear(e[:])
	return out
}
