package agent

import (
	"errors"
	"strings"
	"testing"
	"time"

	"siegel/shared/content"
	"siegel/shared/keyfile"
)

// FuzzCheckKeyText checks the quick look at an imported key file: it never
// panics, refuses only with the key file error classes, and accepts only texts
// that start with the key file header line.
func FuzzCheckKeyText(f *testing.F) {
	f.Add("SIEGEL AGENT KEY 1\nAQ==\n")
	f.Add("SIEGEL AGENT KEY 2\nAg==\n")
	f.Add("hello")
	f.Fuzz(func(t *testing.T, text string) {
		err := checkKeyText(text)
		if err != nil {
			if !errors.Is(err, keyfile.ErrMalformed) && !errors.Is(err, keyfile.ErrUnsupportedVersion) {
				t.Fatalf("unexpected error class %v", err)
			}
			return
		}
		if !strings.HasPrefix(text, keyfile.Header+"\n") && !strings.HasPrefix(text, keyfile.Header+"\r\n") {
			t.Fatalf("accepted %q without the header line", text)
		}
	})
}

// FuzzSetContent checks the decoding of transcript contents: it never panics,
// a content is readable exactly when it is valid for its type (and the sender
// may send that type), and an unreadable one keeps nothing of its bytes.
func FuzzSetContent(f *testing.F) {
	f.Add(uint8(content.TypeText), false, []byte("Hallo"))
	f.Add(uint8(content.TypeBot), false, []byte("Wie kann ich helfen?"))
	f.Add(uint8(content.TypeAnswer), false, content.EncodeAnswer(content.Answer{Variable: "email", Personal: true, Kind: content.InputEmail, Value: "a@b.de"}))
	f.Add(uint8(content.TypeAnswer), false, content.EncodeAnswer(content.Answer{Kind: content.InputChoice, Value: "Ja"}))
	f.Add(uint8(content.TypeConsent), false, content.EncodeConsent(content.Consent{FlowVersion: 3, Accepted: true, Time: 1}))
	f.Add(uint8(content.TypeHandoff), false, []byte{2, 'h', 'i'})
	f.Add(uint8(content.TypeBot), true, []byte("Bot?"))
	f.Add(uint8(9), false, []byte{1, 2, 3})
	f.Add(uint8(content.TypeCorrection), false, content.EncodeCorrection(content.Correction{Pos: 4,
		Answer: content.Answer{Variable: "email", Personal: true, Kind: content.InputEmail, Value: "neu@b.de"}}))
	f.Fuzz(func(t *testing.T, typ uint8, byAgent bool, b []byte) {
		from := FromVisitor
		if byAgent {
			from = FromAgent
		}
		m := Message{From: from}
		m.setContent(content.Type(typ), b, "")
		valid := content.Check(content.Type(typ), b) == nil && (!byAgent || content.Type(typ) == content.TypeText)
		if m.Unreadable == valid {
			t.Fatalf("type %d valid %v, unreadable %v", typ, valid, m.Unreadable)
		}
		for _, l := range []Lang{German, English} {
			sh := Strings(l).Show(&m, time.UTC)
			if m.Unreadable && sh != (Shown{Text: Strings(l).Unreadable}) {
				t.Fatalf("unreadable shown as %+v", sh)
			}
		}
		if m.Unreadable && (m.Text != "" || m.Variable != "" || m.Kind != KindText || m.Corrected || m.Original != 0) {
			t.Fatalf("unreadable keeps %+v", m)
		}
		if !m.Unreadable && m.Kind.System() != (typ == uint8(content.TypeConsent) || typ == uint8(content.TypeHandoff)) {
			t.Fatalf("kind %v for type %d", m.Kind, typ)
		}
		if !m.Unreadable && m.Corrected != (typ == uint8(content.TypeCorrection)) {
			t.Fatalf("corrected %v for type %d", m.Corrected, typ)
		}
	})
}
