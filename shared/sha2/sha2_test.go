package sha2

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// The examples of FIPS 180-4 (the NIST "Cryptographic Algorithm Validation
// Program" example values): the empty message, "abc", the 448-bit and
// 896-bit two-block messages, and one million 'a'.
const (
	msg448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
	msg896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
)

var vectors = []struct {
	name, msg, sha256, sha512 string
}{
	{"empty", "",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
	{"abc", "abc",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
	{"448 bits", msg448,
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
		"204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445"},
	{"896 bits", msg896,
		"cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
		"8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"},
	{"million a", strings.Repeat("a", 1000000),
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
		"e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			if got := Sum256([]byte(v.msg)); hex.EncodeToString(got[:]) != v.sha256 {
				t.Errorf("Sum256 = %x, want %s", got, v.sha256)
			}
			if got := Sum512([]byte(v.msg)); hex.EncodeToString(got[:]) != v.sha512 {
				t.Errorf("Sum512 = %x, want %s", got, v.sha512)
			}
		})
	}
}

// TestMillionStreamed writes the million 'a' one byte at a time, and in
// chunks of 1000, as the FIPS examples are usually run.
func TestMillionStreamed(t *testing.T) {
	v := vectors[len(vectors)-1]
	a1000 := []byte(strings.Repeat("a", 1000))
	for _, chunk := range []int{1, 1000} {
		d256, d512 := New256(), New512()
		for i := 0; i < 1000000; i += chunk {
			d256.Write(a1000[:chunk])
			d512.Write(a1000[:chunk])
		}
		if got := d256.Sum256(); hex.EncodeToString(got[:]) != v.sha256 {
			t.Errorf("chunks of %d: Sum256 = %x, want %s", chunk, got, v.sha256)
		}
		if got := d512.Sum512(); hex.EncodeToString(got[:]) != v.sha512 {
			t.Errorf("chunks of %d: Sum512 = %x, want %s", chunk, got, v.sha512)
		}
	}
}

// lengths are 0..1000 with every length within 3 of a multiple of the block
// size or of a padding boundary (55/56 mod 64, 111/112 mod 128), which 0..1000
// covers anyway, plus a few longer ones around the same boundaries.
func lengths() []int {
	var ls []int
	for n := 0; n <= 1000; n++ {
		ls = append(ls, n)
	}
	for _, base := range []int{2048, 4096, 65536} {
		for _, off := range []int{-73, -72, -71, -17, -16, -15, -9, -8, -7, -1, 0, 1, 55, 56, 57, 111, 112, 113} {
			ls = append(ls, base+off)
		}
	}
	return ls
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestAgainstStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range lengths() {
		msg := randomBytes(r, n)
		if got, want := Sum256(msg), sha256.Sum256(msg); got != want {
			t.Fatalf("len %d: Sum256 = %x, crypto/sha256 = %x", n, got, want)
		}
		if got, want := Sum512(msg), sha512.Sum512(msg); got != want {
			t.Fatalf("len %d: Sum512 = %x, crypto/sha512 = %x", n, got, want)
		}
	}
}

// split cuts msg into pieces at random points (some of them empty).
func split(r *rand.Rand, msg []byte) [][]byte {
	var parts [][]byte
	for len(msg) > 0 {
		n := r.IntN(len(msg) + 1)
		if r.IntN(4) == 0 {
			n = r.IntN(min(len(msg), 3) + 1) // tiny pieces, including empty ones
		}
		parts = append(parts, msg[:n])
		msg = msg[n:]
	}
	return parts
}

func TestStreamedAgainstStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range lengths() {
		msg := randomBytes(r, n)
		for range 3 {
			parts := split(r, msg)
			d256, d512 := New256(), New512()
			for _, p := range parts {
				if k, err := d256.Write(p); k != len(p) || err != nil {
					t.Fatalf("Digest256.Write = %d, %v; want %d, nil", k, err, len(p))
				}
				if k, err := d512.Write(p); k != len(p) || err != nil {
					t.Fatalf("Digest512.Write = %d, %v; want %d, nil", k, err, len(p))
				}
			}
			if got, want := d256.Sum256(), sha256.Sum256(msg); got != want {
				t.Fatalf("len %d in %d parts: Sum256 = %x, crypto/sha256 = %x", n, len(parts), got, want)
			}
			if got, want := d512.Sum512(), sha512.Sum512(msg); got != want {
				t.Fatalf("len %d in %d parts: Sum512 = %x, crypto/sha512 = %x", n, len(parts), got, want)
			}
		}
	}
}

// TestSumKeepsState checks that Sum does not change the state: a digest read
// in the middle of the stream is that of the prefix, and writing on gives the
// digest of the whole message.
func TestSumKeepsState(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 55, 56, 64, 111, 112, 127, 128, 300} {
		msg := randomBytes(r, 2*n+7)
		d256, d512 := New256(), New512()
		d256.Write(msg[:n])
		d512.Write(msg[:n])
		if got, want := d256.Sum256(), sha256.Sum256(msg[:n]); got != want {
			t.Fatalf("prefix %d: Sum256 = %x, want %x", n, got, want)
		}
		if got, want := d512.Sum512(), sha512.Sum512(msg[:n]); got != want {
			t.Fatalf("prefix %d: Sum512 = %x, want %x", n, got, want)
		}
		d256.Write(msg[n:])
		d512.Write(msg[n:])
		if got, want := d256.Sum256(), sha256.Sum256(msg); got != want {
			t.Fatalf("after prefix %d: Sum256 = %x, want %x", n, got, want)
		}
		if got, want := d512.Sum512(), sha512.Sum512(msg); got != want {
			t.Fatalf("after prefix %d: Sum512 = %x, want %x", n, got, want)
		}
		if a, b := d256.Sum256(), d256.Sum256(); a != b {
			t.Fatalf("two Sum256 differ")
		}
	}
}

func TestReset(t *testing.T) {
	d256, d512 := New256(), New512()
	d256.Write([]byte("something else entirely"))
	d512.Write([]byte("something else entirely"))
	d256.Reset()
	d512.Reset()
	d256.Write([]byte("abc"))
	d512.Write([]byte("abc"))
	if got, want := d256.Sum256(), sha256.Sum256([]byte("abc")); got != want {
		t.Errorf("after Reset: Sum256 = %x, want %x", got, want)
	}
	if got, want := d512.Sum512(), sha512.Sum512([]byte("abc")); got != want {
		t.Errorf("after Reset: Sum512 = %x, want %x", got, want)
	}
}

func TestZeroValue(t *testing.T) {
	var z256 Digest256
	var z512 Digest512
	if got, want := z256.Sum256(), sha256.Sum256(nil); got != want {
		t.Errorf("zero value: Sum256 = %x, want %x", got, want)
	}
	if got, want := z512.Sum512(), sha512.Sum512(nil); got != want {
		t.Errorf("zero value: Sum512 = %x, want %x", got, want)
	}
	io.WriteString(&z256, "abc")
	io.WriteString(&z512, "abc")
	if got, want := z256.Sum256(), sha256.Sum256([]byte("abc")); got != want {
		t.Errorf("zero value: Sum256 = %x, want %x", got, want)
	}
	if got, want := z512.Sum512(), sha512.Sum512([]byte("abc")); got != want {
		t.Errorf("zero value: Sum512 = %x, want %x", got, want)
	}
	var e256 Digest256
	var e512 Digest512
	e256.Write(nil)
	e512.Write(nil)
	if got, want := e256.Sum256(), sha256.Sum256(nil); got != want {
		t.Errorf("zero value after an empty write: Sum256 = %x, want %x", got, want)
	}
	if got, want := e512.Sum512(), sha512.Sum512(nil); got != want {
		t.Errorf("zero value after an empty write: Sum512 = %x, want %x", got, want)
	}
}

// TestLongLength checks the length field of the padding for lengths that
// cannot be hashed in a test: the state after n bytes is set directly, and
// the result is compared with the standard library's, whose state is set
// through its marshaled form.
//
// For n >= 2^61 the length in bits of a SHA-512 message needs more than 64
// bits. FIPS 180-4 appends it as a 128-bit number, which Sum512 does;
// crypto/sha512 drops the upper 64 bits. There the expected digest is the
// standard library's compression function over the FIPS padding built here.
func TestLongLength(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []uint64{1<<61 - 1, 1<<61 - 112, 1<<61 + 5, 1<<63 + 120, 1<<64 - 1} {
		d256 := Digest256{started: true}
		for i := range d256.h {
			d256.h[i] = r.Uint32()
		}
		d256.len = n
		d256.nb = int(n % 64)
		copy(d256.buf[:d256.nb], randomBytes(r, d256.nb))
		ref256 := stdlib256(t, d256.h, d256.buf[:], n)
		if got, want := d256.Sum256(), ref256.Sum(nil); !bytes.Equal(got[:], want) {
			t.Errorf("SHA-256 after %d bytes: %x, crypto/sha256 %x", n, got, want)
		}

		d512 := Digest512{started: true}
		for i := range d512.h {
			d512.h[i] = r.Uint64()
		}
		d512.len = n
		d512.nb = int(n % 128)
		copy(d512.buf[:d512.nb], randomBytes(r, d512.nb))
		got := d512.Sum512()
		if n < 1<<61 {
			ref := stdlib512(t, d512.h, d512.buf[:], n)
			if want := ref.Sum(nil); !bytes.Equal(got[:], want) {
				t.Errorf("SHA-512 after %d bytes: %x, crypto/sha512 %x", n, got, want)
			}
		}
		// FIPS 180-4 §5.1.2: the partial block, a 1 bit, zeros up to 112
		// bytes mod 128, and the length in bits as a 128-bit number.
		final := append([]byte(nil), d512.buf[:d512.nb]...)
		final = append(final, 0x80)
		for len(final)%128 != 112 {
			final = append(final, 0)
		}
		final = binary.BigEndian.AppendUint64(final, n>>61)
		final = binary.BigEndian.AppendUint64(final, n<<3)
		ref := stdlib512(t, d512.h, make([]byte, 128), 128) // the same chaining value, nothing buffered
		ref.Write(final)
		state, err := ref.(interface{ MarshalBinary() ([]byte, error) }).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if want := state[4 : 4+64]; !bytes.Equal(got[:], want) {
			t.Errorf("SHA-512 after %d bytes: %x, FIPS padding %x", n, got, want)
		}
	}
}

// stdlib256 returns a crypto/sha256 hash in the state with chaining value h,
// the partial block buf[:n%64] and n bytes written.
func stdlib256(t *testing.T, h [8]uint32, buf []byte, n uint64) hash.Hash {
	m := []byte("sha\x03")
	for _, v := range h {
		m = binary.BigEndian.AppendUint32(m, v)
	}
	m = append(m, buf[:64]...)
	m = binary.BigEndian.AppendUint64(m, n)
	d := sha256.New()
	if err := d.(interface{ UnmarshalBinary([]byte) error }).UnmarshalBinary(m); err != nil {
		t.Fatal(err)
	}
	return d
}

// stdlib512 is stdlib256 for crypto/sha512.
func stdlib512(t *testing.T, h [8]uint64, buf []byte, n uint64) hash.Hash {
	m := []byte("sha\x07")
	for _, v := range h {
		m = binary.BigEndian.AppendUint64(m, v)
	}
	m = append(m, buf[:128]...)
	m = binary.BigEndian.AppendUint64(m, n)
	d := sha512.New()
	if err := d.(interface{ UnmarshalBinary([]byte) error }).UnmarshalBinary(m); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestNoAllocations(t *testing.T) {
	msg := make([]byte, 1000)
	if n := testing.AllocsPerRun(10, func() {
		Sum256(msg)
		Sum512(msg)
		var d Digest512
		d.Write(msg[:10])
		d.Write(msg)
		d.Sum512()
	}); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}

func FuzzSum(f *testing.F) {
	f.Add([]byte(""), uint16(0))
	f.Add([]byte("abc"), uint16(1))
	f.Add([]byte(msg448), uint16(55))
	f.Add([]byte(msg896), uint16(111))
	f.Fuzz(func(t *testing.T, msg []byte, at uint16) {
		if got, want := Sum256(msg), sha256.Sum256(msg); got != want {
			t.Fatalf("Sum256 = %x, crypto/sha256 = %x", got, want)
		}
		if got, want := Sum512(msg), sha512.Sum512(msg); got != want {
			t.Fatalf("Sum512 = %x, crypto/sha512 = %x", got, want)
		}
		// The same message written in two pieces, cut at a point chosen by the fuzzer.
		cut := int(at) % (len(msg) + 1)
		d256, d512 := New256(), New512()
		d256.Write(msg[:cut])
		d512.Write(msg[:cut])
		d256.Write(msg[cut:])
		d512.Write(msg[cut:])
		if got, want := d256.Sum256(), sha256.Sum256(msg); got != want {
			t.Fatalf("cut at %d: Sum256 = %x, crypto/sha256 = %x", cut, got, want)
		}
		if got, want := d512.Sum512(), sha512.Sum512(msg); got != want {
			t.Fatalf("cut at %d: Sum512 = %x, crypto/sha512 = %x", cut, got, want)
		}
	})
}

var sink256 [32]byte
var sink512 [64]byte

func benchSizes() []int { return []int{64, 1024, 8192} }

func BenchmarkSum256(b *testing.B) {
	for _, n := range benchSizes() {
		msg := make([]byte, n)
		b.Run("sha2/"+itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				sink256 = Sum256(msg)
			}
		})
		b.Run("stdlib/"+itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				sink256 = sha256.Sum256(msg)
			}
		})
	}
}

func BenchmarkSum512(b *testing.B) {
	for _, n := range benchSizes() {
		msg := make([]byte, n)
		b.Run("sha2/"+itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				sink512 = Sum512(msg)
			}
		})
		b.Run("stdlib/"+itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				sink512 = sha512.Sum512(msg)
			}
		})
	}
}

func itoa(n int) string {
	s := ""
	for ; n > 0 || s == ""; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}
