package protocol

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"

	"siegel/shared/ids"
)

// frame builds a frame from a raw header and body, without Encode.
func frame(version byte, t Type, reqID uint32, body ...[]byte) []byte {
	b := []byte{version, byte(t)}
	b = binary.BigEndian.AppendUint32(b, reqID)
	for _, p := range body {
		b = append(b, p...)
	}
	return b
}

func u64b(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
func u16b(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func entry(c ids.ConvID, last, created, delivered uint64) []byte {
	b := append([]byte(nil), c[:]...)
	b = append(b, u64b(last)...)
	b = append(b, u64b(created)...)
	return append(b, u64b(delivered)...)
}

// consentBody is a Consent body with the given decision.
func consentBody(decision byte) []byte {
	c := conv(0x20)
	b := append([]byte(nil), c[:]...)
	b = binary.BigEndian.AppendUint32(b, 7)
	b = append(b, seq(0xc0, 32)...)
	return append(b, decision)
}

// receiptBody is one receipt of a ConsentReceipts body with the given decision.
func receiptBody(decision byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, 7)
	b = append(b, seq(0xc0, 32)...)
	b = append(b, decision)
	return append(b, u64b(1767225600)...)
}

// requestBody is a Request body (after the header) with the given operation
// and body.
func requestBody(op byte, body []byte) []byte {
	c := conv(0x20)
	b := append([]byte{op}, c[:]...)
	b = append(b, u64b(5)...)
	b = append(b, make([]byte, 32+64)...)
	return append(b, body...)
}

func TestDecodeRejects(t *testing.T) {
	c1, c2 := conv(0x20), conv(0x30)
	k1 := key(0x80)
	helloBody := func(role byte) []byte {
		b := []byte{role}
		b = append(b, make([]byte, 16+32+32)...)
		b = append(b, u64b(1)...)
		return append(b, make([]byte, 64)...)
	}
	tooMany := u16b(MaxConversations + 1)
	for i := 0; i <= MaxConversations; i++ {
		var c ids.ConvID
		binary.BigEndian.PutUint16(c[:], uint16(i))
		tooMany = append(tooMany, entry(c, 1, 1, 1)...)
	}
	big := frame(1, TypeSend, 1, make([]byte, MaxFrameSize-HeaderSize+1))

	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"version 0", frame(0, TypeList, 1), ErrUnsupportedVersion},
		{"version 2", frame(2, TypeList, 1), ErrUnsupportedVersion},
		{"version 2 short", []byte{2}, ErrUnsupportedVersion},
		{"header 1 byte", []byte{1}, ErrMalformed},
		{"header 5 bytes", []byte{1, 7, 0, 0, 0}, ErrMalformed},
		{"too large", big, ErrMalformed},
		{"type 0", frame(1, 0, 1), ErrMalformed},
		{"type 16", frame(1, 16, 1), ErrMalformed},
		{"type 255", frame(1, 255, 1), ErrMalformed},
		{"challenge short", frame(1, TypeChallenge, 0, make([]byte, 31)), ErrMalformed},
		{"challenge long", frame(1, TypeChallenge, 0, make([]byte, 33)), ErrMalformed},
		{"hello short", frame(1, TypeHello, 1, helloBody(1)[:helloSize-1]), ErrMalformed},
		{"hello long", frame(1, TypeHello, 1, helloBody(1), []byte{0}), ErrMalformed},
		{"hello role 0", frame(1, TypeHello, 1, helloBody(0)), ErrMalformed},
		{"hello role 3", frame(1, TypeHello, 1, helloBody(3)), ErrMalformed},
		{"welcome empty roster", frame(1, TypeWelcome, 1, c1[:], u64b(1), u64b(1)), ErrMalformed},
		{"welcome short", frame(1, TypeWelcome, 1, c1[:], u64b(1)), ErrMalformed},
		{"send empty", frame(1, TypeSend, 1), ErrMalformed},
		{"ack short", frame(1, TypeAck, 1, c1[:], u64b(1), u64b(1)[:7]), ErrMalformed},
		{"ack long", frame(1, TypeAck, 1, c1[:], u64b(1), u64b(1), []byte{0}), ErrMalformed},
		{"deliver empty envelope", frame(1, TypeDeliver, 0, c1[:], u64b(1), u64b(1)), ErrMalformed},
		{"deliver short", frame(1, TypeDeliver, 0, c1[:], u64b(1)), ErrMalformed},
		{"list with body", frame(1, TypeList, 1, []byte{0}), ErrMalformed},
		{"conversations no count", frame(1, TypeConversations, 1), ErrMalformed},
		{"conversations half count", frame(1, TypeConversations, 1, []byte{0}), ErrMalformed},
		{"conversations too many", frame(1, TypeConversations, 1, tooMany), ErrMalformed},
		{"conversations missing entry", frame(1, TypeConversations, 1, u16b(2), entry(c1, 1, 1, 1)), ErrMalformed},
		{"conversations trailing", frame(1, TypeConversations, 1, u16b(1), entry(c1, 1, 1, 1), []byte{0}), ErrMalformed},
		{"conversations short entry", frame(1, TypeConversations, 1, u16b(1), entry(c1, 1, 1, 1)[:47]), ErrMalformed},
		{"conversations unsorted", frame(1, TypeConversations, 1, u16b(2), entry(c2, 1, 1, 1), entry(c1, 1, 1, 1)), ErrMalformed},
		{"conversations duplicate", frame(1, TypeConversations, 1, u16b(2), entry(c1, 1, 1, 1), entry(c1, 2, 2, 2)), ErrMalformed},
		{"fetch short", frame(1, TypeFetch, 1, c1[:], u64b(1)[:7]), ErrMalformed},
		{"fetch long", frame(1, TypeFetch, 1, c1[:], u64b(1), []byte{0}), ErrMalformed},
		{"fetched short", frame(1, TypeFetched, 1, c1[:]), ErrMalformed},
		{"delivered long", frame(1, TypeDelivered, 1, c1[:], u64b(1), u64b(1)), ErrMalformed},
		{"receipt short", frame(1, TypeReceipt, 0, c1[:15]), ErrMalformed},
		{"consent decision 0", frame(1, TypeConsent, 1, consentBody(0)), ErrMalformed},
		{"consent decision 3", frame(1, TypeConsent, 1, consentBody(3)), ErrMalformed},
		{"consent short", frame(1, TypeConsent, 1, consentBody(1)[:consentSize-1]), ErrMalformed},
		{"consent long", frame(1, TypeConsent, 1, consentBody(1), []byte{0}), ErrMalformed},
		{"receipts no count", frame(1, TypeConsentReceipts, 0, c1[:]), ErrMalformed},
		{"receipts half count", frame(1, TypeConsentReceipts, 0, c1[:], []byte{0}), ErrMalformed},
		{"receipts too many", frame(1, TypeConsentReceipts, 0, c1[:], u16b(MaxConsentReceipts+1), bytes.Repeat(receiptBody(1), MaxConsentReceipts+1)), ErrMalformed},
		{"receipts missing entry", frame(1, TypeConsentReceipts, 0, c1[:], u16b(2), receiptBody(1)), ErrMalformed},
		{"receipts trailing", frame(1, TypeConsentReceipts, 0, c1[:], u16b(1), receiptBody(1), []byte{0}), ErrMalformed},
		{"receipts short entry", frame(1, TypeConsentReceipts, 0, c1[:], u16b(1), receiptBody(1)[:receiptSize-1]), ErrMalformed},
		{"receipts decision 0", frame(1, TypeConsentReceipts, 0, c1[:], u16b(2), receiptBody(1), receiptBody(0)), ErrMalformed},
		{"receipts decision 3", frame(1, TypeConsentReceipts, 0, c1[:], u16b(1), receiptBody(3)), ErrMalformed},
		{"error no body", frame(1, TypeError, 1), ErrMalformed},
		{"error no length", frame(1, TypeError, 1, u16b(1)), ErrMalformed},
		{"error reason short", frame(1, TypeError, 1, u16b(1), []byte{3}, []byte("ab")), ErrMalformed},
		{"error reason long", frame(1, TypeError, 1, u16b(1), []byte{1}, []byte("ab")), ErrMalformed},
		{"error reason control", frame(1, TypeError, 1, u16b(1), []byte{2}, []byte("a\n")), ErrMalformed},
		{"error reason DEL", frame(1, TypeError, 1, u16b(1), []byte{2}, []byte("a\x7f")), ErrMalformed},
		{"error reason non-ASCII", frame(1, TypeError, 1, u16b(1), []byte{2}, []byte("\xc3\xa4")), ErrMalformed},
		{"type 0x1f", frame(1, 0x1f, 1), ErrMalformed},
		{"type 0x24", frame(1, 0x24, 1, c1[:]), ErrMalformed},
		{"request empty", frame(1, TypeRequest, 1), ErrMalformed},
		{"request short", frame(1, TypeRequest, 1, requestBody(1, nil)[:requestFixed-1]), ErrMalformed},
		{"request operation 0", frame(1, TypeRequest, 1, requestBody(0, nil)), ErrMalformed},
		{"request operation 3", frame(1, TypeRequest, 1, requestBody(3, nil)), ErrMalformed},
		{"request operation 255", frame(1, TypeRequest, 1, requestBody(255, append(u64b(1), 1))), ErrMalformed},
		{"erase with a body", frame(1, TypeRequest, 1, requestBody(1, []byte{0})), ErrMalformed},
		{"correct without a body", frame(1, TypeRequest, 1, requestBody(2, nil)), ErrMalformed},
		{"correct with a short position", frame(1, TypeRequest, 1, requestBody(2, u64b(1)[:7])), ErrMalformed},
		{"correct without an envelope", frame(1, TypeRequest, 1, requestBody(2, u64b(1))), ErrMalformed},
		{"correct of position 0", frame(1, TypeRequest, 1, requestBody(2, append(u64b(0), 1))), ErrMalformed},
		{"request too large", frame(1, TypeRequest, 1, requestBody(2, append(u64b(1), make([]byte, MaxFrameSize)...))), ErrMalformed},
		{"done short", frame(1, TypeDone, 1, []byte{1}, c1[:15]), ErrMalformed},
		{"done long", frame(1, TypeDone, 1, []byte{1}, c1[:], []byte{0}), ErrMalformed},
		{"done operation 0", frame(1, TypeDone, 1, []byte{0}, c1[:]), ErrMalformed},
		{"done operation 3", frame(1, TypeDone, 1, []byte{3}, c1[:]), ErrMalformed},
		{"erased short", frame(1, TypeErased, 0, c1[:15]), ErrMalformed},
		{"erased long", frame(1, TypeErased, 0, c1[:], []byte{0}), ErrMalformed},
		{"replaced short", frame(1, TypeReplaced, 0, c1[:], u64b(1), u64b(2)[:7]), ErrMalformed},
		{"replaced long", frame(1, TypeReplaced, 0, c1[:], u64b(1), u64b(2), []byte{0}), ErrMalformed},
		{"typing short", frame(1, TypeTyping, 1, c1[:]), ErrMalformed},
		{"typing long", frame(1, TypeTyping, 1, c1[:], []byte{1, 0}), ErrMalformed},
		{"typing state 2", frame(1, TypeTyping, 1, c1[:], []byte{2}), ErrMalformed},
		{"typing-push short", frame(1, TypeTypingPush, 0, c1[:], k1[:]), ErrMalformed},
		{"typing-push long", frame(1, TypeTypingPush, 0, c1[:], k1[:], []byte{1, 0}), ErrMalformed},
		{"typing-push state 255", frame(1, TypeTypingPush, 0, c1[:], k1[:], []byte{255}), ErrMalformed},
		{"want-person short", frame(1, TypeWantPerson, 1, c1[:15]), ErrMalformed},
		{"want-person long", frame(1, TypeWantPerson, 1, c1[:], []byte{0}), ErrMalformed},
		{"takeover short", frame(1, TypeTakeover, 1), ErrMalformed},
		{"takeover long", frame(1, TypeTakeover, 1, c1[:], []byte{0}), ErrMalformed},
		{"close short", frame(1, TypeClose, 1, c1[:1]), ErrMalformed},
		{"close long", frame(1, TypeClose, 1, c1[:], c1[:]), ErrMalformed},
		{"conv-state short", frame(1, TypeConvState, 0, c1[:], []byte{2}, k1[:31]), ErrMalformed},
		{"conv-state long", frame(1, TypeConvState, 0, c1[:], []byte{2}, k1[:], []byte{0}), ErrMalformed},
		{"conv-state state 4", frame(1, TypeConvState, 0, c1[:], []byte{4}, make([]byte, 32)), ErrMalformed},
		{"conv-state live without agent", frame(1, TypeConvState, 0, c1[:], []byte{2}, make([]byte, 32)), ErrMalformed},
		{"conv-state waiting with agent", frame(1, TypeConvState, 0, c1[:], []byte{1}, k1[:]), ErrMalformed},
		{"conv-state closed with agent", frame(1, TypeConvState, 0, c1[:], []byte{3}, k1[:]), ErrMalformed},
		{"presence short", frame(1, TypePresence, 0, []byte{1}), ErrMalformed},
		{"presence long", frame(1, TypePresence, 0, []byte{0, 1, 0}), ErrMalformed},
		{"roster-update empty", frame(1, TypeRosterUpdate, 0), ErrMalformed},
		{"type 0x38", frame(1, 0x38, 1, c1[:]), ErrMalformed},
		{"type 0x2f", frame(1, 0x2f, 1, c1[:]), ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, f, err := Decode(c.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("Decode = %v, %v; want %v", f, err, c.want)
			}
			if f != nil {
				t.Fatalf("Decode returned a frame with an error: %#v", f)
			}
		})
	}
}

func TestDecodeErrorKeepsRequestID(t *testing.T) {
	id, _, err := Decode(frame(1, TypeSend, 0x01020304))
	if !errors.Is(err, ErrMalformed) || id != 0x01020304 {
		t.Fatalf("Decode = %#x, %v; want request ID 0x01020304 and ErrMalformed", id, err)
	}
	id, _, err = Decode(frame(2, TypeSend, 0x01020304, []byte{1}))
	if !errors.Is(err, ErrUnsupportedVersion) || id != 0 {
		t.Fatalf("Decode = %#x, %v; want 0 and ErrUnsupportedVersion", id, err)
	}
}

func roundTrip(t *testing.T, reqID uint32, f Frame) []byte {
	t.Helper()
	b := Encode(reqID, f)
	id, g, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode(Encode(%#v)): %v", f, err)
	}
	if id != reqID || !reflect.DeepEqual(g, f) {
		t.Fatalf("round trip: got %d %#v, want %d %#v", id, g, reqID, f)
	}
	if !bytes.Equal(Encode(id, g), b) {
		t.Fatal("re-encoding differs")
	}
	return b
}

func TestRoundTripLimits(t *testing.T) {
	var full Conversations
	for i := 0; i < MaxConversations; i++ {
		var c ids.ConvID
		binary.BigEndian.PutUint32(c[:], uint32(i)<<8)
		full.Entries = append(full.Entries, ConvInfo{Conv: c, LastPos: uint64(i), Created: 1 << 40, DeliveredPos: ^uint64(0)})
	}
	roundTrip(t, 1, &full)
	roundTrip(t, 1, &Conversations{})
	roundTrip(t, 0, &Error{Code: CodeInternal, Reason: strings.Repeat("~", MaxReason)})
	roundTrip(t, 0, &Error{Code: 0xffff})
	roundTrip(t, ^uint32(0), &Hello{Role: RoleAgent, Since: ^uint64(0)})
	roundTrip(t, 0, &Welcome{Roster: []byte{1}})
	roundTrip(t, 1, &Consent{Decision: ConsentDeclined, FlowVersion: ^uint32(0)})
	roundTrip(t, 0, &ConsentReceipts{})
	var full16 ConsentReceipts
	for i := 0; i < MaxConsentReceipts; i++ {
		full16.Receipts = append(full16.Receipts, ConsentReceipt{FlowVersion: uint32(i), Decision: ConsentAccepted, Time: ^uint64(0)})
	}
	roundTrip(t, 0, &full16)
	roundTrip(t, 1, &Request{Op: OpErase, Counter: ^uint64(0)})
	roundTrip(t, 1, &Request{Op: OpCorrect, Body: CorrectionBody(^uint64(0), []byte{1})})
	roundTrip(t, 1, &Done{Op: OpCorrect})
	roundTrip(t, 0, &Erased{})
	roundTrip(t, 0, &Replaced{OldPos: ^uint64(0), NewPos: ^uint64(0)})
	// The largest request.
	b := roundTrip(t, 0, &Request{Op: OpCorrect, Body: CorrectionBody(1, make([]byte, MaxFrameSize-HeaderSize-requestFixed-8))})
	if len(b) != MaxFrameSize {
		t.Fatalf("largest request is %d bytes", len(b))
	}
	// The largest frame.
	b = roundTrip(t, 0, &Deliver{Envelope: make([]byte, MaxFrameSize-HeaderSize-deliverFixed)})
	if len(b) != MaxFrameSize {
		t.Fatalf("largest deliver is %d bytes", len(b))
	}
}

func TestEncodeAdjusts(t *testing.T) {
	long := strings.Repeat("x", 300)
	_, f, err := Decode(Encode(9, &Error{Code: CodeLimit, Reason: "bad\tbyte \xff " + long}))
	if err != nil {
		t.Fatal(err)
	}
	e := f.(*Error)
	if len(e.Reason) != MaxReason || !strings.HasPrefix(e.Reason, "bad?byte ? xxx") {
		t.Fatalf("reason = %q (%d bytes)", e.Reason, len(e.Reason))
	}

	var many Conversations
	for i := 0; i < MaxConversations+5; i++ {
		var c ids.ConvID
		binary.BigEndian.PutUint16(c[:], uint16(i))
		many.Entries = append(many.Entries, ConvInfo{Conv: c})
	}
	_, f, err = Decode(Encode(1, &many))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.(*Conversations).Entries; !reflect.DeepEqual(got, many.Entries[:MaxConversations]) {
		t.Fatalf("got %d entries", len(got))
	}

	var receipts ConsentReceipts
	for i := 0; i < MaxConsentReceipts+3; i++ {
		receipts.Receipts = append(receipts.Receipts, ConsentReceipt{FlowVersion: uint32(i), Decision: ConsentAccepted})
	}
	_, f, err = Decode(Encode(1, &receipts))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.(*ConsentReceipts).Receipts; !reflect.DeepEqual(got, receipts.Receipts[:MaxConsentReceipts]) {
		t.Fatalf("got %d receipts", len(got))
	}
}

func TestErrorFrame(t *testing.T) {
	e := ErrorFrame(CodeForbidden, "agent \"Zoë\"\n")
	if e.Code != CodeForbidden || e.Reason != "agent \"Zo??\"?" {
		t.Fatalf("ErrorFrame = %#v", e)
	}
	if e.Error() != "forbidden: agent \"Zo??\"?" {
		t.Fatalf("Error() = %q", e.Error())
	}
	if got := ErrorFrame(CodeInternal, "").Error(); got != "internal" {
		t.Fatalf("Error() = %q", got)
	}
	if got := ErrorFrame(CodeState, strings.Repeat("a", 1000)); len(got.Reason) != MaxReason {
		t.Fatalf("reason length %d", len(got.Reason))
	}
	var fe *Error
	if err := error(e); !errors.As(err, &fe) || fe.Code != CodeForbidden {
		t.Fatal("an Error frame is not usable as an error")
	}
}

func TestNames(t *testing.T) {
	codes := map[ErrorCode]string{
		CodeMalformed: "malformed", CodeUnsupportedVersion: "unsupported version",
		CodeBadSignature: "bad signature", CodeUnknownSite: "unknown site",
		CodeForbidden: "forbidden", CodeNotFound: "not found", CodeSequence: "sequence",
		CodeTooLarge: "too large", CodeRateLimited: "rate limited", CodeInternal: "internal",
		CodeState: "state", CodeLimit: "limit", CodeReplay: "replay", CodeGone: "gone",
		0: "code 0", 15: "code 15", 65535: "code 65535",
	}
	for c, want := range codes {
		if c.String() != want {
			t.Errorf("ErrorCode(%d).String() = %q, want %q", c, c.String(), want)
		}
	}
	for ty, want := range map[Type]string{TypeChallenge: "challenge", TypeConversations: "conversations", TypeError: "error",
		TypeConsent: "consent", TypeConsentReceipts: "consent-receipts", TypeRequest: "request", TypeDone: "done",
		TypeErased: "erased", TypeReplaced: "replaced", 0: "type 0", 16: "type 16", 0x24: "type 36"} {
		if ty.String() != want {
			t.Errorf("Type(%d).String() = %q, want %q", ty, ty.String(), want)
		}
	}
	for _, v := range vectors() {
		if got := strings.SplitN(v.name, "-", 2)[1]; got != v.frame.Type().String() {
			t.Errorf("%s: type name %q", v.name, v.frame.Type())
		}
	}
}

func TestHelloSignature(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(m []byte) (s [64]byte) { copy(s[:], ed25519.Sign(priv, m)); return }
	var nonce [32]byte
	nonce[0] = 1
	h := &Hello{Role: RoleAgent, Since: 3}
	copy(h.SignKey[:], priv.Public().(ed25519.PublicKey))
	h.Site[0] = 9
	SignHello(nonce, h, sign)
	if !VerifyHello(nonce, h) {
		t.Fatal("valid hello does not verify")
	}
	// The signature survives the wire.
	_, f, err := Decode(Encode(1, h))
	if err != nil || !VerifyHello(nonce, f.(*Hello)) {
		t.Fatalf("decoded hello does not verify: %v", err)
	}

	signed := HelloSigned(nonce, h)
	if !bytes.HasPrefix(signed, []byte("siegel/hello/v1")) ||
		!bytes.Equal(signed[15:47], nonce[:]) ||
		!bytes.Equal(signed[47:], Encode(1, h)[HeaderSize:HeaderSize+helloUnsigned]) {
		t.Fatalf("HelloSigned layout: %x", signed)
	}

	wrongNonce := nonce
	wrongNonce[31] ^= 1
	if VerifyHello(wrongNonce, h) {
		t.Error("hello verifies with another nonce")
	}
	other, _, _ := ed25519.GenerateKey(nil)
	wrongKey := *h
	copy(wrongKey.SignKey[:], other)
	if VerifyHello(nonce, &wrongKey) {
		t.Error("hello verifies with another key")
	}
	for name, mut := range map[string]func(*Hello){
		"role":  func(h *Hello) { h.Role = RoleVisitor },
		"site":  func(h *Hello) { h.Site[15] ^= 1 },
		"box":   func(h *Hello) { h.BoxKey[0] ^= 1 },
		"since": func(h *Hello) { h.Since++ },
		"sig":   func(h *Hello) { h.Sig[10] ^= 1 },
	} {
		m := *h
		mut(&m)
		if VerifyHello(nonce, &m) {
			t.Errorf("hello verifies with a changed %s", name)
		}
	}
}

func TestRequestSignature(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := ids.Key(priv.Public().(ed25519.PublicKey))
	sign := func(m []byte) (s [64]byte) { copy(s[:], ed25519.Sign(priv, m)); return }
	site := ids.SiteID{1, 2}
	nonce := [32]byte{3}
	r := &Request{Op: OpCorrect, Conv: conv(0x40), Counter: 99, Body: CorrectionBody(4, []byte("envelope"))}
	SignRequest(site, nonce, r, sign)
	if r.BodyHash != sha256.Sum256(r.Body) || !r.BodyHashValid() {
		t.Fatal("SignRequest did not set the body hash")
	}
	if !VerifyRequest(pub, site, nonce, r) {
		t.Fatal("valid request does not verify")
	}
	// The signature survives the wire.
	_, f, err := Decode(Encode(1, r))
	if err != nil || !VerifyRequest(pub, site, nonce, f.(*Request)) || !f.(*Request).BodyHashValid() {
		t.Fatalf("decoded request does not verify: %v", err)
	}
	pos, env, ok := f.(*Request).Correction()
	if !ok || pos != 4 || string(env) != "envelope" {
		t.Fatalf("Correction() = %d %q %v", pos, env, ok)
	}
	if _, _, ok := (&Request{Op: OpErase}).Correction(); ok {
		t.Fatal("an erase has a correction")
	}

	signed := RequestSigned(site, nonce, r)
	want := append([]byte("siegel/request/v1"), 2)
	want = append(want, site[:]...)
	want = append(want, r.Conv[:]...)
	want = append(want, nonce[:]...)
	want = append(want, u64b(99)...)
	want = append(want, r.BodyHash[:]...)
	if !bytes.Equal(signed, want) {
		t.Fatalf("RequestSigned layout:\n got %x\nwant %x", signed, want)
	}

	other, _, _ := ed25519.GenerateKey(nil)
	if VerifyRequest(ids.Key(other), site, nonce, r) {
		t.Error("request verifies with another key")
	}
	if VerifyRequest(pub, ids.SiteID{9}, nonce, r) {
		t.Error("request verifies for another site")
	}
	if VerifyRequest(pub, site, [32]byte{4}, r) {
		t.Error("request verifies over another nonce")
	}
	for name, mut := range map[string]func(*Request){
		"operation": func(r *Request) { r.Op = OpErase },
		"conv":      func(r *Request) { r.Conv[15] ^= 1 },
		"counter":   func(r *Request) { r.Counter++ },
		"hash":      func(r *Request) { r.BodyHash[0] ^= 1 },
		"sig":       func(r *Request) { r.Sig[10] ^= 1 },
	} {
		m := *r
		mut(&m)
		if VerifyRequest(pub, site, nonce, &m) {
			t.Errorf("request verifies with a changed %s", name)
		}
	}
	// A changed body keeps the signature (it covers the hash) but not the hash.
	m := *r
	m.Body = CorrectionBody(5, []byte("envelope"))
	if m.BodyHashValid() {
		t.Error("body hash valid for another body")
	}
	if (&Request{Op: OpErase, BodyHash: sha256.Sum256(nil)}).BodyHashValid() != true {
		t.Error("empty body: hash of the empty string refused")
	}
}

func TestEncodePanicsOnForeignFrame(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	Encode(1, foreign{})
}

type foreign struct{}

func (foreign) Type() Type { return TypeList }
