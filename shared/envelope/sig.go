package envelope

import (
	"sync"

	"siegel/shared/ids"
	"siegel/shared/sig"
)

// signBufs holds buffers for the domain string followed by the signed bytes,
// which Ed25519 needs contiguous.
var signBufs = sync.Pool{New: func() any { return new([]byte) }}

// VerifySignature reports whether signature is a valid Ed25519 signature by
// pub of domain ‖ msg (docs/PROTOCOL.md §1).
func VerifySignature(pub ids.Key, domain string, msg []byte, signature []byte) bool {
	if len(signature) != sig.SignatureSize {
		return false
	}
	p := signBufs.Get().(*[]byte)
	buf := append(append((*p)[:0], domain...), msg...)
	ok := sig.Verify(pub, buf, signature)
	*p = buf
	signBufs.Put(p)
	return ok
}
