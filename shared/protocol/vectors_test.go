package protocol

import (
	"bytes"
	"crypto/ed25519"
	"embed"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"siegel/shared/ids"
)

var update = flag.Bool("update", false, "rewrite testdata/frames and the FuzzDecode seed corpus from the fixed values")

//go:embed testdata/frames/*.hex
var vectorFS embed.FS

// seq returns n bytes counting up from start (wrapping), a recognisable fixed value.
func seq(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

func conv(start byte) (c ids.ConvID) { copy(c[:], seq(start, 16)); return }

func key(start byte) (k ids.Key) { copy(k[:], seq(start, 32)); return }

func hash(start byte) (h [32]byte) { copy(h[:], seq(start, 32)); return }

// helloSeed is the fixed Ed25519 seed of the hello vector's signing key.
var helloSeed = seq(0x40, 32)

// helloNonce is the fixed challenge nonce the hello vector is signed over.
func helloNonce() (n [32]byte) { copy(n[:], seq(0xa0, 32)); return }

// requestSite is the fixed site the request vectors are signed for (with the
// hello vector's key, over helloNonce).
func requestSite() (s ids.SiteID) { copy(s[:], seq(0x10, 16)); return }

func fixedSigner() func([]byte) [64]byte {
	priv := ed25519.NewKeyFromSeed(helloSeed)
	return func(m []byte) (s [64]byte) {
		copy(s[:], ed25519.Sign(priv, m))
		return
	}
}

// allTypes lists every frame type of the package.
func allTypes() []Type {
	var ts []Type
	for i, name := range typeNames {
		if name != "" {
			ts = append(ts, Type(i))
		}
	}
	return ts
}

type vector struct {
	name  string
	reqID uint32
	frame Frame
}

// vectors returns one frame of every type, built from fixed values.
func vectors() []vector {
	var ch Challenge
	copy(ch.Nonce[:], seq(0xa0, 32))

	priv := ed25519.NewKeyFromSeed(helloSeed)
	h := &Hello{Role: RoleVisitor, Since: 7}
	copy(h.Site[:], seq(0x10, 16))
	copy(h.SignKey[:], priv.Public().(ed25519.PublicKey))
	copy(h.BoxKey[:], seq(0x60, 32))
	SignHello(helloNonce(), h, func(m []byte) (s [64]byte) {
		copy(s[:], ed25519.Sign(priv, m))
		return
	})

	erase := &Request{Op: OpErase, Conv: conv(0x20), Counter: 1767225600000}
	SignRequest(requestSite(), helloNonce(), erase, fixedSigner())
	correct := &Request{Op: OpCorrect, Conv: conv(0x20), Counter: 1767225600001, Body: CorrectionBody(3, []byte("envelope bytes"))}
	SignRequest(requestSite(), helloNonce(), correct, fixedSigner())

	return []vector{
		{"01-challenge", 0, &ch},
		{"02-hello", 1, h},
		{"03-welcome", 1, &Welcome{Conv: conv(0x20), AckedSeq: 3, DeliveredPos: 5, Roster: []byte("roster bytes")}},
		{"04-send", 2, &Send{Envelope: []byte("envelope bytes")}},
		{"05-ack", 2, &Ack{Conv: conv(0x20), Seq: 4, Pos: 9}},
		{"06-deliver", 0, &Deliver{Conv: conv(0x20), Pos: 9, Stored: 1767225600, Envelope: []byte("envelope bytes")}},
		{"07-list", 3, &List{}},
		{"08-conversations", 3, &Conversations{Entries: []ConvInfo{
			{Conv: conv(0x20), LastPos: 9, Created: 1767222000, DeliveredPos: 8},
			{Conv: conv(0x30), LastPos: 2, Created: 1767225600, DeliveredPos: 0},
		}}},
		{"09-fetch", 4, &Fetch{Conv: conv(0x30), Since: 1}},
		{"10-fetched", 4, &Fetched{Conv: conv(0x30), LastPos: 2}},
		{"11-delivered", 5, &Delivered{Conv: conv(0x30), Pos: 2}},
		{"12-receipt", 0, &Receipt{Conv: conv(0x30), Pos: 2}},
		{"13-error", 0xfffffffe, &Error{Code: CodeSequence, Reason: "seq 5 expected"}},
		{"14-consent", 6, &Consent{Conv: conv(0x20), FlowVersion: 3, TextHash: hash(0xc0), Decision: ConsentAccepted}},
		{"15-consent-receipts", 6, &ConsentReceipts{Conv: conv(0x20), Receipts: []ConsentReceipt{
			{FlowVersion: 3, TextHash: hash(0xc0), Decision: ConsentDeclined, Time: 1767225600},
			{FlowVersion: 3, TextHash: hash(0xc0), Decision: ConsentAccepted, Time: 1767225660},
		}}},
		{"16-request", 8, erase},
		{"17-request", 9, correct},
		{"18-done", 8, &Done{Op: OpErase, Conv: conv(0x20)}},
		{"19-erased", 0, &Erased{Conv: conv(0x20)}},
		{"20-replaced", 0, &Replaced{Conv: conv(0x20), OldPos: 3, NewPos: 12}},
		{"21-typing", 10, &Typing{Conv: conv(0x20), On: true}},
		{"22-typing-push", 0, &TypingPush{Conv: conv(0x20), Key: key(0x80), On: false}},
		{"23-want-person", 11, &WantPerson{Conv: conv(0x20)}},
		{"24-takeover", 12, &Takeover{Conv: conv(0x30)}},
		{"25-close", 13, &Close{Conv: conv(0x30)}},
		{"26-conv-state", 0, &ConvStateFrame{Conv: conv(0x30), State: StateLive, Agent: key(0x80)}},
		{"27-conv-state", 0, &ConvStateFrame{Conv: conv(0x20), State: StateWaiting}},
		{"28-presence", 0, &Presence{Online: 2}},
		{"29-roster-update", 0, &RosterUpdate{Roster: []byte("roster bytes")}},
	}
}

func readVectors(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := vectorFS.ReadDir("testdata/frames")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, f := range files {
		raw, err := vectorFS.ReadFile("testdata/frames/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		b, err := hex.DecodeString(strings.TrimSpace(string(raw)))
		if err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		m[strings.TrimSuffix(f.Name(), ".hex")] = b
	}
	if len(m) == 0 {
		t.Fatal("no frame vectors found")
	}
	return m
}

func TestUpdateVectors(t *testing.T) {
	if !*update {
		return
	}
	for _, v := range vectors() {
		b := Encode(v.reqID, v.frame)
		p := filepath.Join("testdata", "frames", v.name+".hex")
		if err := os.WriteFile(p, []byte(hex.EncodeToString(b)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		p = filepath.Join("testdata", "fuzz", "FuzzDecode", v.name)
		if err := os.WriteFile(p, []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVectors(t *testing.T) {
	files := readVectors(t)
	vs := vectors()
	seen := map[Type]bool{}
	for _, v := range vs {
		want, ok := files[v.name]
		if !ok {
			t.Errorf("%s: no vector file", v.name)
			continue
		}
		delete(files, v.name)
		seen[v.frame.Type()] = true
		if got := Encode(v.reqID, v.frame); !bytes.Equal(got, want) {
			t.Errorf("%s: Encode\n got %x\nwant %x", v.name, got, want)
		}
		id, f, err := Decode(want)
		if err != nil {
			t.Errorf("%s: Decode: %v", v.name, err)
			continue
		}
		if id != v.reqID || !reflect.DeepEqual(f, v.frame) {
			t.Errorf("%s: Decode = %d %#v, want %d %#v", v.name, id, f, v.reqID, v.frame)
		}
	}
	var extra []string
	for name := range files {
		extra = append(extra, name)
	}
	sort.Strings(extra)
	for _, name := range extra {
		t.Errorf("vector file %s.hex has no fixed values in the test", name)
	}
	for _, ty := range allTypes() {
		if !seen[ty] {
			t.Errorf("no vector for frame type %v", ty)
		}
	}
}

// TestVectorLayout checks a few vectors against bytes written out by hand from
// docs/PROTOCOL.md §6, independently of Encode.
func TestVectorLayout(t *testing.T) {
	files := readVectors(t)
	want := map[string]string{
		"01-challenge": "01" + "01" + "00000000" + hex.EncodeToString(seq(0xa0, 32)),
		"05-ack": "01" + "05" + "00000002" + hex.EncodeToString(seq(0x20, 16)) +
			"0000000000000004" + "0000000000000009",
		"07-list":    "01" + "07" + "00000003",
		"13-error":   "01" + "0d" + "fffffffe" + "0007" + "0e" + hex.EncodeToString([]byte("seq 5 expected")),
		"04-send":    "01" + "04" + "00000002" + hex.EncodeToString([]byte("envelope bytes")),
		"12-receipt": "01" + "0c" + "00000000" + hex.EncodeToString(seq(0x30, 16)) + "0000000000000002",
		"03-welcome": "01" + "03" + "00000001" + hex.EncodeToString(seq(0x20, 16)) + "0000000000000003" + "0000000000000005" + hex.EncodeToString([]byte("roster bytes")),
		"02-hello":   "01" + "02" + "00000001" + "01" + hex.EncodeToString(seq(0x10, 16)),
		"14-consent": "01" + "0e" + "00000006" + hex.EncodeToString(seq(0x20, 16)) + "00000003" +
			hex.EncodeToString(seq(0xc0, 32)) + "01",
		"15-consent-receipts": "01" + "0f" + "00000006" + hex.EncodeToString(seq(0x20, 16)) + "0002" +
			"00000003" + hex.EncodeToString(seq(0xc0, 32)) + "02" + "000000006955b900" +
			"00000003" + hex.EncodeToString(seq(0xc0, 32)) + "01" + "000000006955b93c",
		"08-conversations": "01" + "08" + "00000003" + "0002" +
			hex.EncodeToString(seq(0x20, 16)) + "0000000000000009" + "000000006955aaf0" + "0000000000000008" +
			hex.EncodeToString(seq(0x30, 16)) + "0000000000000002" + "000000006955b900" + "0000000000000000",
		// The request vectors up to the body hash; the hash of the empty body is
		// the well-known SHA-256 of "".
		"16-request": "01" + "20" + "00000008" + "01" + hex.EncodeToString(seq(0x20, 16)) + "0000019b76daa800" +
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"17-request": "01" + "20" + "00000009" + "02" + hex.EncodeToString(seq(0x20, 16)) + "0000019b76daa801",
		"18-done":    "01" + "21" + "00000008" + "01" + hex.EncodeToString(seq(0x20, 16)),
		"19-erased":  "01" + "22" + "00000000" + hex.EncodeToString(seq(0x20, 16)),
		"20-replaced": "01" + "23" + "00000000" + hex.EncodeToString(seq(0x20, 16)) +
			"0000000000000003" + "000000000000000c",
		"21-typing":        "01" + "30" + "0000000a" + hex.EncodeToString(seq(0x20, 16)) + "01",
		"22-typing-push":   "01" + "31" + "00000000" + hex.EncodeToString(seq(0x20, 16)) + hex.EncodeToString(seq(0x80, 32)) + "00",
		"23-want-person":   "01" + "32" + "0000000b" + hex.EncodeToString(seq(0x20, 16)),
		"24-takeover":      "01" + "33" + "0000000c" + hex.EncodeToString(seq(0x30, 16)),
		"25-close":         "01" + "34" + "0000000d" + hex.EncodeToString(seq(0x30, 16)),
		"26-conv-state":    "01" + "35" + "00000000" + hex.EncodeToString(seq(0x30, 16)) + "02" + hex.EncodeToString(seq(0x80, 32)),
		"27-conv-state":    "01" + "35" + "00000000" + hex.EncodeToString(seq(0x20, 16)) + "01" + strings.Repeat("00", 32),
		"28-presence":      "01" + "36" + "00000000" + "0002",
		"29-roster-update": "01" + "37" + "00000000" + hex.EncodeToString([]byte("roster bytes")),
	}
	for name, w := range want {
		got := hex.EncodeToString(files[name])
		if name == "02-hello" || name == "16-request" || name == "17-request" {
			// Only a prefix is written out here.
			got = got[:len(w)]
		}
		if got != w {
			t.Errorf("%s:\n got %s\nwant %s", name, got, w)
		}
	}
}

func TestHelloVectorSignature(t *testing.T) {
	files := readVectors(t)
	_, f, err := Decode(files["02-hello"])
	if err != nil {
		t.Fatal(err)
	}
	h := f.(*Hello)
	if !VerifyHello(helloNonce(), h) {
		t.Fatal("hello vector signature does not verify")
	}
	var other [32]byte
	if VerifyHello(other, h) {
		t.Fatal("hello vector signature verifies over another nonce")
	}
}

func TestRequestVectorSignature(t *testing.T) {
	files := readVectors(t)
	pub := ids.Key(ed25519.NewKeyFromSeed(helloSeed).Public().(ed25519.PublicKey))
	for _, name := range []string{"16-request", "17-request"} {
		raw := files[name]
		_, f, err := Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		r := f.(*Request)
		if !r.BodyHashValid() || !VerifyRequest(pub, requestSite(), helloNonce(), r) {
			t.Fatalf("%s: signature or body hash does not verify", name)
		}
		// The signed bytes, written out by hand from docs/PROTOCOL.md §6.5.
		want := append([]byte("siegel/request/v1"), raw[HeaderSize])
		want = append(want, seq(0x10, 16)...)
		want = append(want, raw[HeaderSize+1:HeaderSize+17]...)
		want = append(want, seq(0xa0, 32)...)
		want = append(want, raw[HeaderSize+17:HeaderSize+25]...)
		want = append(want, raw[HeaderSize+25:HeaderSize+57]...)
		if got := RequestSigned(requestSite(), helloNonce(), r); !bytes.Equal(got, want) {
			t.Fatalf("%s: RequestSigned\n got %x\nwant %x", name, got, want)
		}
		if !ed25519.Verify(ed25519.PublicKey(pub[:]), want, raw[HeaderSize+57:HeaderSize+121]) {
			t.Fatalf("%s: the signature field is not a signature of the hand-written bytes", name)
		}
		var other [32]byte
		if VerifyRequest(pub, requestSite(), other, r) {
			t.Fatalf("%s: verifies over another nonce", name)
		}
	}
}
