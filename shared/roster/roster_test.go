package roster

import (
	"bytes"
	"crypto/ed25519"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"siegel/shared/ids"
)

var update = flag.Bool("update", false, "rewrite testdata/roster.hex and the FuzzRosterParse seed corpus from the fixed values")

//go:embed testdata/roster.hex
var vectorHex string

func seq(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

func key(start byte) (k ids.Key)         { copy(k[:], seq(start, 32)); return }
func agentID(start byte) (a ids.AgentID) { copy(a[:], seq(start, 16)); return }

// ownerSeed is the fixed Ed25519 seed of the vector's owner.
var ownerSeed = seq(0x01, 32)

func ownerKey() ed25519.PrivateKey { return ed25519.NewKeyFromSeed(ownerSeed) }

func pubOf(k ed25519.PrivateKey) (p ids.Key) { copy(p[:], k.Public().(ed25519.PublicKey)); return }

// vectorRoster is the roster of the known-answer vector; its agents are not
// sorted by ID, Encode sorts them.
func vectorRoster() *Roster {
	var site ids.SiteID
	copy(site[:], seq(0x10, 16))
	return &Roster{
		Site:     site,
		Version:  3,
		NotAfter: 1798761600, // 2027-01-01T00:00:00Z
		Agents: []Agent{
			{ID: agentID(0x90), Name: "客服", Sign: key(0x60), Box: key(0x70)},
			{ID: agentID(0x20), Name: "Anna", Sign: key(0x40), Box: key(0x50)},
			{ID: agentID(0x30), Name: "Björn Weiß", Sign: key(0x80), Box: key(0xa0)},
		},
	}
}

func sortedVectorRoster() *Roster {
	r := vectorRoster()
	r.Owner = pubOf(ownerKey())
	a := r.Agents
	r.Agents = []Agent{a[1], a[2], a[0]}
	return r
}

func vector(t testing.TB) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimSpace(vectorHex))
	if err != nil || len(b) == 0 {
		t.Fatalf("no roster vector: %v", err)
	}
	return b
}

func TestUpdateVector(t *testing.T) {
	if !*update {
		return
	}
	b, err := vectorRoster().Encode(ownerKey())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", "roster.hex"), []byte(hex.EncodeToString(b)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty, err := (&Roster{Version: 1}).Encode(ownerKey())
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), b...)
	bad[len(bad)-1] ^= 1
	for name, in := range map[string][]byte{"vector": b, "empty-roster": empty, "bad-signature": bad, "version-2": {2}} {
		p := filepath.Join("testdata", "fuzz", "FuzzRosterParse", name)
		if err := os.WriteFile(p, []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", in)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVector(t *testing.T) {
	want := vector(t)
	r := vectorRoster()
	before := vectorRoster()
	got, err := r.Encode(ownerKey())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Encode\n got %x\nwant %x", got, want)
	}
	if !reflect.DeepEqual(r, before) {
		t.Fatal("Encode modified the roster")
	}
	p, err := Parse(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, sortedVectorRoster()) {
		t.Fatalf("Parse = %#v", p)
	}

	// The layout, written out from docs/PROTOCOL.md §4 independently of Encode.
	owner := pubOf(ownerKey())
	var w []byte
	w = append(w, 0x01)
	w = append(w, seq(0x10, 16)...)
	w = append(w, owner[:]...)
	w = append(w, 0, 0, 0, 0, 0, 0, 0, 3)
	w = append(w, 0, 0, 0, 0, 0x6b, 0x36, 0xec, 0x80)
	w = append(w, 3)
	for _, a := range []struct {
		id        byte
		name      string
		sign, box byte
	}{{0x20, "Anna", 0x40, 0x50}, {0x30, "Bj\xc3\xb6rn Wei\xc3\x9f", 0x80, 0xa0}, {0x90, "\xe5\xae\xa2\xe6\x9c\x8d", 0x60, 0x70}} {
		w = append(w, seq(a.id, 16)...)
		w = append(w, byte(len(a.name)))
		w = append(w, a.name...)
		w = append(w, seq(a.sign, 32)...)
		w = append(w, seq(a.box, 32)...)
	}
	if !bytes.Equal(want[:len(want)-64], w) {
		t.Fatalf("layout\n got %x\nwant %x", want[:len(want)-64], w)
	}
	if !ed25519.Verify(owner[:], append([]byte("siegel/roster/v1"), w...), want[len(want)-64:]) {
		t.Fatal("vector signature does not verify over the domain and body")
	}
}

// raw builds a roster from parts and signs it with the owner key, so that a
// structural rejection is not masked by a signature failure.
type rawAgent struct {
	id        ids.AgentID
	name      string
	nameLen   int // -1: len(name)
	sign, box ids.Key
}

func raw(version byte, rosterVersion, notAfter uint64, count int, agents []rawAgent, trailing []byte) []byte {
	k := ownerKey()
	owner := pubOf(k)
	b := []byte{version}
	b = append(b, seq(0x10, 16)...)
	b = append(b, owner[:]...)
	b = binary.BigEndian.AppendUint64(b, rosterVersion)
	b = binary.BigEndian.AppendUint64(b, notAfter)
	b = append(b, byte(count))
	for _, a := range agents {
		b = append(b, a.id[:]...)
		l := a.nameLen
		if l < 0 {
			l = len(a.name)
		}
		b = append(b, byte(l))
		b = append(b, a.name...)
		b = append(b, a.sign[:]...)
		b = append(b, a.box[:]...)
	}
	b = append(b, trailing...)
	return append(b, ed25519.Sign(k, append([]byte(Domain), b...))...)
}

func ag(id byte, name string, sign, box byte) rawAgent {
	return rawAgent{id: agentID(id), name: name, nameLen: -1, sign: key(sign), box: key(box)}
}

func TestParseRejects(t *testing.T) {
	one := []rawAgent{ag(1, "A", 0x40, 0x50)}
	var many []rawAgent
	for i := 0; i <= MaxAgents; i++ {
		many = append(many, ag(byte(i), "A", byte(i), byte(100+i)))
	}
	withLen := func(a rawAgent, l int) []rawAgent { a.nameLen = l; return []rawAgent{a} }
	huge := raw(1, 1, 1, 1, one, nil)
	huge = append(huge, make([]byte, MaxSize)...)

	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"version 0", raw(0, 1, 1, 1, one, nil), ErrUnsupportedVersion},
		{"version 2", raw(2, 1, 1, 1, one, nil), ErrUnsupportedVersion},
		{"short", raw(1, 1, 1, 0, nil, nil)[:headerSize+sigSize-1], ErrMalformed},
		{"too large", huge, ErrMalformed},
		{"roster version 0", raw(1, 0, 1, 1, one, nil), ErrMalformed},
		{"not after beyond int64", raw(1, 1, 1<<63, 1, one, nil), ErrMalformed},
		{"65 agents", raw(1, 1, 1, MaxAgents+1, many, nil), ErrMalformed},
		{"count larger than agents", raw(1, 1, 1, 2, one, nil), ErrMalformed},
		{"count smaller than agents", raw(1, 1, 1, 0, one, nil), ErrMalformed},
		{"trailing byte", raw(1, 1, 1, 1, one, []byte{0}), ErrMalformed},
		{"missing signature", raw(1, 1, 1, 1, one, nil)[:headerSize+agentFixed+1], ErrMalformed},
		{"name length 0", raw(1, 1, 1, 1, []rawAgent{ag(1, "", 0x40, 0x50)}, nil), ErrMalformed},
		{"name length 65", raw(1, 1, 1, 1, []rawAgent{ag(1, strings.Repeat("a", 65), 0x40, 0x50)}, nil), ErrMalformed},
		{"name length beyond input", raw(1, 1, 1, 1, withLen(ag(1, "A", 0x40, 0x50), 200), nil), ErrMalformed},
		{"name invalid UTF-8", raw(1, 1, 1, 1, []rawAgent{ag(1, "a\xff", 0x40, 0x50)}, nil), ErrMalformed},
		{"name newline", raw(1, 1, 1, 1, []rawAgent{ag(1, "a\nb", 0x40, 0x50)}, nil), ErrMalformed},
		{"name NUL", raw(1, 1, 1, 1, []rawAgent{ag(1, "a\x00", 0x40, 0x50)}, nil), ErrMalformed},
		{"name DEL", raw(1, 1, 1, 1, []rawAgent{ag(1, "a\x7f", 0x40, 0x50)}, nil), ErrMalformed},
		{"name C1 control", raw(1, 1, 1, 1, []rawAgent{ag(1, "a\u0085", 0x40, 0x50)}, nil), ErrMalformed},
		{"unsorted IDs", raw(1, 1, 1, 2, []rawAgent{ag(2, "A", 0x40, 0x50), ag(1, "B", 0x41, 0x51)}, nil), ErrMalformed},
		{"duplicate ID", raw(1, 1, 1, 2, []rawAgent{ag(1, "A", 0x40, 0x50), ag(1, "B", 0x41, 0x51)}, nil), ErrMalformed},
		{"duplicate signing key", raw(1, 1, 1, 2, []rawAgent{ag(1, "A", 0x40, 0x50), ag(2, "B", 0x40, 0x51)}, nil), ErrMalformed},
		{"duplicate box key", raw(1, 1, 1, 2, []rawAgent{ag(1, "A", 0x40, 0x50), ag(2, "B", 0x41, 0x50)}, nil), ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Parse(c.in)
			if !errors.Is(err, c.want) || r != nil {
				t.Fatalf("Parse = %v, %v; want %v", r, err, c.want)
			}
		})
	}

	// The same structure with valid values parses, so the cases above fail
	// for the reason they name.
	for _, in := range [][]byte{
		raw(1, 1, 1, 1, one, nil),
		raw(1, 1, 1<<63-1, 0, nil, nil),
		raw(1, 1, 1, 1, []rawAgent{ag(1, strings.Repeat("a", 64), 0x40, 0x50)}, nil),
		raw(1, 1, 1, 2, []rawAgent{ag(1, "A", 0x40, 0x50), ag(2, "B", 0x41, 0x51)}, nil),
		raw(1, 1, 1, MaxAgents, many[:MaxAgents], nil),
	} {
		if _, err := Parse(in); err != nil {
			t.Errorf("valid roster refused: %v", err)
		}
	}
}

func TestTampering(t *testing.T) {
	b := vector(t)
	for i := range b {
		for bit := 0; bit < 8; bit++ {
			m := append([]byte(nil), b...)
			m[i] ^= 1 << bit
			r, err := Parse(m)
			if err == nil || r != nil {
				t.Fatalf("flipped bit %d of byte %d: accepted", bit, i)
			}
			if !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupportedVersion) {
				t.Fatalf("flipped bit %d of byte %d: %v", bit, i, err)
			}
		}
	}
	for n := 0; n < len(b); n++ {
		if _, err := Parse(b[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: accepted", n)
		}
	}

	// Another key signs, the owner field names the real owner.
	other := ed25519.NewKeyFromSeed(seq(0x99, 32))
	m := append([]byte(nil), b[:len(b)-64]...)
	m = append(m, ed25519.Sign(other, append([]byte(Domain), m...))...)
	if _, err := Parse(m); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("signature by another key: %v", err)
	}
	// Signed without the domain.
	m = append([]byte(nil), b[:len(b)-64]...)
	m = append(m, ed25519.Sign(ownerKey(), m)...)
	if _, err := Parse(m); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("signature without domain: %v", err)
	}
}

func TestVerify(t *testing.T) {
	b := vector(t)
	r := sortedVectorRoster()
	fp := ids.OwnerFingerprint(r.Owner)
	at := time.Unix(r.NotAfter, 0)

	got, err := Verify(b, fp, r.Site, at, r.Version)
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("Verify = %v, %v", got, err)
	}
	if _, err := Verify(b, fp, r.Site, time.Unix(0, 0), 0); err != nil {
		t.Fatalf("Verify early with minVersion 0: %v", err)
	}

	otherFP := fp
	otherFP[0] ^= 1
	otherSite := r.Site
	otherSite[15] ^= 1
	bad := append([]byte(nil), b...)
	bad[len(bad)-1] ^= 1
	cases := []struct {
		name string
		in   []byte
		fp   ids.Fingerprint
		site ids.SiteID
		now  time.Time
		min  uint64
		want error
	}{
		{"bad signature", bad, fp, r.Site, at, 1, ErrBadSignature},
		{"wrong owner", b, otherFP, r.Site, at, 1, ErrWrongOwner},
		{"wrong site", b, fp, otherSite, at, 1, ErrWrongSite},
		{"expired", b, fp, r.Site, at.Add(time.Second), 1, ErrExpired},
		{"rolled back", b, fp, r.Site, at, r.Version + 1, ErrRollback},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Verify(c.in, c.fp, c.site, c.now, c.min)
			if !errors.Is(err, c.want) || got != nil {
				t.Fatalf("Verify = %v, %v; want %v", got, err, c.want)
			}
		})
	}

	// A roster signed by another owner, checked against the pinned fingerprint.
	other := ed25519.NewKeyFromSeed(seq(0x99, 32))
	ob, err := vectorRoster().Encode(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ob, fp, r.Site, at, 1); !errors.Is(err, ErrWrongOwner) {
		t.Fatalf("roster of another owner: %v", err)
	}
}

// inconsistentKey returns k with a public half that is not the key of its seed.
func inconsistentKey(k ed25519.PrivateKey) ed25519.PrivateKey {
	b := slices.Clone(k)
	b[40] ^= 1
	return b
}

func TestEncodeRejects(t *testing.T) {
	k := ownerKey()
	base := func() *Roster { return vectorRoster() }
	var many []Agent
	for i := 0; i <= MaxAgents; i++ {
		many = append(many, Agent{ID: agentID(byte(i)), Name: "A", Sign: key(byte(i)), Box: key(byte(100 + i))})
	}
	cases := []struct {
		name string
		mut  func(r *Roster)
		key  ed25519.PrivateKey
		want error
	}{
		{"roster version 0", func(r *Roster) { r.Version = 0 }, k, ErrMalformed},
		{"negative not after", func(r *Roster) { r.NotAfter = -1 }, k, ErrMalformed},
		{"65 agents", func(r *Roster) { r.Agents = many }, k, ErrMalformed},
		{"empty name", func(r *Roster) { r.Agents[0].Name = "" }, k, ErrMalformed},
		{"name 65 bytes", func(r *Roster) { r.Agents[0].Name = strings.Repeat("ä", 32) + "a" }, k, ErrMalformed},
		{"name invalid UTF-8", func(r *Roster) { r.Agents[0].Name = "\xc3" }, k, ErrMalformed},
		{"name control", func(r *Roster) { r.Agents[0].Name = "a\tb" }, k, ErrMalformed},
		{"duplicate ID", func(r *Roster) { r.Agents[0].ID = r.Agents[2].ID }, k, ErrMalformed},
		{"duplicate signing key", func(r *Roster) { r.Agents[0].Sign = r.Agents[2].Sign }, k, ErrMalformed},
		{"duplicate box key", func(r *Roster) { r.Agents[0].Box = r.Agents[2].Box }, k, ErrMalformed},
		{"owner field of another key", func(r *Roster) { r.Owner = key(0x33) }, k, ErrWrongOwner},
		{"short private key", func(r *Roster) {}, k[:32], ErrMalformed},
		{"public half of another key", func(r *Roster) {}, inconsistentKey(k), ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := base()
			c.mut(r)
			b, err := r.Encode(c.key)
			if !errors.Is(err, c.want) || b != nil {
				t.Fatalf("Encode = %x, %v; want %v", b, err, c.want)
			}
		})
	}

	// The owner field may also be set to the right key.
	r := base()
	r.Owner = pubOf(k)
	if b, err := r.Encode(k); err != nil || !bytes.Equal(b, vector(t)) {
		t.Fatalf("Encode with the owner field set: %v", err)
	}
}

func TestRoundTripLimits(t *testing.T) {
	k := ownerKey()
	for _, r := range []*Roster{
		{Version: 1, NotAfter: 0},
		{Version: ^uint64(0), NotAfter: 1<<63 - 1, Agents: func() []Agent {
			var a []Agent
			for i := MaxAgents - 1; i >= 0; i-- {
				a = append(a, Agent{ID: agentID(byte(i * 3)), Name: strings.Repeat("é", 32), Sign: key(byte(i)), Box: key(byte(i))})
			}
			return a
		}()},
	} {
		b, err := r.Encode(k)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Agents) == MaxAgents && len(b) != MaxSize {
			t.Fatalf("largest roster is %d bytes, MaxSize %d", len(b), MaxSize)
		}
		if p.Version != r.Version || p.NotAfter != r.NotAfter || len(p.Agents) != len(r.Agents) || p.Owner != pubOf(k) {
			t.Fatalf("round trip: %#v", p)
		}
		for i := 1; i < len(p.Agents); i++ {
			if bytes.Compare(p.Agents[i-1].ID[:], p.Agents[i].ID[:]) >= 0 {
				t.Fatal("agents not sorted")
			}
		}
		again, err := p.Encode(k)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs: %v", err)
		}
	}
}

func TestLookups(t *testing.T) {
	r, err := Parse(vector(t))
	if err != nil {
		t.Fatal(err)
	}
	a, ok := r.AgentBySign(key(0x80))
	if !ok || a.Name != "Björn Weiß" || a.Box != key(0xa0) {
		t.Fatalf("AgentBySign = %#v, %v", a, ok)
	}
	if _, ok := r.AgentBySign(key(0x50)); ok {
		t.Fatal("AgentBySign found a box key")
	}
	want := []ids.Key{key(0x50), key(0xa0), key(0x70)}
	if got := r.BoxKeys(); !reflect.DeepEqual(got, want) {
		t.Fatalf("BoxKeys = %v", got)
	}
	if got := (&Roster{}).BoxKeys(); len(got) != 0 {
		t.Fatalf("BoxKeys of an empty roster = %v", got)
	}
}

func TestValidName(t *testing.T) {
	for s, want := range map[string]bool{
		"Anna": true, "客服": true, strings.Repeat("a", 64): true, "a b": true,
		"": false, strings.Repeat("a", 65): false, "\xff": false, "a\rb": false, "\u009f": false,
	} {
		if ValidName(s) != want {
			t.Errorf("ValidName(%q) = %v", s, !want)
		}
	}
}
