package sha2

import "math/bits"

// Digest256 is the running state of a SHA-256 computation. The zero value is
// ready for use and hashes the empty message until written to.
type Digest256 struct {
	h   [8]uint32
	buf [64]byte // a partial block
	nb  int      // bytes in buf
	len uint64   // bytes written in total

	started bool // h holds the initial or a running value
}

// The initial hash value (FIPS 180-4 §5.3.3).
var init256 = [8]uint32{
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
}

// The round constants (FIPS 180-4 §4.2.2).
var k256 = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

// Sum256 returns the SHA-256 digest of b.
func Sum256(b []byte) [32]byte {
	var d Digest256
	d.Write(b)
	return d.Sum256()
}

// New256 returns a new SHA-256 computation.
func New256() *Digest256 {
	return new(Digest256)
}

// Reset returns d to the state of New256.
func (d *Digest256) Reset() {
	*d = Digest256{h: init256, started: true}
}

// Write adds p to the message. It always returns len(p), nil; the results
// are there so that a Digest256 is an io.Writer.
func (d *Digest256) Write(p []byte) (int, error) {
	if !d.started {
		d.Reset()
	}
	n := len(p)
	d.len += uint64(n)
	if d.nb > 0 {
		c := copy(d.buf[d.nb:], p)
		d.nb += c
		p = p[c:]
		if d.nb < len(d.buf) {
			return n, nil
		}
		block256(&d.h, d.buf[:])
		d.nb = 0
	}
	if full := len(p) &^ (len(d.buf) - 1); full > 0 {
		block256(&d.h, p[:full])
		p = p[full:]
	}
	d.nb = copy(d.buf[:], p)
	return n, nil
}

// Sum256 returns the SHA-256 digest of everything written so far. It does not
// change d.
func (d *Digest256) Sum256() [32]byte {
	c := *d
	if !c.started {
		c.Reset()
	}
	// Padding (FIPS 180-4 §5.1.1): a 1 bit, zeros up to 56 bytes mod 64, then
	// the message length in bits as a 64-bit big-endian number.
	var pad [64 + 8]byte
	pad[0] = 0x80
	n := 56 - int(c.len%64)
	if n <= 0 {
		n += 64
	}
	putUint64(pad[n:], c.len<<3)
	c.Write(pad[:n+8])

	var out [32]byte
	for i, v := range c.h {
		putUint32(out[4*i:], v)
	}
	return out
}

// block256 runs the compression function (FIPS 180-4 §6.2.2) over each
// 64-byte block of p; len(p) is a multiple of 64.
func block256(h *[8]uint32, p []byte) {
	var w [64]uint32
	h0, h1, h2, h3, h4, h5, h6, h7 := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
	for ; len(p) >= 64; p = p[64:] {
		for i := range 16 {
			w[i] = uint32(p[4*i])<<24 | uint32(p[4*i+1])<<16 | uint32(p[4*i+2])<<8 | uint32(p[4*i+3])
		}
		for i := 16; i < 64; i++ {
			s0 := bits.RotateLeft32(w[i-15], -7) ^ bits.RotateLeft32(w[i-15], -18) ^ w[i-15]>>3
			s1 := bits.RotateLeft32(w[i-2], -17) ^ bits.RotateLeft32(w[i-2], -19) ^ w[i-2]>>10
			w[i] = s1 + w[i-7] + s0 + w[i-16]
		}

		a, b, c, d, e, f, g, hh := h0, h1, h2, h3, h4, h5, h6, h7
		for i := range 64 {
			s1 := bits.RotateLeft32(e, -6) ^ bits.RotateLeft32(e, -11) ^ bits.RotateLeft32(e, -25)
			ch := e&f ^ ^e&g
			t1 := hh + s1 + ch + k256[i] + w[i]
			s0 := bits.RotateLeft32(a, -2) ^ bits.RotateLeft32(a, -13) ^ bits.RotateLeft32(a, -22)
			maj := a&b ^ a&c ^ b&c
			t2 := s0 + maj
			hh = g
			g = f
			f = e
			e = d + t1
			d = c
			c = b
			b = a
			a = t1 + t2
		}
		h0 += a
		h1 += b
		h2 += c
		h3 += d
		h4 += e
		h5 += f
		h6 += g
		h7 += hh
	}
	h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7] = h0, h1, h2, h3, h4, h5, h6, h7
}

func putUint32(b []byte, v uint32) {
	_ = b[3]
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

func putUint64(b []byte, v uint64) {
	putUint32(b, uint32(v>>32))
	putUint32(b[4:], uint32(v))
}
