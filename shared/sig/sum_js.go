//go:build js

package sig

import "siegel/shared/sha2"

// sum512 returns SHA-512(a ‖ b ‖ c). In WebAssembly it is shared/sha2, so that
// the browser code does not link crypto/sha512, which brings the FIPS 140
// module with it; there the standard library runs portable Go code as well,
// so nothing is slower (docs/DECISIONS.md, "SHA-2 in the widget").
func sum512(a, b, c []byte) [64]byte {
	var h sha2.Digest512
	h.Write(a)
	h.Write(b)
	h.Write(c)
	return h.Sum512()
}
