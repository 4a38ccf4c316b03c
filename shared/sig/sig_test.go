package sig

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"

	"filippo.io/edwards25519"

	"siegel/shared/ids"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 8032 §7.1, the Ed25519 test vectors.
var rfc8032 = []struct{ name, seed, pub, msg, sig string }{
	{"TEST 1",
		"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
		"",
		"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
	{"TEST 2",
		"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
		"72",
		"92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
	{"TEST 3",
		"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
		"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
		"af82",
		"6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
	{"TEST 1024",
		"f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
		"278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
		`08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1
		e355f6c50544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d
		658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a
		7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e
		06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc10
		3b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1
		85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d
		502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270
		88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089b
		eccf80cfe2df16a2cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba
		b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae0784504df543af8969b
		e3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7
		51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988d
		cda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df
		f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7
		984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4
		88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac09
		43bf6686b64b2579376504ccc493d97e6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f
		b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f161
		0e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d
		b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8ca
		c60c905c15fc910840b94c00a0b9d0`,
		"0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03"},
	{"TEST SHA(abc)",
		"833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
		"ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
		"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
		"dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"},
}

func TestRFC8032(t *testing.T) {
	for _, v := range rfc8032 {
		t.Run(v.name, func(t *testing.T) {
			seed, want, msg, wantSig := unhex(t, v.seed), unhex(t, v.pub), unhex(t, v.msg), unhex(t, v.sig)
			if v.name == "TEST 1024" && len(msg) != 1023 {
				t.Fatalf("message of %d bytes", len(msg))
			}
			pub, priv := NewKeyFromSeed([32]byte(seed))
			if !bytes.Equal(pub[:], want) || priv.Public() != pub || priv.Seed() != [32]byte(seed) {
				t.Fatalf("public key %x, want %x", pub, want)
			}
			s := Sign(&priv, msg)
			if !bytes.Equal(s[:], wantSig) {
				t.Fatalf("signature %x, want %x", s, wantSig)
			}
			if !Verify(pub, msg, s[:]) {
				t.Fatal("vector does not verify")
			}
			s[0] ^= 1
			if Verify(pub, msg, s[:]) {
				t.Fatal("altered vector verifies")
			}
		})
	}
}

// TestMatchesStdlib compares keys and signatures with crypto/ed25519 for many
// random seeds and messages, and Verify's answers on valid, altered and random
// signatures.
func TestMatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 200
	if testing.Short() {
		n = 30
	}
	for i := range n {
		var seed [32]byte
		fill(r, seed[:])
		msg := make([]byte, r.IntN(300))
		fill(r, msg)

		pub, priv := NewKeyFromSeed(seed)
		std := ed25519.NewKeyFromSeed(seed[:])
		if !bytes.Equal(pub[:], std[32:]) {
			t.Fatalf("%d: public key %x, stdlib %x", i, pub, std[32:])
		}
		s := Sign(&priv, msg)
		if want := ed25519.Sign(std, msg); !bytes.Equal(s[:], want) {
			t.Fatalf("%d: signature %x, stdlib %x", i, s, want)
		}
		agree(t, pub, msg, s[:])

		// Single-bit changes of the signature: every bit for the first keys,
		// a sample for the others.
		for j := range 512 {
			bit := j
			if i >= 4 {
				if j >= 8 {
					break
				}
				bit = r.IntN(512)
			}
			b := s
			b[bit/8] ^= 1 << (bit % 8)
			agree(t, pub, msg, b[:])
		}
		// A change of the message.
		if len(msg) > 0 {
			m := bytes.Clone(msg)
			m[r.IntN(len(m))] ^= byte(1 << r.IntN(8))
			agree(t, pub, m, s[:])
		}
		// A bit flip in the public key (often not a point at all).
		k := pub
		k[r.IntN(32)] ^= byte(1 << r.IntN(8))
		agree(t, k, msg, s[:])

		// Random signatures and keys.
		var rs [64]byte
		fill(r, rs[:])
		agree(t, pub, msg, rs[:])
		rs[63] &= 0x0f
		agree(t, pub, msg, rs[:])
		fill(r, k[:])
		agree(t, k, msg, s[:])
	}
}

// agree fails unless Verify and crypto/ed25519.Verify give the same answer.
func agree(t *testing.T, pub ids.Key, msg, s []byte) bool {
	t.Helper()
	got, want := Verify(pub, msg, s), ed25519.Verify(pub[:], msg, s)
	if got != want {
		t.Fatalf("Verify(%x, %x, %x) = %v, crypto/ed25519 %v", pub, msg, s, got, want)
	}
	return got
}

func fill(r *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}

// order is the group order l, little-endian.
var order = [32]byte{
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
}

// addLE returns a + b for 256-bit little-endian numbers (without the carry out).
func addLE(a, b [32]byte) (s [32]byte) {
	c := 0
	for i := range s {
		v := int(a[i]) + int(b[i]) + c
		s[i], c = byte(v), v>>8
	}
	return s
}

// TestNonCanonicalS: S + l is the same scalar but must be refused, as by the
// stdlib; so must S = l and any S with one of the top three bits set.
func TestNonCanonicalS(t *testing.T) {
	_, priv := NewKeyFromSeed([32]byte{7})
	pub := priv.Public()
	for _, msg := range [][]byte{nil, []byte("hello"), bytes.Repeat([]byte{0xa5}, 100)} {
		s := Sign(&priv, msg)
		if !agree(t, pub, msg, s[:]) {
			t.Fatal("valid signature refused")
		}
		var lo [32]byte
		copy(lo[:], s[32:])
		hi := addLE(lo, order) // < 2^256 since S < l
		b := s
		copy(b[32:], hi[:])
		if agree(t, pub, msg, b[:]) {
			t.Fatal("S + l accepted")
		}
		copy(b[32:], order[:])
		if agree(t, pub, msg, b[:]) {
			t.Fatal("S = l accepted")
		}
		for _, top := range []byte{0x20, 0x40, 0x80} {
			b = s
			b[63] |= top
			if agree(t, pub, msg, b[:]) {
				t.Fatalf("S with top bit %#x accepted", top)
			}
		}
	}
}

// smallOrder lists encodings of points of small order (1, 2, 4, 8),
// canonical and non-canonical, and some that are not points.
var smallOrder = []string{
	"0100000000000000000000000000000000000000000000000000000000000000", // identity
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2 (y = −1)
	"0000000000000000000000000000000000000000000000000000000000000080", // order 4
	"0000000000000000000000000000000000000000000000000000000000000000", // order 4
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", // order 8
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", // order 8
	"0100000000000000000000000000000000000000000000000000000000000080", // identity, x = 0 with the sign bit
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p + 1: identity, non-canonical
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p: order 4, non-canonical
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // y = p with the sign bit
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // y = p + 1 with the sign bit
}

// oddKeys are encodings that are not of small order: y = 2^255 − 1 (≡ 18, a
// non-canonical encoding of a point of large order) and one not on the curve.
var oddKeys = []string{
	"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"0200000000000000000000000000000000000000000000000000000000000000",
}

// TestSmallOrderKeys: with a small-order public key A, [k]A is small too and
// signatures can be forged for some messages; whatever the stdlib accepts or
// refuses, Verify must do the same.
func TestSmallOrderKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	accepted := 0
	for _, h := range append(smallOrder, oddKeys...) {
		pub := ids.Key(unhex(t, h))
		for i := range 64 {
			msg := []byte{byte(i)}
			var s [64]byte
			// R = identity or R = A, S = 0: valid for messages whose k makes
			// [k]A match R; random R and S otherwise.
			switch i % 4 {
			case 0:
				s[0] = 1
			case 1:
				copy(s[:32], pub[:])
			case 2:
				fill(r, s[:32])
			case 3:
				fill(r, s[:])
				s[63] &= 0x0f
			}
			if agree(t, pub, msg, s[:]) {
				accepted++
			}
		}
	}
	// The stdlib accepts such forgeries for the small-order keys; make sure
	// the cases above exercised acceptance, not only refusal.
	if accepted == 0 {
		t.Fatal("no small-order case was accepted by both; the test exercises nothing")
	}
	t.Logf("%d small-order forgeries accepted by both", accepted)
}

// TestNonCanonicalR: a signature whose R is a non-canonical encoding of the
// right point is refused (the check compares encodings), as by the stdlib.
func TestNonCanonicalR(t *testing.T) {
	// With S = 0 and the identity as A, [S]B − [k]A = identity whose
	// canonical encoding is 01 00…00; y = p + 1 encodes it non-canonically.
	id := ids.Key(unhex(t, smallOrder[0]))
	for i := range 8 {
		msg := []byte{byte(i)}
		var good, bad [64]byte
		good[0] = 1
		copy(bad[:32], unhex(t, smallOrder[9]))
		if !agree(t, id, msg, good[:]) {
			t.Fatal("identity signature refused")
		}
		if agree(t, id, msg, bad[:]) {
			t.Fatal("non-canonical R accepted")
		}
	}
}

func TestNewKeyFromBytes(t *testing.T) {
	std := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	k, err := NewKeyFromBytes(std)
	if err != nil {
		t.Fatal(err)
	}
	if pub := k.Public(); !bytes.Equal(pub[:], std[32:]) {
		t.Fatal("wrong public key")
	}
	msg := []byte("message")
	if s := Sign(&k, msg); !bytes.Equal(s[:], ed25519.Sign(std, msg)) {
		t.Fatal("signature differs from stdlib")
	}
	bad := bytes.Clone(std)
	bad[40] ^= 1
	for _, b := range [][]byte{nil, std[:32], std[:63], append(bytes.Clone(std), 0), bad} {
		if _, err := NewKeyFromBytes(b); err != ErrInvalidKey {
			t.Fatalf("NewKeyFromBytes(%x) = %v", b, err)
		}
	}
}

func TestVerifyLength(t *testing.T) {
	pub, priv := NewKeyFromSeed([32]byte{1})
	s := Sign(&priv, nil)
	for _, b := range [][]byte{nil, s[:63], append(s[:], 0)} {
		if Verify(pub, nil, b) {
			t.Fatalf("signature of %d bytes accepted", len(b))
		}
	}
}

// TestKeyLists checks the lists above, so that the tests' claims about them hold.
func TestKeyLists(t *testing.T) {
	isSmall := func(h string) bool {
		p, err := new(edwards25519.Point).SetBytes(unhex(t, h))
		if err != nil {
			t.Fatalf("%s: %v", h, err)
		}
		return new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1
	}
	for _, h := range smallOrder {
		if !isSmall(h) {
			t.Fatalf("%s is not of small order", h)
		}
	}
	if isSmall(oddKeys[0]) {
		t.Fatalf("%s is of small order", oddKeys[0])
	}
	if _, err := new(edwards25519.Point).SetBytes(unhex(t, oddKeys[1])); err == nil {
		t.Fatalf("%s decodes", oddKeys[1])
	}
}

func BenchmarkSign(b *testing.B) {
	_, priv := NewKeyFromSeed([32]byte{1})
	msg := make([]byte, 1024)
	b.ReportAllocs()
	for b.Loop() {
		Sign(&priv, msg)
	}
}

func BenchmarkVerify(b *testing.B) {
	pub, priv := NewKeyFromSeed([32]byte{1})
	msg := make([]byte, 1024)
	s := Sign(&priv, msg)
	b.ReportAllocs()
	for b.Loop() {
		if !Verify(pub, msg, s[:]) {
			b.Fatal("invalid")
		}
	}
}
