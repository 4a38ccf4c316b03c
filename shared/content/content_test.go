package content

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	answers := []Answer{
		{Variable: "email", Personal: true, Kind: InputEmail, Value: "a@example.org"},
		{Variable: "repair_kind", Kind: InputText, Value: "Platten vorne"},
		{Kind: InputChoice, Value: "Termin oder Rückruf"},
	}
	for _, a := range answers {
		got, err := DecodeAnswer(EncodeAnswer(a))
		if err != nil || got != a {
			t.Errorf("answer %+v: got %+v, %v", a, got, err)
		}
		if err := Check(TypeAnswer, EncodeAnswer(a)); err != nil {
			t.Errorf("Check answer: %v", err)
		}
	}
	for _, c := range []Consent{{FlowVersion: 3, TextHash: [32]byte{1, 2}, Accepted: true, Time: 1767225600000}, {Accepted: false}} {
		got, err := DecodeConsent(EncodeConsent(c))
		if err != nil || got != c {
			t.Errorf("consent %+v: got %+v, %v", c, got, err)
		}
	}
	for _, c := range []Correction{
		{Pos: 1, Answer: Answer{Variable: "email", Personal: true, Kind: InputEmail, Value: "b@example.org"}},
		{Pos: 1<<64 - 1, Answer: Answer{Variable: "n", Kind: InputNumber, Value: "42"}},
	} {
		got, err := DecodeCorrection(EncodeCorrection(c))
		if err != nil || got != c {
			t.Errorf("correction %+v: got %+v, %v", c, got, err)
		}
		if err := Check(TypeCorrection, EncodeCorrection(c)); err != nil {
			t.Errorf("Check correction: %v", err)
		}
	}
	for _, h := range []Handoff{{Reason: HandoffPerson}, {Reason: HandoffMessage, Note: "Bitte um Rückruf"}} {
		got, err := DecodeHandoff(EncodeHandoff(h))
		if err != nil || got != h {
			t.Errorf("handoff %+v: got %+v, %v", h, got, err)
		}
	}
}

// TestVectors pins the encodings documented in docs/PROTOCOL.md §3.3.
func TestVectors(t *testing.T) {
	for _, tc := range []struct {
		got  []byte
		want string
	}{
		{EncodeAnswer(Answer{Variable: "email", Personal: true, Kind: InputEmail, Value: "a@b.de"}), "010205656d61696c6140622e6465"},
		{EncodeAnswer(Answer{Kind: InputChoice, Value: "Ja"}), "0000004a61"},
		{EncodeConsent(Consent{FlowVersion: 1, TextHash: [32]byte{0xaa}, Accepted: true, Time: 1}), "00000001aa" + strings.Repeat("00", 31) + "01" + "0000000000000001"},
		{EncodeHandoff(Handoff{Reason: HandoffPerson}), "01"},
		{EncodeCorrection(Correction{Pos: 7, Answer: Answer{Variable: "email", Personal: true, Kind: InputEmail, Value: "c@d.de"}}),
			"0000000000000007" + "010205656d61696c" + "6340642e6465"},
	} {
		if hex.EncodeToString(tc.got) != tc.want {
			t.Errorf("got %x, want %s", tc.got, tc.want)
		}
	}
}

func TestRejects(t *testing.T) {
	long := bytes.Repeat([]byte("x"), MaxText+1)
	for name, tc := range map[string]struct {
		t Type
		b []byte
	}{
		"unknown type":          {0x09, []byte("x")},
		"type zero":             {0, []byte("x")},
		"empty text":            {TypeText, nil},
		"long text":             {TypeText, long},
		"invalid utf8 bot":      {TypeBot, []byte{0xff}},
		"answer short":          {TypeAnswer, []byte{0, 1}},
		"answer bad flags":      {TypeAnswer, []byte{2, 1, 1, 'a', 'v'}},
		"answer bad kind":       {TypeAnswer, []byte{0, 6, 1, 'a', 'v'}},
		"answer var too long":   {TypeAnswer, append([]byte{0, 1, 65}, bytes.Repeat([]byte("a"), 66)...)},
		"answer var cut":        {TypeAnswer, []byte{0, 1, 5, 'a'}},
		"answer bad var char":   {TypeAnswer, []byte{0, 1, 1, '-', 'v'}},
		"answer no var":         {TypeAnswer, []byte{0, 1, 0, 'v'}},
		"answer empty value":    {TypeAnswer, []byte{0, 1, 1, 'a'}},
		"choice with var":       {TypeAnswer, []byte{0, 0, 1, 'a', 'v'}},
		"choice personal":       {TypeAnswer, []byte{1, 0, 0, 'v'}},
		"consent short":         {TypeConsent, make([]byte, 44)},
		"consent long":          {TypeConsent, make([]byte, 46)},
		"consent decision 0":    {TypeConsent, make([]byte, 45)},
		"consent negative time": {TypeConsent, append(append(make([]byte, 36), 1), 0x80, 0, 0, 0, 0, 0, 0, 0)},
		"handoff empty":         {TypeHandoff, nil},
		"handoff reason 3":      {TypeHandoff, []byte{3}},
		"handoff invalid note":  {TypeHandoff, []byte{1, 0xff}},
		"correction empty":      {TypeCorrection, nil},
		"correction short pos":  {TypeCorrection, []byte{0, 0, 0, 0, 0, 0, 1}},
		"correction no answer":  {TypeCorrection, []byte{0, 0, 0, 0, 0, 0, 0, 1}},
		"correction pos 0":      {TypeCorrection, append(make([]byte, 8), 0, 1, 1, 'a', 'v')},
		"correction of choice":  {TypeCorrection, []byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 'J', 'a'}},
		"correction bad answer": {TypeCorrection, []byte{0, 0, 0, 0, 0, 0, 0, 1, 2, 1, 1, 'a', 'v'}},
		"correction bad utf8":   {TypeCorrection, []byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 'a', 0xff}},
		"type 7":                {0x07, []byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 'a', 'v'}},
	} {
		if err := Check(tc.t, tc.b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(byte(TypeAnswer), EncodeAnswer(Answer{Variable: "name", Personal: true, Kind: InputText, Value: "Ada"}))
	f.Add(byte(TypeConsent), EncodeConsent(Consent{Accepted: true}))
	f.Add(byte(TypeHandoff), EncodeHandoff(Handoff{Reason: HandoffMessage, Note: "n"}))
	f.Add(byte(TypeText), []byte("hallo"))
	f.Add(byte(TypeCorrection), EncodeCorrection(Correction{Pos: 3, Answer: Answer{Variable: "name", Personal: true, Kind: InputText, Value: "Ada L."}}))
	f.Fuzz(func(t *testing.T, typ byte, b []byte) {
		if Check(Type(typ), b) != nil {
			return
		}
		// Whatever is accepted re-encodes to the same bytes.
		var again []byte
		switch Type(typ) {
		case TypeText, TypeBot:
			again = EncodeText(string(b))
		case TypeAnswer:
			a, _ := DecodeAnswer(b)
			again = EncodeAnswer(a)
		case TypeConsent:
			c, _ := DecodeConsent(b)
			again = EncodeConsent(c)
		case TypeHandoff:
			h, _ := DecodeHandoff(b)
			again = EncodeHandoff(h)
		case TypeCorrection:
			c, _ := DecodeCorrection(b)
			again = EncodeCorrection(c)
		default:
			t.Fatalf("Check accepted unknown type %d", typ)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("not canonical: %x -> %x", b, again)
		}
	})
}
