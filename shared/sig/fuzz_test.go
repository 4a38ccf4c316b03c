package sig

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	"siegel/shared/ids"
)

// FuzzVerify compares Verify with crypto/ed25519.Verify on arbitrary keys,
// messages and signatures. It also uses the key bytes as a seed: the key pair
// and the signature of msg must be those of crypto/ed25519, the signature must
// verify, and with one bit flipped (chosen by flip) both must agree again.
func FuzzVerify(f *testing.F) {
	for i, v := range rfc8032 {
		f.Add(unhex(f, v.pub), unhex(f, v.msg), unhex(f, v.sig), uint16(i*97))
	}
	f.Fuzz(func(t *testing.T, key, msg, s []byte, flip uint16) {
		var pub ids.Key
		copy(pub[:], key)
		agree(t, pub, msg, s)

		seed := [32]byte(pub)
		p, priv := NewKeyFromSeed(seed)
		std := ed25519.NewKeyFromSeed(seed[:])
		if !bytes.Equal(p[:], std[32:]) {
			t.Fatalf("public key %x, crypto/ed25519 %x", p, std[32:])
		}
		own := Sign(&priv, msg)
		if want := ed25519.Sign(std, msg); !bytes.Equal(own[:], want) {
			t.Fatalf("signature %x, crypto/ed25519 %x", own, want)
		}
		if !agree(t, p, msg, own[:]) {
			t.Fatal("own signature refused")
		}
		own[flip/8%64] ^= 1 << (flip % 8)
		agree(t, p, msg, own[:])
	})
}
