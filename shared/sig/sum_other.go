//go:build !js

package sig

import "crypto/sha512"

// sum512 returns SHA-512(a ‖ b ‖ c). Natively it is crypto/sha512, which uses
// the CPU's vector instructions and is about twice as fast as shared/sha2;
// the relay verifies every envelope's signature (docs/DECISIONS.md, "SHA-2 in
// the widget").
func sum512(a, b, c []byte) [64]byte {
	h := sha512.New()
	h.Write(a)
	h.Write(b)
	h.Write(c)
	var d [64]byte
	h.Sum(d[:0])
	return d
}
