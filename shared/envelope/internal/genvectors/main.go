// Command genvectors writes the envelope known-answer vectors
// (testdata/vectors/*.json, testdata/vectors/invalid/*.json) and the fuzz seed
// corpus (testdata/fuzz/) from fixed keys and fixed random bytes.
//
// It encodes every envelope by hand, straight from docs/PROTOCOL.md §3, and
// refuses to write anything unless the package's Seal produces the same bytes
// for the valid vectors and its Open the expected error class for the invalid
// ones.
//
// Usage (from the module root): go run ./shared/envelope/internal/genvectors
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/nacl/box"
	"golang.org/x/crypto/nacl/secretbox"

	"siegel/shared/envelope"
	"siegel/shared/ids"
)

const domain = "siegel/envelope/v1"

// Party is a key pair set as written to the vector files (hex).
type Party struct {
	Name       string `json:"name"`
	SignSeed   string `json:"sign_seed"`
	BoxPrivate string `json:"box_private"`
	SignPublic string `json:"sign_public"`
	BoxPublic  string `json:"box_public"`
}

// Valid is a vector that Seal must reproduce byte for byte.
type Valid struct {
	Description string  `json:"description"`
	Sender      Party   `json:"sender"`
	Recipients  []Party `json:"recipients"` // in the order given to Seal
	Site        string  `json:"site"`
	Conv        string  `json:"conversation"`
	Seq         uint64  `json:"seq"`
	Type        uint8   `json:"content_type"`
	Time        int64   `json:"time"`
	Content     string  `json:"content"`
	Random      string  `json:"random"` // K ‖ N, the bytes Seal reads
	Envelope    string  `json:"envelope"`
}

// Invalid is a vector that Open must refuse with the named error class.
type Invalid struct {
	Description string `json:"description"`
	Envelope    string `json:"envelope"`
	Recipient   Party  `json:"recipient"`
	Site        string `json:"site"`
	Conv        string `json:"conversation"`
	Error       string `json:"error"`
}

type key struct {
	name    string
	seed    [32]byte
	priv    ed25519.PrivateKey
	sign    [32]byte
	boxPriv [32]byte
	box     [32]byte
}

func derive(label string) [32]byte {
	return sha256.Sum256([]byte("siegel envelope test vector/" + label))
}

func newKey(name string) *key {
	k := &key{name: name, seed: derive(name + "/sign"), boxPriv: derive(name + "/box")}
	k.priv = ed25519.NewKeyFromSeed(k.seed[:])
	copy(k.sign[:], k.priv.Public().(ed25519.PublicKey))
	pub, err := curve25519.X25519(k.boxPriv[:], curve25519.Basepoint)
	if err != nil {
		log.Fatal(err)
	}
	copy(k.box[:], pub)
	return k
}

func (k *key) party() Party {
	return Party{Name: k.name, SignSeed: hex.EncodeToString(k.seed[:]), BoxPrivate: hex.EncodeToString(k.boxPriv[:]),
		SignPublic: hex.EncodeToString(k.sign[:]), BoxPublic: hex.EncodeToString(k.box[:])}
}

// randomBytes returns 56 fixed "random" bytes for a vector: K then N.
func randomBytes(name string) []byte {
	a, b := derive(name+"/random/0"), derive(name+"/random/1")
	return append(a[:], b[:24]...)
}

// inner is the plaintext of a body before encryption.
type inner struct {
	version byte
	site    ids.SiteID
	conv    ids.ConvID
	seq     uint64
	sign    [32]byte
	ctype   byte
	time    uint64
	content []byte
	clen    int // content length written; -1: len(content)
	size    int // total size with padding; 0: the smallest bucket
	pad     byte
}

func (in inner) encode() []byte {
	var b []byte
	b = append(b, in.version)
	b = append(b, in.site[:]...)
	b = append(b, in.conv[:]...)
	b = binary.BigEndian.AppendUint64(b, in.seq)
	b = append(b, in.sign[:]...)
	b = append(b, in.ctype)
	b = binary.BigEndian.AppendUint64(b, in.time)
	clen := in.clen
	if clen < 0 {
		clen = len(in.content)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(clen))
	b = append(b, in.content...)
	size := in.size
	if size == 0 {
		size = 256
		for size < len(b) {
			size *= 2
		}
	}
	for len(b) < size {
		b = append(b, in.pad)
	}
	return b
}

// outer holds everything of an envelope; build encodes and signs it.
type outer struct {
	version    byte
	site       ids.SiteID
	conv       ids.ConvID
	seq        uint64
	sign       [32]byte
	box        [32]byte // sender box key written in the header
	boxPriv    [32]byte // sender box private key used for the stanzas
	nonce      [24]byte
	k          [32]byte
	bodyKey    [32]byte // key the body is sealed with (normally k)
	recipients [][32]byte
	inner      []byte
	signer     ed25519.PrivateKey
}

func (o outer) build() []byte {
	var b []byte
	b = append(b, o.version)
	b = append(b, o.site[:]...)
	b = append(b, o.conv[:]...)
	b = binary.BigEndian.AppendUint64(b, o.seq)
	b = append(b, o.sign[:]...)
	b = append(b, o.box[:]...)
	b = append(b, o.nonce[:]...)
	b = append(b, byte(len(o.recipients)))
	for _, r := range o.recipients {
		var shared [32]byte
		box.Precompute(&shared, &r, &o.boxPriv)
		b = append(b, r[:]...)
		b = box.SealAfterPrecomputation(b, o.k[:], &o.nonce, &shared)
	}
	body := secretbox.Seal(nil, o.inner, &o.nonce, &o.bodyKey)
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
	b = append(b, body...)
	return sign(b, o.signer)
}

func sign(b []byte, priv ed25519.PrivateKey) []byte {
	msg := append([]byte(domain), b...)
	return append(b, ed25519.Sign(priv, msg)...)
}

// resign replaces the signature of a complete envelope.
func resign(b []byte, priv ed25519.PrivateKey) []byte {
	return sign(append([]byte(nil), b[:len(b)-64]...), priv)
}

var (
	site    ids.SiteID
	visitor = newKey("visitor")
	agent1  = newKey("agent 1")
	agent2  = newKey("agent 2")
	outside = newKey("outsider")
	forger  = newKey("forger")
	conv    ids.ConvID
)

func init() {
	s := derive("site")
	copy(site[:], s[:])
	conv = ids.ConversationID(site, visitor.sign)
}

type validCase struct {
	name, desc string
	sender     *key
	recipients []*key
	seq        uint64
	time       int64
	content    []byte
	ctype      byte // content type; 0 means text (0x01)
}

func (c validCase) contentType() byte {
	if c.ctype == 0 {
		return 1
	}
	return c.ctype
}

// answerEmail is the answer {variable "email", personal, input kind email, "a@b.de"},
// written out by hand from docs/PROTOCOL.md §3.3 (its worked example).
var answerEmail = []byte{0x01, 0x02, 0x05, 'e', 'm', 'a', 'i', 'l', 'a', '@', 'b', '.', 'd', 'e'}

// sealed returns the outer structure a correct sealer builds for c.
func (c validCase) outer() outer {
	r := randomBytes(c.name)
	o := outer{version: 1, site: site, conv: conv, seq: c.seq, sign: c.sender.sign, box: c.sender.box,
		boxPriv: c.sender.boxPriv, signer: c.sender.priv}
	copy(o.k[:], r[:32])
	copy(o.nonce[:], r[32:])
	o.bodyKey = o.k
	for _, k := range c.recipients {
		o.recipients = append(o.recipients, k.box)
	}
	sort.Slice(o.recipients, func(i, j int) bool { return bytes.Compare(o.recipients[i][:], o.recipients[j][:]) < 0 })
	o.inner = inner{version: 1, site: site, conv: conv, seq: c.seq, sign: c.sender.sign, ctype: c.contentType(),
		time: uint64(c.time), content: c.content, clen: -1}.encode()
	return o
}

func main() {
	dir := flag.String("dir", "shared/envelope/testdata", "testdata folder of the envelope package")
	flag.Parse()

	many := []*key{visitor, agent1}
	for i := len(many); i < 64; i++ {
		many = append(many, newKey(fmt.Sprintf("agent %d", i)))
	}
	valid := []validCase{
		{"text-1-recipient", "visitor to itself only (a message before any agent is known), one stanza",
			visitor, []*key{visitor}, 1, 1767225600000, []byte("Hallo!"), 0},
		{"text-3-recipients", "agent 1 to the visitor, itself and agent 2; recipients given unsorted",
			agent1, []*key{visitor, agent1, agent2}, 7, 1767225661234, []byte("Guten Tag, wie kann ich helfen? Grüße, Ihr Support-Team"), 0},
		{"text-bucket-256-full", "170 bytes of text: Inner is exactly 256 bytes, the largest content of the first bucket",
			visitor, []*key{agent2, visitor}, 2, 1767225700000, bytes.Repeat([]byte("a"), 170), 0},
		{"text-bucket-512-first", "171 bytes of text: one byte more than fits 256, so Inner is padded to 512",
			visitor, []*key{agent2, visitor}, 3, 1767225700001, bytes.Repeat([]byte("b"), 171), 0},
		{"text-64-recipients", "64 recipients, the most an envelope may have",
			agent1, many, 1, 1767225800000, []byte("an alle"), 0},
		{"answer-email", "the visitor's personal answer to an email question (content type 0x03, PROTOCOL.md §3.3), to itself and two agents",
			visitor, []*key{agent1, visitor, agent2}, 4, 1767225900000, answerEmail, 3},
	}

	base := valid[1] // agent 1 → visitor, agent 1, agent 2
	good := base.outer()
	goodBytes := good.build()
	vis := visitor

	type invalidCase struct {
		name, desc string
		env        []byte
		me         *key
		site       ids.SiteID
		conv       ids.ConvID
		class      string
	}
	var invalid []invalidCase
	add := func(name, desc, class string, env []byte) {
		invalid = append(invalid, invalidCase{name, desc, env, vis, site, conv, class})
	}
	mod := func(f func(o *outer)) []byte {
		o := base.outer()
		o.recipients = append([][32]byte(nil), o.recipients...)
		f(&o)
		return o.build()
	}
	withInner := func(f func(in *inner)) []byte {
		return mod(func(o *outer) {
			in := inner{version: 1, site: site, conv: conv, seq: base.seq, sign: agent1.sign, ctype: 1,
				time: uint64(base.time), content: base.content, clen: -1}
			f(&in)
			o.inner = in.encode()
		})
	}
	flip := func(b []byte, i int) []byte {
		c := append([]byte(nil), b...)
		c[i] ^= 0x01
		return c
	}

	add("malformed-empty", "no bytes at all", "malformed", []byte{})
	add("malformed-truncated", "the last byte of a valid envelope removed", "malformed", goodBytes[:len(goodBytes)-1])
	add("malformed-trailing-byte", "a zero byte appended to a valid envelope", "malformed", append(append([]byte(nil), goodBytes...), 0))
	add("malformed-seq-zero", "sequence number 0, signed", "malformed", mod(func(o *outer) { o.seq = 0 }))
	add("malformed-no-stanzas", "stanza count 0, signed", "malformed", mod(func(o *outer) { o.recipients = nil }))
	add("malformed-65-stanzas", "stanza count 65, signed", "malformed", mod(func(o *outer) {
		o.recipients = nil
		for i := range 65 {
			r := derive(fmt.Sprintf("stanza %d", i))
			o.recipients = append(o.recipients, r)
		}
		sort.Slice(o.recipients, func(i, j int) bool { return bytes.Compare(o.recipients[i][:], o.recipients[j][:]) < 0 })
	}))
	add("malformed-unsorted-stanzas", "recipients in descending order, signed", "malformed", mod(func(o *outer) {
		sort.Slice(o.recipients, func(i, j int) bool { return bytes.Compare(o.recipients[i][:], o.recipients[j][:]) > 0 })
	}))
	add("malformed-duplicate-stanza", "the same recipient twice, signed", "malformed", mod(func(o *outer) {
		o.recipients = [][32]byte{o.recipients[0], o.recipients[0], o.recipients[1]}
	}))
	add("malformed-body-not-bucket", "Inner of 300 bytes (not a bucket), signed", "malformed",
		withInner(func(in *inner) { in.size = 300 }))
	add("malformed-inner-not-smallest-bucket", "content that fits 256 padded to 512, signed", "malformed",
		withInner(func(in *inner) { in.size = 512 }))
	add("malformed-inner-padding", "a non-zero padding byte, signed", "malformed",
		withInner(func(in *inner) { in.pad = 0x01 }))
	add("malformed-inner-version", "inner version 2, signed", "malformed",
		withInner(func(in *inner) { in.version = 2 }))
	add("malformed-inner-length", "content length larger than the bucket, signed", "malformed",
		withInner(func(in *inner) { in.clen = 256 - 86 + 1 }))
	add("malformed-inner-time", "time above the largest signed 64-bit value, signed", "malformed",
		withInner(func(in *inner) { in.time = math.MaxInt64 + 1 }))
	add("malformed-unknown-type", "content type 0x07, signed", "malformed",
		withInner(func(in *inner) { in.ctype = 7 }))
	add("malformed-answer-flags", "an answer (content type 0x03) with flag bit 1 set, signed", "malformed",
		withInner(func(in *inner) {
			in.ctype = 3
			in.content = append([]byte{0x02}, answerEmail[1:]...)
		}))
	add("malformed-consent-decision", "a consent (content type 0x04) with decision 3, signed", "malformed",
		withInner(func(in *inner) {
			in.ctype = 4
			in.content = make([]byte, 45)
			in.content[36] = 3
		}))
	add("malformed-text-empty", "text of 0 bytes, signed", "malformed",
		withInner(func(in *inner) { in.content = nil }))
	add("malformed-text-utf8", "text that is not valid UTF-8, signed", "malformed",
		withInner(func(in *inner) { in.content = []byte("Gr\xfc\xdfe") }))
	add("malformed-text-too-long", "text of 16385 bytes, signed", "malformed",
		withInner(func(in *inner) { in.content = bytes.Repeat([]byte("x"), envelope.MaxText+1) }))
	add("unsupported-version", "version byte 2, otherwise valid and signed", "unsupported version",
		mod(func(o *outer) { o.version = 2 }))
	add("bad-signature-body", "one bit of the body flipped", "bad signature", flip(goodBytes, len(goodBytes)-64-10))
	add("bad-signature-signature", "one bit of the signature flipped", "bad signature", flip(goodBytes, len(goodBytes)-1))
	add("bad-signature-other-key", "valid envelope re-signed by another key without changing the sender", "bad signature",
		resign(goodBytes, forger.priv))
	add("not-a-recipient", "valid envelope opened by a key that is not among the recipients", "not a recipient", goodBytes)
	invalid[len(invalid)-1].me = outside
	add("wrong-conversation", "valid envelope, opened expecting another conversation", "wrong conversation", goodBytes)
	invalid[len(invalid)-1].conv = ids.ConversationID(site, agent2.sign)
	add("wrong-site", "valid envelope, opened expecting another site", "wrong conversation", goodBytes)
	invalid[len(invalid)-1].site = ids.SiteID{1}
	lowOrder, _ := hex.DecodeString("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")
	add("weak-key-low-order", "sender box key of order 8, signed", "weak key",
		mod(func(o *outer) { copy(o.box[:], lowOrder) }))
	add("weak-key-zero", "all-zero sender box key, signed", "weak key",
		mod(func(o *outer) { o.box = [32]byte{} }))
	add("stanza-other-sender-box", "stanzas sealed with another box key than the header's, signed", "stanza",
		mod(func(o *outer) { o.box = agent2.box }))
	add("stanza-tampered", "a bit of the visitor's wrapped key flipped, re-signed", "stanza", func() []byte {
		o := base.outer()
		i := 0
		for ; o.recipients[i] != vis.box; i++ {
		}
		return resign(flip(goodBytes, 130+i*80+32+5), agent1.priv)
	}())
	add("body-other-key", "body sealed under another key than the wrapped one, signed", "body",
		mod(func(o *outer) { o.bodyKey = derive("other body key") }))
	add("header-mismatch-resigned", "sender signing key replaced by a forger's and re-signed by it", "header mismatch",
		func() []byte {
			c := append([]byte(nil), goodBytes[:len(goodBytes)-64]...)
			copy(c[41:73], forger.sign[:])
			return sign(c, forger.priv)
		}())
	add("header-mismatch-site", "inner site differs, signed", "header mismatch",
		withInner(func(in *inner) { in.site = ids.SiteID{1} }))
	add("header-mismatch-conversation", "inner conversation differs, signed", "header mismatch",
		withInner(func(in *inner) { in.conv = ids.ConversationID(site, agent2.sign) }))
	add("header-mismatch-seq", "inner sequence number differs, signed", "header mismatch",
		withInner(func(in *inner) { in.seq = base.seq + 1 }))
	add("header-mismatch-sender", "inner sender signing key differs, signed", "header mismatch",
		withInner(func(in *inner) { in.sign = visitor.sign }))

	// Check the package against the hand encoding before writing anything.
	var envs = map[string][]byte{}
	var names []string // of envs, in order
	var validOut []Valid
	for _, c := range valid {
		want := c.outer().build()
		id, err := envelope.IdentityFromKeys(c.sender.seed, c.sender.boxPriv)
		if err != nil {
			log.Fatal(err)
		}
		var rks []ids.Key
		var parties []Party
		for _, k := range c.recipients {
			rks = append(rks, k.box)
			parties = append(parties, k.party())
		}
		m := envelope.Message{Site: site, Conv: conv, Seq: c.seq, Type: envelope.ContentType(c.contentType()), Time: c.time, Content: c.content}
		rnd := randomBytes(c.name)
		got, err := envelope.Seal(bytes.NewReader(rnd), id, rks, m)
		if err != nil {
			log.Fatalf("%s: seal: %v", c.name, err)
		}
		if !bytes.Equal(got, want) {
			log.Fatalf("%s: Seal differs from the hand encoding", c.name)
		}
		validOut = append(validOut, Valid{Description: c.desc, Sender: c.sender.party(), Recipients: parties,
			Site: hex.EncodeToString(site[:]), Conv: hex.EncodeToString(conv[:]), Seq: c.seq, Type: c.contentType(), Time: c.time,
			Content: hex.EncodeToString(c.content), Random: hex.EncodeToString(rnd), Envelope: hex.EncodeToString(want)})
		envs[c.name] = want
		names = append(names, c.name)
	}
	classes := map[string]error{
		"malformed": envelope.ErrMalformed, "unsupported version": envelope.ErrUnsupportedVersion,
		"bad signature": envelope.ErrBadSignature, "wrong conversation": envelope.ErrWrongConversation,
		"not a recipient": envelope.ErrNotRecipient, "weak key": envelope.ErrWeakKey, "stanza": envelope.ErrStanza,
		"body": envelope.ErrBody, "header mismatch": envelope.ErrHeaderMismatch,
	}
	var invalidOut []Invalid
	for _, c := range invalid {
		id, err := envelope.IdentityFromKeys(c.me.seed, c.me.boxPriv)
		if err != nil {
			log.Fatal(err)
		}
		_, err = envelope.Open(c.env, id, c.site, c.conv)
		if !errors.Is(err, classes[c.class]) {
			log.Fatalf("%s: Open returned %v, want class %q", c.name, err, c.class)
		}
		invalidOut = append(invalidOut, Invalid{Description: c.desc, Envelope: hex.EncodeToString(c.env),
			Recipient: c.me.party(), Site: hex.EncodeToString(c.site[:]), Conv: hex.EncodeToString(c.conv[:]), Error: c.class})
		envs["invalid-"+c.name] = c.env
		names = append(names, "invalid-"+c.name)
	}

	vdir := filepath.Join(*dir, "vectors")
	idir := filepath.Join(vdir, "invalid")
	for _, d := range []string{vdir, idir} {
		clearDir(d, ".json")
	}
	for i, v := range validOut {
		writeJSON(filepath.Join(vdir, valid[i].name+".json"), v)
	}
	for i, v := range invalidOut {
		writeJSON(filepath.Join(idir, invalid[i].name+".json"), v)
	}
	for _, target := range []string{"FuzzParse", "FuzzOpen"} {
		d := filepath.Join(*dir, "fuzz", target)
		clearDir(d, "")
		seen := map[string]bool{}
		for _, name := range names {
			if b := envs[name]; !seen[string(b)] {
				seen[string(b)] = true
				writeSeed(filepath.Join(d, name), b)
			}
		}
		writeSeed(filepath.Join(d, "short-version-only"), []byte{1})
	}
	log.Printf("wrote %d valid and %d invalid vectors", len(validOut), len(invalidOut))
}

// clearDir creates d and removes the generated files in it (those ending in suffix).
func clearDir(d, suffix string) {
	if err := os.MkdirAll(d, 0o755); err != nil {
		log.Fatal(err)
	}
	ents, err := os.ReadDir(d)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), suffix) {
			if err := os.Remove(filepath.Join(d, e.Name())); err != nil {
				log.Fatal(err)
			}
		}
	}
}

func writeJSON(path string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
}

func writeSeed(path string, b []byte) {
	s := "go test fuzz v1\n[]byte(" + fmt.Sprintf("%+q", b) + ")\n"
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		log.Fatal(err)
	}
}
