package roster

import (
	"errors"
	"strings"
	"testing"
)

func lineAgent() Agent {
	var a Agent
	for i := range a.ID {
		a.ID[i] = byte(i)
	}
	for i := range a.Sign {
		a.Sign[i] = byte(100 + i)
		a.Box[i] = byte(200 + i)
	}
	a.Name = "Anna Müller"
	return a
}

func TestAgentPublicLineRoundTrip(t *testing.T) {
	a := lineAgent()
	line := FormatAgentPublicLine(a)
	want := "SIEGEL-AGENT-PUB 1 " + a.ID.String() + " " + a.Sign.String() + " " + a.Box.String() + " Anna Müller"
	if line != want {
		t.Fatalf("line %q, want %q", line, want)
	}
	got, err := ParseAgentPublicLine(line)
	if err != nil || got != a {
		t.Fatalf("parse: %+v %v", got, err)
	}
	// The name is the rest of the line, spaces included.
	a.Name = " two  spaces "
	if got, err := ParseAgentPublicLine(FormatAgentPublicLine(a)); err != nil || got != a {
		t.Fatalf("name with spaces: %+v %v", got, err)
	}
}

func TestAgentPublicLineRefusals(t *testing.T) {
	a := lineAgent()
	id, sign, box := a.ID.String(), a.Sign.String(), a.Box.String()
	// A 22-character ID whose last character has non-zero padding bits.
	badBits := id[:21] + "B"
	for _, c := range []struct {
		name, line string
		err        error
	}{
		{"empty", "", ErrMalformed},
		{"prefix only", "SIEGEL-AGENT-PUB", ErrMalformed},
		{"lower-case prefix", "siegel-agent-pub 1 " + id + " " + sign + " " + box + " A", ErrMalformed},
		{"other version", "SIEGEL-AGENT-PUB 2 " + id + " " + sign + " " + box + " A", ErrUnsupportedVersion},
		{"non-numeric version", "SIEGEL-AGENT-PUB x " + id + " " + sign + " " + box + " A", ErrMalformed},
		{"double space", "SIEGEL-AGENT-PUB 1  " + id + " " + sign + " " + box + " A", ErrMalformed},
		{"no name", "SIEGEL-AGENT-PUB 1 " + id + " " + sign + " " + box, ErrMalformed},
		{"empty name", "SIEGEL-AGENT-PUB 1 " + id + " " + sign + " " + box + " ", ErrMalformed},
		{"trailing newline", FormatAgentPublicLine(a) + "\n", ErrMalformed},
		{"CR", FormatAgentPublicLine(a) + "\r", ErrMalformed},
		{"tab separator", "SIEGEL-AGENT-PUB 1\t" + id + " " + sign + " " + box + " A", ErrMalformed},
		{"short id", "SIEGEL-AGENT-PUB 1 " + id[:21] + " " + sign + " " + box + " A", ErrMalformed},
		{"padded id", "SIEGEL-AGENT-PUB 1 " + id + "== " + sign + " " + box + " A", ErrMalformed},
		{"padding bits", "SIEGEL-AGENT-PUB 1 " + badBits + " " + sign + " " + box + " A", ErrMalformed},
		{"standard base64", "SIEGEL-AGENT-PUB 1 " + id + " " + strings.ReplaceAll(sign, "_", "/") + "/ " + box + " A", ErrMalformed},
		{"swapped keys too short", "SIEGEL-AGENT-PUB 1 " + id + " " + sign[:40] + " " + box + " A", ErrMalformed},
		{"long name", "SIEGEL-AGENT-PUB 1 " + id + " " + sign + " " + box + " " + strings.Repeat("x", MaxName+1), ErrMalformed},
		{"invalid UTF-8", "SIEGEL-AGENT-PUB 1 " + id + " " + sign + " " + box + " \xff", ErrMalformed},
		{"control character", "SIEGEL-AGENT-PUB 1 " + id + " " + sign + " " + box + " a\u0085b", ErrMalformed},
	} {
		got, err := ParseAgentPublicLine(c.line)
		if !errors.Is(err, c.err) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.err)
		}
		if got != (Agent{}) {
			t.Errorf("%s: non-zero agent with an error", c.name)
		}
	}
}

// FuzzAgentPublicLine checks that ParseAgentPublicLine never panics, fails
// only with the documented errors, and that whatever it accepts is canonical.
func FuzzAgentPublicLine(f *testing.F) {
	f.Add(FormatAgentPublicLine(lineAgent()))
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAgentPublicLine(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupportedVersion) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if got := FormatAgentPublicLine(a); got != s {
			t.Fatalf("not canonical: %q -> %q", s, got)
		}
	})
}
