package sha2

import "math/bits"

// Digest512 is the running state of a SHA-512 computation. The zero value is
// ready for use and hashes the empty message until written to.
type Digest512 struct {
	h   [8]uint64
	buf [128]byte // a partial block
	nb  int       // bytes in buf
	len uint64    // bytes written in total

	started bool // h holds the initial or a running value
}

// The initial hash value (FIPS 180-4 §5.3.5).
var init512 = [8]uint64{
	0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
	0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
}

// The round constants (FIPS 180-4 §4.2.3).
var k512 = [80]uint64{
	0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
	0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
	0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
	0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
	0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
	0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
	0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
	0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
	0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
	0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
	0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
	0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
	0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
	0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
	0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
	0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
	0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
	0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
	0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
	0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
}

// Sum512 returns the SHA-512 digest of b.
func Sum512(b []byte) [64]byte {
	var d Digest512
	d.Write(b)
	return d.Sum512()
}

// New512 returns a new SHA-512 computation.
func New512() *Digest512 {
	return new(Digest512)
}

// Reset returns d to the state of New512.
func (d *Digest512) Reset() {
	*d = Digest512{h: init512, started: true}
}

// Write adds p to the message. It always returns len(p), nil; the results
// are there so that a Digest512 is an io.Writer.
func (d *Digest512) Write(p []byte) (int, error) {
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
		block512(&d.h, d.buf[:])
		d.nb = 0
	}
	if full := len(p) &^ (len(d.buf) - 1); full > 0 {
		block512(&d.h, p[:full])
		p = p[full:]
	}
	d.nb = copy(d.buf[:], p)
	return n, nil
}

// Sum512 returns the SHA-512 digest of everything written so far. It does not
// change d.
func (d *Digest512) Sum512() [64]byte {
	c := *d
	if !c.started {
		c.Reset()
	}
	// Padding (FIPS 180-4 §5.1.2): a 1 bit, zeros up to 112 bytes mod 128,
	// then the message length in bits as a 128-bit big-endian number.
	var pad [128 + 16]byte
	pad[0] = 0x80
	n := 112 - int(c.len%128)
	if n <= 0 {
		n += 128
	}
	putUint64(pad[n:], c.len>>61)
	putUint64(pad[n+8:], c.len<<3)
	c.Write(pad[:n+16])

	var out [64]byte
	for i, v := range c.h {
		putUint64(out[8*i:], v)
	}
	return out
}

// block512 runs the compression function (FIPS 180-4 §6.4.2) over each
// 128-byte block of p; len(p) is a multiple of 128.
func block512(h *[8]uint64, p []byte) {
	var w [80]uint64
	h0, h1, h2, h3, h4, h5, h6, h7 := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
	for ; len(p) >= 128; p = p[128:] {
		for i := range 16 {
			q := p[8*i : 8*i+8]
			w[i] = uint64(q[0])<<56 | uint64(q[1])<<48 | uint64(q[2])<<40 | uint64(q[3])<<32 |
				uint64(q[4])<<24 | uint64(q[5])<<16 | uint64(q[6])<<8 | uint64(q[7])
		}
		for i := 16; i < 80; i++ {
			s0 := bits.RotateLeft64(w[i-15], -1) ^ bits.RotateLeft64(w[i-15], -8) ^ w[i-15]>>7
			s1 := bits.RotateLeft64(w[i-2], -19) ^ bits.RotateLeft64(w[i-2], -61) ^ w[i-2]>>6
			w[i] = s1 + w[i-7] + s0 + w[i-16]
		}

		a, b, c, d, e, f, g, hh := h0, h1, h2, h3, h4, h5, h6, h7
		for i := range 80 {
			s1 := bits.RotateLeft64(e, -14) ^ bits.RotateLeft64(e, -18) ^ bits.RotateLeft64(e, -41)
			ch := e&f ^ ^e&g
			t1 := hh + s1 + ch + k512[i] + w[i]
			s0 := bits.RotateLeft64(a, -28) ^ bits.RotateLeft64(a, -34) ^ bits.RotateLeft64(a, -39)
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
