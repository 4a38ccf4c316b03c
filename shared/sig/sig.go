// Package sig implements Ed25519 signatures (RFC 8032, pure Ed25519) on
// filippo.io/edwards25519, with SHA-512 from crypto/sha512 natively and from
// shared/sha2 in WebAssembly.
//
// Signatures are byte for byte those of crypto/ed25519, and Verify accepts
// exactly what crypto/ed25519.Verify accepts: S must be canonical (below the
// group order), the public key must decode to a point on the curve (with the
// same decoding rules, which accept non-canonical encodings of y), and the
// check is the cofactorless [S]B = R + [k]A, compared by encoding. The package
// exists so that code compiled to WebAssembly does not link crypto/ed25519,
// which brings crypto/rand and the FIPS 140 module with it.
package sig

import (
	"bytes"
	"errors"

	"filippo.io/edwards25519"

	"siegel/shared/ids"
)

const (
	// SeedSize is the size of an Ed25519 seed (the private key as stored).
	SeedSize = 32
	// PrivateKeySize is the size of the seed ‖ public key form used by
	// crypto/ed25519.PrivateKey.
	PrivateKeySize = 64
	// SignatureSize is the size of an Ed25519 signature.
	SignatureSize = 64
)

// ErrInvalidKey is returned by NewKeyFromBytes for a key of the wrong length
// or whose public half is not the public key of its seed.
var ErrInvalidKey = errors.New("invalid Ed25519 private key")

// PrivateKey is an Ed25519 private key with the values derived from its seed.
// The zero value is not a valid key; make one with NewKeyFromSeed or
// NewKeyFromBytes.
type PrivateKey struct {
	seed   [32]byte
	pub    ids.Key
	s      edwards25519.Scalar // the clamped first half of SHA-512(seed), mod l
	prefix [32]byte            // the second half of SHA-512(seed)
}

// NewKeyFromSeed derives the key pair of an Ed25519 seed (RFC 8032 §5.1.5).
func NewKeyFromSeed(seed [32]byte) (pub ids.Key, priv PrivateKey) {
	priv.seed = seed
	h := sum512(seed[:], nil, nil)
	if _, err := priv.s.SetBytesWithClamping(h[:32]); err != nil {
		panic("sig: internal error: clamping failed")
	}
	copy(priv.prefix[:], h[32:])
	clear(h[:])
	var a edwards25519.Point
	a.ScalarBaseMult(&priv.s)
	copy(priv.pub[:], a.Bytes())
	return priv.pub, priv
}

// NewKeyFromBytes reads a private key in the 64-byte form seed ‖ public key
// of crypto/ed25519.PrivateKey. Unlike crypto/ed25519, it refuses a key whose
// public half does not belong to its seed (ErrInvalidKey), which would
// otherwise produce signatures that do not verify.
func NewKeyFromBytes(b []byte) (PrivateKey, error) {
	if len(b) != PrivateKeySize {
		return PrivateKey{}, ErrInvalidKey
	}
	pub, priv := NewKeyFromSeed([32]byte(b[:32]))
	if pub != ids.Key(b[32:]) {
		return PrivateKey{}, ErrInvalidKey
	}
	return priv, nil
}

// Public returns the public key.
func (k *PrivateKey) Public() ids.Key { return k.pub }

// Seed returns the seed the key was derived from.
func (k *PrivateKey) Seed() [32]byte { return k.seed }

// Sign returns the Ed25519 signature of msg by priv (RFC 8032 §5.1.6).
// Signing is deterministic.
func Sign(priv *PrivateKey, msg []byte) [SignatureSize]byte {
	digest := sum512(priv.prefix[:], msg, nil)
	r, err := edwards25519.NewScalar().SetUniformBytes(digest[:])
	if err != nil {
		panic("sig: internal error: reducing r failed")
	}
	var sig [SignatureSize]byte
	var rp edwards25519.Point
	copy(sig[:32], rp.ScalarBaseMult(r).Bytes())

	digest = sum512(sig[:32], priv.pub[:], msg)
	k, err := edwards25519.NewScalar().SetUniformBytes(digest[:])
	if err != nil {
		panic("sig: internal error: reducing k failed")
	}
	s := edwards25519.NewScalar().MultiplyAdd(k, &priv.s, r)
	copy(sig[32:], s.Bytes())
	return sig
}

// Verify reports whether sig is a valid Ed25519 signature of msg by pub
// (RFC 8032 §5.1.7), with exactly the acceptance rules of crypto/ed25519.Verify.
// A signature of another length than SignatureSize is invalid.
func Verify(pub ids.Key, msg, sig []byte) bool {
	if len(sig) != SignatureSize || sig[63]&0xe0 != 0 {
		return false
	}
	var a edwards25519.Point
	if _, err := a.SetBytes(pub[:]); err != nil {
		return false
	}
	s, err := edwards25519.NewScalar().SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	// The public key as given, not a re-encoding of the point.
	digest := sum512(sig[:32], pub[:], msg)
	k, err := edwards25519.NewScalar().SetUniformBytes(digest[:])
	if err != nil {
		panic("sig: internal error: reducing k failed")
	}
	// [S]B = R + [k]A  ⟺  [k](−A) + [S]B = R
	a.Negate(&a)
	var r edwards25519.Point
	r.VarTimeDoubleScalarBaseMult(k, &a, s)
	return bytes.Equal(sig[:32], r.Bytes())
}
