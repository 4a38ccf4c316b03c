package keyfile

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/nacl/secretbox"
)

var update = flag.Bool("update", false, "rewrite testdata/agent.key and the FuzzKeyfileOpen seed corpus from the fixed values")

//go:embed testdata/agent.key
var vectorText []byte

// The vector's fixed inputs.
const vectorPassphrase = "correct horse battery staple"

var smallParams = Params{Time: 1, MemoryKiB: 8192, Threads: 1}

func seq(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// fixedRand yields salt 0xc0… then nonce 0xd0….
func fixedRand() *bytes.Reader {
	return bytes.NewReader(append(seq(0xc0, 16), seq(0xd0, 24)...))
}

func vectorSecret() Secret {
	var s Secret
	copy(s.Site[:], seq(0x10, 16))
	copy(s.OwnerFP[:], seq(0x20, 32))
	copy(s.AgentID[:], seq(0x40, 16))
	copy(s.SignSeed[:], seq(0x50, 32))
	copy(s.BoxPriv[:], seq(0x70, 32))
	s.Name = "Björn S"
	return s
}

func vector(t testing.TB) []byte {
	t.Helper()
	if len(vectorText) == 0 {
		t.Fatal("no key file vector")
	}
	return vectorText
}

func TestUpdateVector(t *testing.T) {
	if !*update {
		return
	}
	b, err := Seal(fixedRand(), vectorSecret(), vectorPassphrase, smallParams)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", "agent.key"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	crlf := bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
	for name, in := range map[string][]byte{
		"vector":        b,
		"vector-crlf":   crlf,
		"no-final-line": b[:len(b)-1],
		"version-2":     []byte("SIEGEL AGENT KEY 2\nAg==\n"),
		"short":         []byte(Header + "\nAQ==\n"),
	} {
		p := filepath.Join("testdata", "fuzz", "FuzzKeyfileOpen", name)
		if err := os.WriteFile(p, []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", in)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVector(t *testing.T) {
	want := vector(t)
	got, err := Seal(fixedRand(), vectorSecret(), vectorPassphrase, smallParams)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Seal\n got %q\nwant %q", got, want)
	}
	s, err := Open(want, vectorPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	if s != vectorSecret() {
		t.Fatalf("Open = %#v", s)
	}

	// The layout, written out from docs/PROTOCOL.md §5 independently of Seal.
	if !bytes.HasPrefix(want, []byte("SIEGEL AGENT KEY 1\n")) || want[len(want)-1] != '\n' {
		t.Fatalf("text form %q", want)
	}
	b, err := base64.StdEncoding.DecodeString(string(want[19 : len(want)-1]))
	if err != nil {
		t.Fatal(err)
	}
	var h []byte
	h = append(h, 1)
	h = append(h, seq(0x10, 16)...)
	h = append(h, seq(0x20, 32)...)
	h = append(h, seq(0xc0, 16)...)
	h = append(h, 0, 0, 0, 1, 0, 0, 0x20, 0, 1)
	h = append(h, seq(0xd0, 24)...)
	if !bytes.Equal(b[:len(h)], h) {
		t.Fatalf("header\n got %x\nwant %x", b[:len(h)], h)
	}
	if len(b) != len(h)+16+16+32+32+1+len("Björn S") {
		t.Fatalf("length %d", len(b))
	}

	// The key, as computed by an independent Argon2id implementation for
	// argon2id(passphrase, salt ‖ site ‖ owner fingerprint, 1, 8192, 1, 32).
	const wantKey = "be9f7837cfad5ed4da312e2da24234607ebb02fc288b43da1c0eefa151d7ce38"
	s0 := vectorSecret()
	key := deriveKey(vectorPassphrase, seq(0xc0, 16), s0.Site, s0.OwnerFP, smallParams)
	if hex.EncodeToString(key[:]) != wantKey {
		t.Fatalf("derived key %x", key[:])
	}
	var nonce [24]byte
	copy(nonce[:], seq(0xd0, 24))
	plain, ok := secretbox.Open(nil, b[len(h):], &nonce, key)
	if !ok {
		t.Fatal("secretbox does not open with the derived key")
	}
	wantPlain := append(append(append(seq(0x40, 16), seq(0x50, 32)...), seq(0x70, 32)...), 8)
	wantPlain = append(wantPlain, "Bj\xc3\xb6rn S"...)
	if !bytes.Equal(plain, wantPlain) {
		t.Fatalf("secret\n got %x\nwant %x", plain, wantPlain)
	}
}

func TestRoundTrip(t *testing.T) {
	s := vectorSecret()
	if _, err := rand.Read(s.SignSeed[:]); err != nil {
		t.Fatal(err)
	}
	s.Name = strings.Repeat("ß", 32)
	for _, p := range []Params{smallParams, {Time: 2, MemoryKiB: 8200, Threads: 2}} {
		text, err := Seal(rand.Reader, s, "pässwörd", p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Open(text, "pässwörd")
		if err != nil || got != s {
			t.Fatalf("Open = %#v, %v", got, err)
		}
		if _, err := Open(text, "passwort"); !errors.Is(err, ErrWrongPassphrase) {
			t.Fatalf("wrong passphrase: %v", err)
		}
		if _, err := Open(text, ""); !errors.Is(err, ErrWrongPassphrase) {
			t.Fatalf("empty passphrase: %v", err)
		}
	}
	// Two seals of the same secret differ (fresh salt and nonce).
	a, _ := Seal(rand.Reader, s, "x", smallParams)
	b, _ := Seal(rand.Reader, s, "x", smallParams)
	if bytes.Equal(a, b) {
		t.Fatal("two seals are identical")
	}
}

func TestDefaultParams(t *testing.T) {
	if err := DefaultParams.check(specLimits); err != nil {
		t.Fatal(err)
	}
	text, err := Seal(rand.Reader, vectorSecret(), "pw", DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := Open(text, "pw"); err != nil || s != vectorSecret() {
		t.Fatalf("Open = %#v, %v", s, err)
	}
}

// body decodes the vector's base64 line.
func body(t *testing.T) []byte {
	t.Helper()
	v := vector(t)
	b, err := base64.StdEncoding.DecodeString(string(v[len(Header)+1 : len(v)-1]))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func text(b []byte) []byte {
	return []byte(Header + "\n" + base64.StdEncoding.EncodeToString(b) + "\n")
}

func TestTextForms(t *testing.T) {
	v := string(vector(t))
	line := v[len(Header)+1 : len(v)-1]
	for name, in := range map[string]string{
		"LF":               Header + "\n" + line + "\n",
		"CRLF":             Header + "\r\n" + line + "\r\n",
		"no final newline": Header + "\n" + line,
		"CRLF, no final":   Header + "\r\n" + line,
		"mixed":            Header + "\r\n" + line + "\n",
	} {
		if s, err := Open([]byte(in), vectorPassphrase); err != nil || s != vectorSecret() {
			t.Errorf("%s: Open = %v", name, err)
		}
	}
}

func TestOpenRejects(t *testing.T) {
	v := string(vector(t))
	line := v[len(Header)+1 : len(v)-1]
	b := body(t)
	with := func(f func(b []byte) []byte) string {
		return string(text(f(append([]byte(nil), b...))))
	}
	param := func(off int, v uint32, size int) string {
		return with(func(b []byte) []byte {
			if size == 1 {
				b[off] = byte(v)
			} else {
				binary.BigEndian.PutUint32(b[off:], v)
			}
			return b
		})
	}
	const timeOff, memOff, thrOff = 65, 69, 73
	// A canonical base64 line with non-zero padding bits: the last character
	// before "=" carries bits beyond the data.
	nonCanon := []byte(line)
	last := strings.IndexByte(line, '=') - 1
	if last < 0 {
		t.Fatal("vector line has no padding")
	}
	nonCanon[last] = "BCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/A"[strings.IndexByte(
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", line[last])]

	cases := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrMalformed},
		{"header only, no newline", Header, ErrMalformed},
		{"header only", Header + "\n", ErrMalformed},
		{"other header", "SIEGEL ROSTER 1\n" + line + "\n", ErrMalformed},
		{"lower-case header", strings.ToLower(Header) + "\n" + line + "\n", ErrMalformed},
		{"header trailing space", Header + " \n" + line + "\n", ErrMalformed},
		{"leading blank line", "\n" + v, ErrMalformed},
		{"leading space", " " + v, ErrMalformed},
		{"text version 2", "SIEGEL AGENT KEY 2\n" + line + "\n", ErrUnsupportedVersion},
		{"text version 10", "SIEGEL AGENT KEY 10\n" + line + "\n", ErrUnsupportedVersion},
		{"text version 01", "SIEGEL AGENT KEY 01\n" + line + "\n", ErrMalformed},
		{"binary version 2", with(func(b []byte) []byte { b[0] = 2; return b }), ErrUnsupportedVersion},
		{"binary version 0", with(func(b []byte) []byte { b[0] = 0; return b }), ErrUnsupportedVersion},
		{"blank line before key", Header + "\n\n" + line + "\n", ErrMalformed},
		{"two final newlines", v + "\n", ErrMalformed},
		{"text after key", v + "x", ErrMalformed},
		{"trailing space", Header + "\n" + line + " \n", ErrMalformed},
		{"final CR only", Header + "\n" + line + "\r", ErrMalformed},
		{"wrapped base64", Header + "\n" + line[:64] + "\n" + line[64:] + "\n", ErrMalformed},
		{"CR inside base64", Header + "\n" + line[:64] + "\r" + line[64:] + "\n", ErrMalformed},
		{"unpadded base64", Header + "\n" + strings.TrimRight(line, "=") + "\n", ErrMalformed},
		{"URL alphabet", Header + "\n" + "-_-_" + line[4:] + "\n", ErrMalformed},
		{"non-zero padding bits", Header + "\n" + string(nonCanon) + "\n", ErrMalformed},
		{"bad character", Header + "\n" + "*" + line[1:] + "\n", ErrMalformed},
		{"empty key", Header + "\n\n", ErrMalformed},
		{"one byte short", with(func(b []byte) []byte { return b[:minSize-1] }), ErrMalformed},
		{"one byte too long", with(func(b []byte) []byte { return append(b, make([]byte, maxSize-len(b)+1)...) }), ErrMalformed},
		{"time 0", param(timeOff, 0, 4), ErrMalformed},
		{"time 17", param(timeOff, 17, 4), ErrMalformed},
		{"memory 8191", param(memOff, 8191, 4), ErrMalformed},
		{"memory 1048577", param(memOff, 1048577, 4), ErrMalformed},
		{"threads 0", param(thrOff, 0, 1), ErrMalformed},
		{"threads 17", param(thrOff, 17, 1), ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open([]byte(c.in), vectorPassphrase)
			if !errors.Is(err, c.want) || s != (Secret{}) {
				t.Fatalf("Open = %#v, %v; want %v", s, err, c.want)
			}
		})
	}
}

// Every part of the file is bound: a change anywhere after the version byte
// makes it fail to open.
func TestTampering(t *testing.T) {
	b := body(t)
	for name, off := range map[string]int{
		"site": 1, "owner fingerprint": 17 + 31, "salt": 49 + 5,
		"time": 68, "memory": 72, "threads": 73, "nonce": 74 + 23,
		"ciphertext tag": 98, "ciphertext": len(b) - 1,
	} {
		m := append([]byte(nil), b...)
		switch name {
		case "time": // 1 → 2, still in range
			m[off] = 2
		case "memory": // 8192 → 8193
			m[off] = 1
		case "threads": // 1 → 2
			m[off] = 2
		default:
			m[off] ^= 0x01
		}
		if _, err := Open(text(m), vectorPassphrase); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("%s changed: %v", name, err)
		}
	}
	if _, err := Open(vector(t), vectorPassphrase+" "); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("wrong passphrase: %v", err)
	}
}

// sealRaw seals an arbitrary plaintext the way Seal does, to test checks that
// only apply after a successful decryption.
func sealRaw(plain []byte) []byte {
	s := vectorSecret()
	salt := seq(0xc0, 16)
	var nonce [24]byte
	copy(nonce[:], seq(0xd0, 24))
	b := []byte{1}
	b = append(b, s.Site[:]...)
	b = append(b, s.OwnerFP[:]...)
	b = append(b, salt...)
	b = append(b, 0, 0, 0, 1, 0, 0, 0x20, 0, 1)
	b = append(b, nonce[:]...)
	b = secretbox.Seal(b, plain, &nonce, deriveKey(vectorPassphrase, salt, s.Site, s.OwnerFP, smallParams))
	return text(b)
}

func TestOpenRejectsSecret(t *testing.T) {
	fixed := make([]byte, 16+32+32)
	cases := map[string][]byte{
		"name shorter than length": append(append(fixed[:80:80], 3), "ab"...),
		"name longer than length":  append(append(fixed[:80:80], 1), "ab"...),
		"name length 0":            append(append(fixed[:80:80], 0), "a"...),
		"name invalid UTF-8":       append(append(fixed[:80:80], 2), "a\xff"...),
		"name control":             append(append(fixed[:80:80], 2), "a\x1b"...),
	}
	for name, plain := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Open(sealRaw(plain), vectorPassphrase); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Open: %v", err)
			}
		})
	}
	// The same construction with a valid name opens.
	s, err := Open(sealRaw(append(append(fixed[:80:80], 2), "ab"...)), vectorPassphrase)
	if err != nil || s.Name != "ab" {
		t.Fatalf("valid raw key file: %#v, %v", s, err)
	}
}

func TestSealRejects(t *testing.T) {
	cases := []struct {
		name string
		mut  func(s *Secret, p *Params)
	}{
		{"empty name", func(s *Secret, p *Params) { s.Name = "" }},
		{"name 65 bytes", func(s *Secret, p *Params) { s.Name = strings.Repeat("a", 65) }},
		{"name control", func(s *Secret, p *Params) { s.Name = "a\nb" }},
		{"name invalid UTF-8", func(s *Secret, p *Params) { s.Name = "\xff" }},
		{"time 0", func(s *Secret, p *Params) { p.Time = 0 }},
		{"time 17", func(s *Secret, p *Params) { p.Time = 17 }},
		{"memory 8191", func(s *Secret, p *Params) { p.MemoryKiB = 8191 }},
		{"memory 1048577", func(s *Secret, p *Params) { p.MemoryKiB = 1048577 }},
		{"threads 0", func(s *Secret, p *Params) { p.Threads = 0 }},
		{"threads 17", func(s *Secret, p *Params) { p.Threads = 17 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, p := vectorSecret(), smallParams
			c.mut(&s, &p)
			if b, err := Seal(fixedRand(), s, "pw", p); !errors.Is(err, ErrMalformed) || b != nil {
				t.Fatalf("Seal = %q, %v", b, err)
			}
		})
	}
	short := bytes.NewReader(make([]byte, 39))
	if b, err := Seal(short, vectorSecret(), "pw", smallParams); err == nil || b != nil {
		t.Fatalf("Seal with short random: %q, %v", b, err)
	}
}
