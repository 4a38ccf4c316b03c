package envelope

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/nacl/box"

	"siegel/shared/content"
	"siegel/shared/ids"
)

// detRand is a deterministic random source for tests.
type detRand struct {
	seed [32]byte
	n    uint64
	buf  []byte
}

func newDetRand(label string) *detRand { return &detRand{seed: sha256.Sum256([]byte(label))} }

func (r *detRand) Read(p []byte) (int, error) {
	for i := range p {
		if len(r.buf) == 0 {
			var in [40]byte
			copy(in[:], r.seed[:])
			binary.BigEndian.PutUint64(in[32:], r.n)
			r.n++
			h := sha256.Sum256(in[:])
			r.buf = h[:]
		}
		p[i] = r.buf[0]
		r.buf = r.buf[1:]
	}
	return len(p), nil
}

func newID(t testing.TB, label string) *Identity {
	t.Helper()
	id, err := NewIdentity(newDetRand(label))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

var testSite = ids.SiteID{0x51, 0x7e}

// party is a test conversation: a visitor and agents on testSite.
type party struct {
	visitor *Identity
	agents  []*Identity
	conv    ids.ConvID
}

func newParty(t testing.TB, agents int) *party {
	p := &party{visitor: newID(t, "visitor")}
	for i := range agents {
		p.agents = append(p.agents, newID(t, "agent "+string(rune('A'+i))))
	}
	p.conv = ids.ConversationID(testSite, p.visitor.SignKey())
	return p
}

func (p *party) all() []*Identity { return append([]*Identity{p.visitor}, p.agents...) }

func (p *party) boxKeys() []ids.Key {
	var ks []ids.Key
	for _, id := range p.all() {
		ks = append(ks, id.BoxKey())
	}
	return ks
}

func (p *party) msg(seq uint64, text string) Message {
	return Message{Site: testSite, Conv: p.conv, Seq: seq, Type: ContentText, Time: 1767225600000 + int64(seq), Content: []byte(text)}
}

func mustSeal(t testing.TB, sender *Identity, rks []ids.Key, m Message) []byte {
	t.Helper()
	b, err := Seal(newDetRand("seal"), sender, rks, m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 2, 4, 5, 63} { // agents; recipients = n + 1
		p := newParty(t, n)
		sender := p.visitor
		if n > 0 {
			sender = p.agents[n-1]
		}
		m := p.msg(uint64(n+1), "Grüß Gott – "+strings.Repeat("x", n*10))
		b, err := Seal(rand.Reader, sender, p.boxKeys(), m)
		if err != nil {
			t.Fatal(err)
		}
		wantLen := headerLen + (n+1)*stanzaLen + 4 + 16 + bucket(innerHeader+len(m.Content)) + 64
		if len(b) != wantLen {
			t.Fatalf("%d recipients: length %d, want %d", n+1, len(b), wantLen)
		}
		for _, id := range p.all() {
			o, err := Open(b, id, testSite, p.conv)
			if err != nil {
				t.Fatalf("%d recipients: %v", n+1, err)
			}
			if o.Message.Site != m.Site || o.Conv != m.Conv || o.Seq != m.Seq || o.Type != m.Type ||
				o.Time != m.Time || !bytes.Equal(o.Content, m.Content) ||
				o.SenderSign != sender.SignKey() || o.SenderBox != sender.BoxKey() {
				t.Fatalf("%d recipients: opened %+v", n+1, o)
			}
		}
	}
}

func TestSealFresh(t *testing.T) {
	p := newParty(t, 1)
	m := p.msg(1, "same")
	a, err := Seal(rand.Reader, p.visitor, p.boxKeys(), m)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Seal(rand.Reader, p.visitor, p.boxKeys(), m)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same message are equal")
	}
	ea, _ := Parse(a)
	eb, _ := Parse(b)
	if ea.Nonce == eb.Nonce {
		t.Fatal("nonce reused")
	}
}

func TestSealRecipientOrderIrrelevant(t *testing.T) {
	p := newParty(t, 3)
	ks := p.boxKeys()
	rev := []ids.Key{ks[3], ks[2], ks[1], ks[0]}
	a := mustSeal(t, p.visitor, ks, p.msg(1, "hi"))
	b := mustSeal(t, p.visitor, rev, p.msg(1, "hi"))
	if !bytes.Equal(a, b) {
		t.Fatal("the order of recipients changes the envelope")
	}
	if ks[0] != p.visitor.BoxKey() {
		t.Fatal("Seal modified the caller's recipient slice")
	}
}

func TestBuckets(t *testing.T) {
	p := newParty(t, 1)
	for _, c := range []struct{ content, bucket int }{
		{1, 256}, {170, 256}, {171, 512}, {426, 512}, {427, 1024}, {938, 1024}, {939, 2048},
		{4010, 4096}, {4011, 8192}, {8106, 8192}, {8107, 16384}, {16298, 16384}, {16299, 32768}, {MaxText, 32768},
	} {
		b := mustSeal(t, p.visitor, p.boxKeys(), p.msg(1, strings.Repeat("z", c.content)))
		e, err := Verify(b)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(e.body) - 16; got != c.bucket {
			t.Errorf("content %d: bucket %d, want %d", c.content, got, c.bucket)
		}
		o, err := Open(b, p.agents[0], testSite, p.conv)
		if err != nil || len(o.Content) != c.content {
			t.Fatalf("content %d: %v", c.content, err)
		}
	}
}

func TestSealRefuses(t *testing.T) {
	p := newParty(t, 2)
	ks := p.boxKeys()
	many := make([]ids.Key, MaxStanzas+1)
	for i := range many {
		many[i][0], many[i][1] = byte(i), 9
	}
	cases := []struct {
		name string
		rks  []ids.Key
		m    Message
		want error
	}{
		{"empty text", ks, p.msg(1, ""), ErrMalformed},
		{"oversize text", ks, p.msg(1, strings.Repeat("a", MaxText+1)), ErrMalformed},
		{"oversize content", ks, Message{Site: testSite, Conv: p.conv, Seq: 1, Type: ContentText, Content: make([]byte, MaxContent+1)}, ErrMalformed},
		{"invalid UTF-8", ks, p.msg(1, "Gr\xfc\xdfe"), ErrMalformed},
		{"unknown type", ks, Message{Site: testSite, Conv: p.conv, Seq: 1, Type: 7, Content: []byte("x")}, ErrMalformed},
		{"correction of a choice", ks, Message{Site: testSite, Conv: p.conv, Seq: 1, Type: ContentCorrection, Content: content.EncodeCorrection(content.Correction{Pos: 1, Answer: content.Answer{Kind: content.InputChoice, Value: "Ja"}})}, ErrMalformed},
		{"answer with a bad flag", ks, Message{Site: testSite, Conv: p.conv, Seq: 1, Type: ContentAnswer, Content: []byte{2, 1, 1, 'x', 'y'}}, ErrMalformed},
		{"consent too short", ks, Message{Site: testSite, Conv: p.conv, Seq: 1, Type: ContentConsent, Content: make([]byte, 44)}, ErrMalformed},
		{"handoff reason 0", ks, Message{Site: testSite, Conv: p.conv, Seq: 1, Type: ContentHandoff, Content: []byte{0}}, ErrMalformed},
		{"empty bot text", ks, Message{Site: testSite, Conv: p.conv, Seq: 1, Type: ContentBot}, ErrMalformed},
		{"type zero", ks, Message{Site: testSite, Conv: p.conv, Seq: 1, Content: []byte("x")}, ErrMalformed},
		{"seq zero", ks, p.msg(0, "x"), ErrMalformed},
		{"negative time", ks, Message{Site: testSite, Conv: p.conv, Seq: 1, Type: ContentText, Time: -1, Content: []byte("x")}, ErrMalformed},
		{"no recipients", nil, p.msg(1, "x"), ErrMalformed},
		{"duplicate recipient", []ids.Key{ks[1], ks[0], ks[1]}, p.msg(1, "x"), ErrMalformed},
		{"too many recipients", many, p.msg(1, "x"), ErrTooManyRecipients},
		{"zero recipient key", []ids.Key{ks[0], {}}, p.msg(1, "x"), ErrWeakKey},
	}
	for _, c := range cases {
		b, err := Seal(rand.Reader, p.visitor, c.rks, c.m)
		if b != nil {
			t.Errorf("%s: got an envelope", c.name)
		}
		assertClass(t, err, c.want)
	}
	if _, err := Seal(bytes.NewReader(make([]byte, 55)), p.visitor, ks, p.msg(1, "x")); err == nil {
		t.Error("Seal succeeded with 55 random bytes")
	}
	if _, err := Seal(rand.Reader, p.visitor, many[:MaxStanzas], p.msg(1, "x")); err != nil {
		t.Errorf("Seal to %d recipients: %v", MaxStanzas, err)
	}
}

// lowOrder are the encodings of X25519 points of small order (and their
// non-canonical aliases) that give an all-zero shared secret.
var lowOrder = []string{
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
}

func lowOrderKeys(t testing.TB) []ids.Key {
	var ks []ids.Key
	for _, s := range lowOrder {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, ids.Key(b))
	}
	return ks
}

func TestSharedKey(t *testing.T) {
	a, b := newID(t, "a"), newID(t, "b")
	ka, err := a.shared(&b.boxPub)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := b.shared(&a.boxPub)
	if err != nil {
		t.Fatal(err)
	}
	var want [32]byte
	pub, priv := [32]byte(b.boxPub), a.boxPriv
	box.Precompute(&want, &pub, &priv)
	if ka != kb || ka != want {
		t.Fatal("shared key differs from NaCl box_beforenm")
	}
	if k, _ := a.shared(&b.boxPub); k != ka || len(a.cache) != 1 {
		t.Fatal("shared key not cached")
	}
	for _, k := range lowOrderKeys(t) {
		if _, err := a.shared(&k); !errors.Is(err, ErrWeakKey) {
			t.Errorf("low-order key %x: %v", k, err)
		}
		if _, err := Seal(rand.Reader, a, []ids.Key{a.BoxKey(), k}, Message{Site: testSite, Seq: 1, Type: ContentText, Content: []byte("x")}); !errors.Is(err, ErrWeakKey) {
			t.Errorf("seal to low-order key %x: %v", k, err)
		}
	}
	for _, k := range lowOrderKeys(t) {
		if _, ok := a.cache[k]; ok {
			t.Fatalf("weak key %x cached", k)
		}
	}
}

func TestSharedKeyCacheBounded(t *testing.T) {
	defer func(n int) { maxCachedPeers = n }(maxCachedPeers)
	maxCachedPeers = 16
	a := newID(t, "a")
	r := newDetRand("peers")
	for range maxCachedPeers + 10 {
		var k ids.Key
		r.Read(k[:])
		if _, err := a.shared(&k); err != nil {
			t.Fatal(err)
		}
	}
	if len(a.cache) != maxCachedPeers {
		t.Fatalf("cache holds %d keys, want %d", len(a.cache), maxCachedPeers)
	}
}

// weakSender is an identity whose header box key is the low-order point k,
// while its stanzas are sealed with a real private key.
func weakSender(real *Identity, k ids.Key) *Identity {
	return &Identity{seed: real.seed, signPriv: real.signPriv, signPub: real.signPub, boxPriv: real.boxPriv, boxPub: k}
}

func TestOpenWeakSenderKey(t *testing.T) {
	p := newParty(t, 1)
	m := p.msg(1, "x")
	inner := encodeInnerForTest(m, p.visitor.SignKey(), 0)
	for _, k := range lowOrderKeys(t) {
		s := weakSender(p.visitor, k)
		b := sealForTest(t, s, p.boxKeys(), m, inner)
		if _, err := Verify(b); err != nil {
			t.Fatal(err)
		}
		_, err := Open(b, p.agents[0], testSite, p.conv)
		assertClass(t, err, ErrWeakKey)
	}
}

// encodeInnerForTest encodes Inner for m, padded to size (0: the smallest bucket).
func encodeInnerForTest(m Message, sign ids.Key, size int) []byte {
	if size == 0 {
		size = bucket(innerHeader + len(m.Content))
	}
	in := make([]byte, innerHeader, size)
	in[0] = innerVersion
	copy(in[inOffSite:], m.Site[:])
	copy(in[inOffConv:], m.Conv[:])
	binary.BigEndian.PutUint64(in[inOffSeq:], m.Seq)
	copy(in[inOffSign:], sign[:])
	in[inOffType] = byte(m.Type)
	binary.BigEndian.PutUint64(in[inOffTime:], uint64(m.Time))
	binary.BigEndian.PutUint32(in[inOffLen:], uint32(len(m.Content)))
	in = append(in, m.Content...)
	return in[:size]
}

// sealForTest seals a hand-made Inner, validly signed by sender.
func sealForTest(t testing.TB, sender *Identity, rks []ids.Key, m Message, inner []byte) []byte {
	t.Helper()
	sorted := append([]ids.Key(nil), rks...)
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && bytes.Compare(sorted[j-1][:], sorted[j][:]) > 0; j-- {
			sorted[j-1], sorted[j] = sorted[j], sorted[j-1]
		}
	}
	var k [32]byte
	var n [24]byte
	rand.Read(k[:])
	rand.Read(n[:])
	b, err := sealInner(sender, sorted, m.Site, m.Conv, m.Seq, &k, &n, inner)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpenRefusesBadInner(t *testing.T) {
	p := newParty(t, 1)
	m := p.msg(3, "hello")
	sign := p.visitor.SignKey()
	long := p.msg(3, strings.Repeat("y", MaxText+1))
	maxC := Message{Site: testSite, Conv: p.conv, Seq: 3, Type: ContentText, Content: make([]byte, MaxContent)}
	cases := []struct {
		name  string
		inner []byte
		want  error
	}{
		{"ok", encodeInnerForTest(m, sign, 0), nil},
		{"oversize text", encodeInnerForTest(long, sign, 0), ErrMalformed},
		{"largest content, not text", encodeInnerForTest(maxC, sign, 0), ErrMalformed},
		{"not smallest bucket", encodeInnerForTest(m, sign, 1024), ErrMalformed},
		{"padding", func() []byte { b := encodeInnerForTest(m, sign, 0); b[255] = 1; return b }(), ErrMalformed},
		{"inner version", func() []byte { b := encodeInnerForTest(m, sign, 0); b[0] = 2; return b }(), ErrMalformed},
		{"type", func() []byte { b := encodeInnerForTest(m, sign, 0); b[inOffType] = 0x7f; return b }(), ErrMalformed},
		{"time", func() []byte { b := encodeInnerForTest(m, sign, 0); b[inOffTime] = 0x80; return b }(), ErrMalformed},
		{"content length", func() []byte { b := encodeInnerForTest(m, sign, 0); b[inOffLen] = 1; return b }(), ErrMalformed},
		{"site", encodeInnerForTest(Message{Site: ids.SiteID{9}, Conv: m.Conv, Seq: 3, Type: 1, Content: m.Content}, sign, 0), ErrHeaderMismatch},
		{"conversation", encodeInnerForTest(Message{Site: testSite, Conv: ids.ConvID{9}, Seq: 3, Type: 1, Content: m.Content}, sign, 0), ErrHeaderMismatch},
		{"seq", encodeInnerForTest(p.msg(2, "hello"), sign, 0), ErrHeaderMismatch},
		{"sender", encodeInnerForTest(m, p.agents[0].SignKey(), 0), ErrHeaderMismatch},
	}
	for _, c := range cases {
		b := sealForTest(t, p.visitor, p.boxKeys(), m, c.inner)
		o, err := Open(b, p.agents[0], testSite, p.conv)
		if c.want == nil {
			if err != nil || string(o.Content) != "hello" {
				t.Fatalf("%s: %v", c.name, err)
			}
			continue
		}
		if o != nil {
			t.Errorf("%s: opened", c.name)
		}
		assertClass(t, err, c.want)
	}
}

func TestLargestEnvelope(t *testing.T) {
	p := newParty(t, 0)
	rks := make([]ids.Key, MaxStanzas)
	for i := range rks {
		rks[i] = newID(t, "r"+string(rune(i))).BoxKey()
	}
	m := Message{Site: testSite, Conv: p.conv, Seq: 1, Type: ContentText, Content: make([]byte, MaxContent)}
	b := sealForTest(t, p.visitor, rks, m, encodeInnerForTest(m, p.visitor.SignKey(), 0))
	if len(b) != MaxEnvelopeSize {
		t.Fatalf("largest envelope has %d bytes, want %d", len(b), MaxEnvelopeSize)
	}
	if _, err := Verify(b); err != nil {
		t.Fatal(err)
	}
	_, err := Parse(append(b, 0))
	assertClass(t, err, ErrMalformed)
}

func TestParseShort(t *testing.T) {
	p := newParty(t, 1)
	b := mustSeal(t, p.visitor, p.boxKeys(), p.msg(1, "x"))
	for i := range len(b) {
		e, err := Parse(b[:i])
		if e != nil {
			t.Fatalf("parsed %d of %d bytes", i, len(b))
		}
		want := ErrMalformed
		if i > 0 && b[0] != Version {
			want = ErrUnsupportedVersion
		}
		assertClass(t, err, want)
	}
}

// flipClass is the error class Open must return for envelope b with bit bit
// of byte i flipped, from the field the byte belongs to.
func flipClass(b []byte, i int, bit byte) error {
	n := int(b[offCount])
	stanzas := headerLen + n*stanzaLen
	switch {
	case i == 0:
		return ErrUnsupportedVersion
	case i >= offSeq && i < offSeq+8:
		c := append([]byte(nil), b[offSeq:offSeq+8]...)
		c[i-offSeq] ^= bit
		if binary.BigEndian.Uint64(c) == 0 {
			return ErrMalformed
		}
		return ErrBadSignature
	case i < offCount: // site, conversation, sender keys, nonce
		return ErrBadSignature
	case i == offCount:
		return ErrMalformed
	case i < stanzas:
		s, o := (i-headerLen)/stanzaLen, (i-headerLen)%stanzaLen
		if o >= 32 { // wrapped key
			return ErrBadSignature
		}
		var k ids.Key
		copy(k[:], b[headerLen+s*stanzaLen:])
		k[o] ^= bit
		prev, next := headerLen+(s-1)*stanzaLen, headerLen+(s+1)*stanzaLen
		if s > 0 && bytes.Compare(b[prev:prev+32], k[:]) >= 0 || s < n-1 && bytes.Compare(k[:], b[next:next+32]) >= 0 {
			return ErrMalformed
		}
		return ErrBadSignature
	case i < stanzas+4: // body length
		return ErrMalformed
	default: // body, signature
		return ErrBadSignature
	}
}

func TestBitFlips(t *testing.T) {
	p := newParty(t, 4)
	b := mustSeal(t, p.agents[1], p.boxKeys(), p.msg(1, "every bit counts"))
	me := p.visitor
	if _, err := Open(b, me, testSite, p.conv); err != nil {
		t.Fatal(err)
	}
	counts := map[error]int{}
	c := make([]byte, len(b))
	for i := range b {
		for bit := range 8 {
			copy(c, b)
			c[i] ^= 1 << bit
			want := flipClass(b, i, 1<<bit)
			o, err := Open(c, me, testSite, p.conv)
			if o != nil || !errors.Is(err, want) {
				t.Fatalf("byte %d bit %d: %v, want %v", i, bit, err, want)
			}
			counts[want]++
		}
	}
	// Each field kind was exercised.
	for _, cl := range []error{ErrUnsupportedVersion, ErrMalformed, ErrBadSignature} {
		if counts[cl] == 0 {
			t.Errorf("no flip gave %v", cl)
		}
	}
}

func TestWrongRecipient(t *testing.T) {
	p := newParty(t, 2)
	other := newID(t, "other")
	b := mustSeal(t, p.visitor, p.boxKeys(), p.msg(1, "x"))
	_, err := Open(b, other, testSite, p.conv)
	assertClass(t, err, ErrNotRecipient)
	// Same box key as a recipient but a different private key cannot exist; an
	// identity with a recipient's signing key only is still not a recipient.
	mixed, err := IdentityFromKeys(p.agents[0].Seed(), other.BoxPrivate())
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(b, mixed, testSite, p.conv)
	assertClass(t, err, ErrNotRecipient)
}

func TestMovedConversation(t *testing.T) {
	p := newParty(t, 1)
	q := newParty(t, 1)
	q.visitor = newID(t, "visitor 2")
	q.conv = ids.ConversationID(testSite, q.visitor.SignKey())
	b := mustSeal(t, p.agents[0], p.boxKeys(), p.msg(1, "x"))
	_, err := Open(b, p.visitor, testSite, q.conv)
	assertClass(t, err, ErrWrongConversation)
	_, err = Open(b, p.visitor, ids.SiteID{1}, p.conv)
	assertClass(t, err, ErrWrongConversation)
	// Rewriting the header breaks the signature.
	c := append([]byte(nil), b...)
	copy(c[offConv:], q.conv[:])
	_, err = Open(c, p.visitor, testSite, q.conv)
	assertClass(t, err, ErrBadSignature)
}

func TestResignedWithOtherKey(t *testing.T) {
	p := newParty(t, 1)
	forger := newID(t, "forger")
	b := mustSeal(t, p.agents[0], p.boxKeys(), p.msg(1, "x"))
	c := append([]byte(nil), b[:len(b)-sigLen]...)
	copy(c[offSign:], forger.signPub[:])
	sig := forger.Sign(append([]byte(domain), c...))
	c = append(c, sig[:]...)
	if _, err := Verify(c); err != nil {
		t.Fatal(err)
	}
	_, err := Open(c, p.visitor, testSite, p.conv)
	assertClass(t, err, ErrHeaderMismatch)
	// Re-signed without changing the key: bad signature.
	d := append([]byte(nil), b[:len(b)-sigLen]...)
	sig = forger.Sign(append([]byte(domain), d...))
	_, err = Open(append(d, sig[:]...), p.visitor, testSite, p.conv)
	assertClass(t, err, ErrBadSignature)
}

func TestVerifySignature(t *testing.T) {
	id := newID(t, "signer")
	msg := []byte("body")
	sig := id.Sign([]byte("siegel/test/v1body"))
	if !VerifySignature(id.SignKey(), "siegel/test/v1", msg, sig[:]) {
		t.Fatal("valid signature refused")
	}
	if VerifySignature(id.SignKey(), "siegel/test/v2", msg, sig[:]) {
		t.Fatal("signature accepted under another domain")
	}
	if VerifySignature(id.SignKey(), "siegel/test/v1", msg, sig[:63]) {
		t.Fatal("short signature accepted")
	}
	pub := id.SignKey()
	if !ed25519.Verify(pub[:], []byte("siegel/test/v1body"), sig[:]) {
		t.Fatal("Sign does not sign the bytes as given")
	}
}

func TestIdentityFromKeys(t *testing.T) {
	a := newID(t, "a")
	b, err := IdentityFromKeys(a.Seed(), a.BoxPrivate())
	if err != nil {
		t.Fatal(err)
	}
	if a.SignKey() != b.SignKey() || a.BoxKey() != b.BoxKey() {
		t.Fatal("keys differ after a round trip through storage")
	}
	if _, err := NewIdentity(bytes.NewReader(make([]byte, 63))); err == nil {
		t.Fatal("NewIdentity succeeded with 63 random bytes")
	}
}

func TestTracker(t *testing.T) {
	var tr Tracker
	a, b := ids.Key{1}, ids.Key{2}
	for _, s := range []uint64{1, 2, 5, 3} {
		if err := tr.Accept(a, s); err != nil {
			t.Fatalf("seq %d: %v", s, err)
		}
	}
	for _, s := range []uint64{1, 2, 3, 5} {
		assertClass(t, tr.Accept(a, s), ErrDuplicate)
	}
	if err := tr.Accept(b, 1); err != nil {
		t.Fatal("senders are not independent:", err)
	}
	if err := tr.Accept(a, 4); err != nil {
		t.Fatal(err)
	}
	if s := tr.senders[a]; s.low != 5 || len(s.above) != 0 {
		t.Fatalf("not compacted: low %d, %d above", s.low, len(s.above))
	}
	assertClass(t, tr.Accept(a, 4), ErrDuplicate)
	assertClass(t, tr.Accept(a, 0), ErrMalformed)
}

func TestTrackerOpen(t *testing.T) {
	p := newParty(t, 1)
	b := mustSeal(t, p.visitor, p.boxKeys(), p.msg(1, "x"))
	var tr Tracker
	for i := range 2 {
		o, err := Open(b, p.agents[0], testSite, p.conv)
		if err != nil {
			t.Fatal(err)
		}
		err = tr.Accept(o.SenderSign, o.Seq)
		if i == 0 && err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			assertClass(t, err, ErrDuplicate)
		}
	}
}

func TestConcurrent(t *testing.T) {
	p := newParty(t, 2)
	var tr Tracker
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				seq := uint64(g*8 + i + 1)
				// Fresh peers for the shared identities each time, to exercise the cache.
				extra, err := NewIdentity(rand.Reader)
				if err != nil {
					errs <- err
					return
				}
				rks := append(p.boxKeys(), extra.BoxKey())
				b, err := Seal(rand.Reader, p.agents[g%2], rks, p.msg(seq, "concurrent"))
				if err != nil {
					errs <- err
					return
				}
				o, err := Open(b, p.visitor, testSite, p.conv)
				if err != nil {
					errs <- err
					return
				}
				if err := tr.Accept(o.SenderSign, o.Seq); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestVerifyUsesParsedBytes(t *testing.T) {
	p := newParty(t, 1)
	b := mustSeal(t, p.visitor, p.boxKeys(), p.msg(1, "x"))
	e, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	e.SenderSign = p.agents[0].SignKey()
	if err := e.Verify(); err != nil {
		t.Fatal("Verify depends on the exported fields:", err)
	}
	assertClass(t, new(Envelope).Verify(), ErrMalformed)
}

// Every transcript content type of PROTOCOL.md §3.3 seals and opens, with its
// bytes and type intact.
func TestTranscriptContentTypes(t *testing.T) {
	p := newParty(t, 1)
	cases := []struct {
		typ     ContentType
		content []byte
	}{
		{ContentText, []byte("Hallo")},
		{ContentBot, []byte("Wie kann ich helfen?")},
		{ContentAnswer, content.EncodeAnswer(content.Answer{Variable: "email", Personal: true, Kind: content.InputEmail, Value: "a@b.de"})},
		{ContentAnswer, content.EncodeAnswer(content.Answer{Kind: content.InputChoice, Value: "Ja"})},
		{ContentConsent, content.EncodeConsent(content.Consent{FlowVersion: 3, TextHash: [32]byte{1}, Accepted: true, Time: 1767225600000})},
		{ContentHandoff, content.EncodeHandoff(content.Handoff{Reason: content.HandoffMessage, Note: "Bitte zurückrufen"})},
		{ContentHandoff, []byte{1}},
		{ContentCorrection, content.EncodeCorrection(content.Correction{Pos: 4, Answer: content.Answer{Variable: "email", Personal: true, Kind: content.InputEmail, Value: "c@d.de"}})},
	}
	for i, c := range cases {
		m := Message{Site: testSite, Conv: p.conv, Seq: uint64(i + 1), Type: c.typ, Time: 1767225600000, Content: c.content}
		b := mustSeal(t, p.visitor, p.boxKeys(), m)
		o, err := Open(b, p.agents[0], testSite, p.conv)
		if err != nil || o.Type != c.typ || !bytes.Equal(o.Content, c.content) {
			t.Fatalf("type %d: %v %+v", c.typ, err, o)
		}
	}
}
