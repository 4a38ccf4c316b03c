// Package sha2 implements the SHA-256 and SHA-512 hash functions of FIPS 180-4
// in plain Go: no assembly, no unsafe, and no imports beyond math/bits.
//
// The digests are byte for byte those of crypto/sha256 and crypto/sha512.
// The package exists so that code compiled to WebAssembly does not link the
// standard library's hashes, which bring the FIPS 140 module (its DRBG,
// AES-GCM, SHA-3, HMAC and crypto/cipher) with them through
// crypto/internal/boring and crypto/internal/fips140only. Natively it is
// slower than the standard library, which uses the CPU's SHA instructions or
// vector code where it can (see docs/DECISIONS.md).
//
// Sum256 and Sum512 hash a byte slice in one call. A Digest256 or Digest512
// (from New256 or New512, or a zero value) hashes a stream: Write any number
// of times, then read the digest with Sum256 or Sum512, which does not change
// the state, so more can be written afterwards.
//
// One difference from crypto/sha512 that no real message reaches: for a
// message of 2^61 bytes or more, Sum512 appends the full 128-bit length in
// bits as FIPS 180-4 specifies, where crypto/sha512 keeps only its low 64
// bits.
package sha2
