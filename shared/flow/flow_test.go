package flow

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t testing.TB, name string, src []byte) *Flow {
	t.Helper()
	f, probs := Parse(name, src)
	if len(probs) > 0 || f == nil {
		t.Fatalf("%s: %v", name, probs)
	}
	return f
}

func validDocs(t *testing.T) map[string][]byte {
	t.Helper()
	docs := map[string][]byte{ShippedName: Shipped()}
	files, err := filepath.Glob("testdata/vectors/*.json")
	if err != nil || len(files) == 0 {
		t.Fatal("no vectors", err)
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		docs[filepath.Base(file)] = src
	}
	return docs
}

func TestShippedIsValid(t *testing.T) {
	if probs := Check(ShippedName, Shipped()); len(probs) > 0 {
		t.Fatal(problemLines(probs))
	}
}

// TestShippedContent checks what the shipped flow promises: both languages,
// the main menu, at least 12 FAQ entries with several variants, and an
// appointment request that asks for anonymous details first, then consent,
// then name, email and phone, with a decline path that asks for nothing
// personal.
func TestShippedContent(t *testing.T) {
	f := mustParse(t, ShippedName, Shipped())
	if !reflect.DeepEqual(f.Languages, []string{"de", "en"}) || f.DefaultLanguage != "de" {
		t.Fatalf("languages %v default %q", f.Languages, f.DefaultLanguage)
	}
	if len(f.FAQ) < 12 {
		t.Fatalf("%d FAQ entries", len(f.FAQ))
	}
	for _, q := range f.FAQ {
		for _, l := range f.Languages {
			if len(q.Questions[l]) < 3 || len(q.Keywords[l]) < 3 {
				t.Errorf("FAQ %s/%s: %d questions, %d keywords", q.ID, l, len(q.Questions[l]), len(q.Keywords[l]))
			}
		}
	}
	menu := f.Step(f.Steps[f.Start].Next)
	if menu == nil || menu.Kind != KindChoice || len(menu.Options) != 4 {
		t.Fatalf("start is not followed by the four-option menu: %+v", menu)
	}
	var labels []string
	for _, o := range menu.Options {
		labels = append(labels, o.Label["de"])
	}
	if got := strings.Join(labels, "|"); got != "Öffnungszeiten & Preise|Termin oder Rückruf|Frage stellen|Mit einem Menschen sprechen" {
		t.Errorf("menu labels %q", got)
	}
	// Walk the appointment path: options → anonymous asks → consent.
	var personal, anonymous []string
	var consentStep *Step
	seen := map[string]bool{}
	var walk func(id string, consented bool)
	walk = func(id string, consented bool) {
		key := id
		if consented {
			key += "+"
		}
		if seen[key] {
			return
		}
		seen[key] = true
		s := f.Steps[id]
		if s.Kind == KindAsk {
			if s.Personal {
				if !consented {
					t.Errorf("personal ask %s before consent", id)
				}
				personal = append(personal, s.Input.String()+":"+s.Variable)
			} else if !consented {
				anonymous = append(anonymous, s.Variable)
			}
		}
		if s.Kind == KindConsent {
			consentStep = s
			walk(s.Accept, true)
			walk(s.Decline, false)
			return
		}
		for _, n := range s.Targets() {
			walk(n, consented)
		}
	}
	walk(f.Start, false)
	if consentStep == nil {
		t.Fatal("no consent step")
	}
	if got := strings.Join(personal, ","); got != "text:name,email:email,phone:phone" {
		t.Errorf("personal asks after consent: %s", got)
	}
	if got := strings.Join(anonymous, ","); got != "repair,day" {
		t.Errorf("anonymous asks before consent: %s", got)
	}
	for _, v := range []string{"name", "email", "phone"} {
		if vv, _ := f.Variable(v); !vv.Personal {
			t.Errorf("variable %s not personal", v)
		}
	}
	if f.PrivacyPolicy["de"] == "" || f.PrivacyPolicy["en"] == "" {
		t.Error("no privacy policy URLs")
	}
	kinds := map[Kind]bool{}
	for _, s := range f.Steps {
		kinds[s.Kind] = true
	}
	for _, k := range []Kind{KindSay, KindChoice, KindAsk, KindConsent, KindBranch, KindSet, KindFAQ, KindHandoff, KindEnd} {
		if !kinds[k] {
			t.Errorf("shipped flow has no %s step", k)
		}
	}
}

func TestShippedIsACopy(t *testing.T) {
	a := Shipped()
	a[0] = 'x'
	if Shipped()[0] != '{' {
		t.Fatal("Shipped returned shared bytes")
	}
}

func TestRoundTrip(t *testing.T) {
	for name, src := range validDocs(t) {
		f := mustParse(t, name, src)
		b := Compile(f)
		g, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(f, g) {
			t.Fatalf("%s: decoded flow differs\nparsed:  %+v\ndecoded: %+v", name, f, g)
		}
		if !bytes.Equal(Compile(g), b) {
			t.Fatalf("%s: compile is not deterministic", name)
		}
		if len(b) >= len(src) {
			t.Errorf("%s: compiled %d bytes, source %d", name, len(b), len(src))
		}
	}
}

// TestVectors pins the binary form: each testdata/vectors/X.json compiles
// to exactly the bytes in X.hex, and those bytes decode to the parsed flow.
func TestVectors(t *testing.T) {
	files, _ := filepath.Glob("testdata/vectors/*.json")
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		hexFile := strings.TrimSuffix(file, ".json") + ".hex"
		if *update {
			if err := os.WriteFile(hexFile, []byte(hexLines(Compile(mustParse(t, file, src)))), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		hexText, err := os.ReadFile(hexFile)
		if err != nil {
			t.Fatal(err)
		}
		want, err := hex.DecodeString(strings.Join(strings.Fields(string(hexText)), ""))
		if err != nil {
			t.Fatal(err)
		}
		f := mustParse(t, file, src)
		if got := Compile(f); !bytes.Equal(got, want) {
			t.Errorf("%s: compiled\n%x\nwant\n%x", file, got, want)
		}
		g, err := Decode(want)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !reflect.DeepEqual(f, g) {
			t.Errorf("%s: decoded vector differs from the parsed flow", file)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	f := mustParse(t, "tiny.json", validDocs(t)["tiny.json"])
	good := Compile(f)
	// Every proper prefix fails.
	for n := 0; n < len(good); n++ {
		if _, err := Decode(good[:n]); err == nil {
			t.Fatalf("prefix of %d bytes accepted", n)
		}
	}
	if _, err := Decode(append(append([]byte(nil), good...), 0)); !errors.Is(err, ErrMalformed) {
		t.Errorf("trailing byte: %v", err)
	}
	bad := append([]byte(nil), good...)
	bad[0] = 2
	if _, err := Decode(bad); !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("version 2: %v", err)
	}
	if _, err := Decode(make([]byte, MaxBinarySize+1)); err == nil {
		t.Error("oversized input accepted")
	}
	// Non-canonical varint: the language count 2 as 0x82 0x00.
	nc := append([]byte{good[0], 0x82, 0x00}, good[2:]...)
	if _, err := Decode(nc); !errors.Is(err, ErrMalformed) {
		t.Errorf("non-canonical varint: %v", err)
	}
	// Every single-byte change either fails or decodes to a flow that
	// compiles back to the changed bytes (the encoding is canonical).
	for i := range good {
		for _, x := range []byte{0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, good[i] + 1} {
			if x == good[i] {
				continue
			}
			b := append([]byte(nil), good...)
			b[i] = x
			g, err := Decode(b)
			if err != nil {
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupportedVersion) && !errors.Is(err, ErrConsent) {
					t.Fatalf("byte %d = %#x: unexpected error %v", i, x, err)
				}
				continue
			}
			if !bytes.Equal(Compile(g), b) {
				t.Fatalf("byte %d = %#x: decoded but not canonical", i, x)
			}
		}
	}
}

func TestProblemString(t *testing.T) {
	p := Problem{File: "a/b.json", Line: 12, Col: 7, Msg: "unreachable step \"x\""}
	if got := p.String(); got != `a/b.json:12:7: unreachable step "x"` {
		t.Fatal(got)
	}
}

func TestCheckValidReturnsNil(t *testing.T) {
	for name, src := range validDocs(t) {
		if probs := Check(name, src); probs != nil {
			t.Errorf("%s: %v", name, probs)
		}
	}
}

func TestTooLarge(t *testing.T) {
	src := append([]byte(`{"version": 1}`), bytes.Repeat([]byte(" "), MaxSourceSize)...)
	probs := Check("big.json", src)
	if len(probs) != 1 || probs[0].String() != "big.json:1:1: document larger than 1048576 bytes" {
		t.Fatal(probs)
	}
}

// TestProblemsSorted: several problems in one document come out in
// position order, one line each, with the file name.
func TestProblemsSorted(t *testing.T) {
	src := []byte(`{
  "version": 1,
  "languages": ["de", "en"],
  "start": "a",
  "variables": [{"name": "v"}],
  "steps": {
    "z": {"kind": "say", "text": {"de": "Z"}, "next": "nowhere"},
    "a": {"kind": "set", "variable": "w", "value": "1", "next": "b"},
    "b": {"kind": "wait"},
    "c": {"kind": "end", "text": {"de": "Ende", "en": "End", "fr": "Fin"}}
  }
}
`)
	want := `f.json:7:34: missing translation "en"
f.json:7:55: dangling target: no step "nowhere"
f.json:8:38: undeclared variable "w"
f.json:9:19: unknown step kind "wait"
f.json:10:62: undeclared language "fr"
`
	if got := problemLines(Check("f.json", src)); got != want {
		t.Fatalf("got\n%swant\n%s", got, want)
	}
}

func TestTextIn(t *testing.T) {
	tx := Text{"de": "Hallo", "en": "Hello"}
	for _, c := range [][3]string{{"en", "de", "Hello"}, {"fr", "en", "Hello"}, {"fr", "it", "Hallo"}} {
		if got := tx.In(c[0], c[1]); got != c[2] {
			t.Errorf("In(%s, %s) = %s", c[0], c[1], got)
		}
	}
	if Text(nil).In("de", "de") != "" {
		t.Error("nil text")
	}
}

func TestKindNames(t *testing.T) {
	for k := KindSay; k <= KindEnd; k++ {
		if p, ok := ParseKind(k.String()); !ok || p != k {
			t.Errorf("kind %d", k)
		}
	}
	for k := InputText; k <= InputDate; k++ {
		if p, ok := ParseInputKind(k.String()); !ok || p != k {
			t.Errorf("input %d", k)
		}
	}
	if _, ok := ParseKind("kind(0)"); ok || Kind(0).String() != "kind(0)" || Kind(11).String() != "kind(11)" {
		t.Error("invalid kind")
	}
}

// hexLines formats b as lowercase hex, 32 bytes per line.
func hexLines(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		n := min(32, len(b))
		sb.WriteString(hex.EncodeToString(b[:n]))
		sb.WriteByte('\n')
		b = b[n:]
	}
	return sb.String()
}
