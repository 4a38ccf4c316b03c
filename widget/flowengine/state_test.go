package flowengine

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"siegel/shared/flow"
)

// step performs one script action.
func step(e *Engine, a string) []Output {
	switch {
	case strings.HasPrefix(a, "choose:"):
		return e.Choose(int(a[7] - '0'))
	case a == "accept":
		return e.Consent(true)
	case a == "decline":
		return e.Consent(false)
	}
	return e.Input(a)
}

// TestStateRoundTrip saves and restores the engine after every action of
// every script: the bytes are canonical, and the restored engine goes on
// exactly like the original.
func TestStateRoundTrip(t *testing.T) {
	f := testFlow(t)
	for _, s := range scripts {
		for _, lang := range []string{"de", "en"} {
			for cut := 0; cut <= len(s); cut++ {
				e := newEngine(t, f, lang)
				e.SetFlowVersion(7)
				e.Start()
				for _, a := range s[:cut] {
					step(e, a)
				}
				b := e.MarshalState()
				r, err := RestoreState(f, b)
				if err != nil {
					t.Fatalf("%s %q cut %d: %v", lang, s, cut, err)
				}
				if got := r.MarshalState(); !bytes.Equal(got, b) {
					t.Fatalf("%s %q cut %d: state not canonical", lang, s, cut)
				}
				if r.Lang() != e.Lang() || r.Status() != e.Status() || r.Step() != e.Step() ||
					r.ConsentState() != e.ConsentState() || r.HandedOff() != e.HandedOff() ||
					!reflect.DeepEqual(r.Transcript(), e.Transcript()) || !reflect.DeepEqual(r.vars, e.vars) ||
					!reflect.DeepEqual(r.Prompt(), e.Prompt()) {
					t.Fatalf("%s %q cut %d: restored engine differs", lang, s, cut)
				}
				c1, c2 := &clock{ms: 2e12}, &clock{ms: 2e12}
				e.SetClock(c1.now)
				r.SetClock(c2.now)
				r.SetFlowVersion(7)
				r.SetCompiler(goCompile) // not part of the state: the widget sets it again
				for _, a := range s[cut:] {
					if o1, o2 := step(e, a), step(r, a); !reflect.DeepEqual(o1, o2) {
						t.Fatalf("%s %q cut %d: %q gives %+v after restore, %+v before", lang, s, cut, a, o2, o1)
					}
				}
				if !bytes.Equal(e.MarshalState(), r.MarshalState()) {
					t.Fatalf("%s %q cut %d: final states differ", lang, s, cut)
				}
			}
		}
	}
}

func TestStateNotStarted(t *testing.T) {
	f := testFlow(t)
	e := New(f, "en")
	r, err := RestoreState(f, e.MarshalState())
	if err != nil || r.Status() != NotStarted || r.Lang() != "en" {
		t.Fatalf("%v %v", r, err)
	}
	if outs := r.Start(); len(outs) != 3 {
		t.Errorf("Start after restore: %v", kinds(outs))
	}
}

// stateAt runs a script prefix and returns the state.
func stateAt(t *testing.T, f *flow.Flow, lang string, actions ...string) []byte {
	t.Helper()
	e := newEngine(t, f, lang)
	e.Start()
	for _, a := range actions {
		step(e, a)
	}
	return e.MarshalState()
}

func TestStateStrict(t *testing.T) {
	f := testFlow(t)
	atConsent := stateAt(t, f, "de", "choose:2")
	atEmail := stateAt(t, f, "de", "choose:2", "accept", "Ada")
	done := stateAt(t, f, "en", "choose:1", "abc", "AB123", "3", "2026-01-01")
	for _, b := range [][]byte{atConsent, atEmail, done} {
		if _, err := RestoreState(f, b); err != nil {
			t.Fatal(err)
		}
		// Every proper prefix and every extension is refused.
		for n := range len(b) {
			if _, err := RestoreState(f, b[:n]); err == nil {
				t.Fatalf("prefix of %d bytes accepted", n)
			}
		}
		if _, err := RestoreState(f, append(append([]byte(nil), b...), 0)); !errors.Is(err, ErrState) {
			t.Errorf("trailing byte: %v", err)
		}
	}
	mutate := func(b []byte, fn func([]byte) []byte) []byte { return fn(append([]byte(nil), b...)) }
	bad := []struct {
		name string
		b    []byte
		err  error
	}{
		{"magic", mutate(done, func(b []byte) []byte { b[0] = 'X'; return b }), ErrState},
		{"version", mutate(done, func(b []byte) []byte { b[3] = 2; return b }), ErrState},
		{"status", mutate(done, func(b []byte) []byte { b[7] = 9; return b }), ErrState},
		// "SFE\x01" 0x02 "en" status: the step name follows; make it a non-minimal varint length.
		{"long varint", mutate(done, func(b []byte) []byte {
			return append(append(append([]byte(nil), b[:8]...), b[8]|0x80, 0), b[9:]...)
		}), ErrState},
		{"unknown language", bytes.Replace(done, []byte("\x02en"), []byte("\x02fr"), 1), ErrStateFlow},
	}
	for _, c := range bad {
		if _, err := RestoreState(f, c.b); !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
	}

	// The flow changed since: the current step is gone, the consent text on
	// screen is different, a variable is no longer declared.
	g := testFlow(t)
	delete(g.Steps, "bye")
	if _, err := RestoreState(g, done); !errors.Is(err, ErrStateFlow) {
		t.Errorf("missing step: %v", err)
	}
	g = testFlow(t)
	g.Steps["consent"].Text["de"] = "Anderer Text"
	if _, err := RestoreState(g, atConsent); !errors.Is(err, ErrStateFlow) {
		t.Errorf("changed consent text: %v", err)
	}
	g = testFlow(t)
	g.Variables = g.Variables[1:] // "note" undeclared
	if _, err := RestoreState(g, done); !errors.Is(err, ErrStateFlow) {
		t.Errorf("undeclared variable: %v", err)
	}
	g = testFlow(t)
	g.Steps["bye"].Kind = flow.KindSay
	if _, err := RestoreState(g, done); !errors.Is(err, ErrStateFlow) {
		t.Errorf("step of another kind: %v", err)
	}
	// A personal ask on screen needs the accepted consent.
	g = testFlow(t)
	e, err := RestoreState(g, atEmail)
	if err != nil {
		t.Fatal(err)
	}
	e.consent = ConsentDeclined
	for i := range e.transcript {
		if c := e.transcript[i].Consent; c != nil {
			c.Accepted = false
		}
	}
	if _, err := RestoreState(g, e.MarshalState()); !errors.Is(err, ErrStateFlow) {
		t.Errorf("personal ask after decline: %v", err)
	}
	// The consent state must agree with the last decision.
	e, _ = RestoreState(g, atEmail)
	e.consent = ConsentNone
	if _, err := RestoreState(g, e.MarshalState()); !errors.Is(err, ErrState) {
		t.Errorf("consent state without matching record: %v", err)
	}
	// Only visitor answers carry a variable.
	e, _ = RestoreState(g, done)
	e.transcript[0].Variable = "note"
	if _, err := RestoreState(g, e.MarshalState()); !errors.Is(err, ErrState) {
		t.Errorf("bot entry with a variable: %v", err)
	}
}

func TestStateKeepsTimes(t *testing.T) {
	f := testFlow(t)
	e := New(f, "de")
	e.SetClock(func() time.Time { return time.UnixMilli(-5) }) // before 1970: negative times survive
	e.Start()
	r, err := RestoreState(f, e.MarshalState())
	if err != nil || r.Transcript()[0].Time != -5 {
		t.Fatalf("%v %+v", err, r)
	}
}

func FuzzRestoreState(f *testing.F) {
	fl := testFlow(f)
	for _, s := range scripts {
		e := newEngine(f, fl, "de")
		e.Start()
		for _, a := range s {
			step(e, a)
			f.Add(e.MarshalState())
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := RestoreState(fl, b)
		if err != nil {
			if !errors.Is(err, ErrState) && !errors.Is(err, ErrStateFlow) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if got := e.MarshalState(); !bytes.Equal(got, b) {
			t.Fatalf("accepted a non-canonical state:\n%q\n%q", b, got)
		}
		// A restored engine can be driven.
		e.SetClock(func() time.Time { return time.UnixMilli(0) })
		e.Prompt()
		e.Input("2026-01-01")
		e.Choose(0)
		e.Consent(true)
		e.Input("ada@example.org")
		e.MarshalState()
	})
}
