package envelope

import (
	"crypto/ed25519"
	"sync"

	"siegel/shared/ids"
)

// signBufs holds buffers for the domain string followed by the signed bytes,
// which Ed25519 needs contiguous.
var signBufs = sync.Pool{New: func() any { return new([]byte) }}

// VerifySignature reports whether sig is a valid Ed25519 signature by pub of
// domain ‖ msg (docs/PROTOCOL.md §1).
func VerifySignature(pub ids.Key, domain string, msg []byte, sig []byte) bool {
	if len(sig) != ed25519.SignatureSize {
		return false
	}
	p := signBufs.Get().(*[]byte)
	buf := append(append((*p)[:0], domain...), msg...)
	ok := ed25519.Verify(pub[:], buf, sig)
	*p = buf
	signBufs.Put(p)
	return ok
}
