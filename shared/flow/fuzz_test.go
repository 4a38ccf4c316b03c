package flow

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func addSeeds(f *testing.F, pattern string, conv func([]byte) []byte) {
	files, _ := filepath.Glob(pattern)
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if b := conv(src); b != nil {
			f.Add(b)
		}
	}
}

// FuzzCheck: Check never panics, reports positions inside the document in
// sorted order, and every document it accepts compiles to bytes that
// decode to the same flow.
func FuzzCheck(f *testing.F) {
	id := func(b []byte) []byte { return b }
	addSeeds(f, "testdata/vectors/*.json", id)
	addSeeds(f, "testdata/invalid/*.json", id)
	f.Add(Shipped())
	f.Fuzz(func(t *testing.T, src []byte) {
		fl, probs := Parse("f.json", src)
		lines := bytes.Count(src, []byte("\n")) + 1
		for i, p := range probs {
			if p.Line < 1 || p.Col < 1 || p.Line > lines || p.Msg == "" || p.File != "f.json" {
				t.Fatalf("bad problem %+v", p)
			}
			if i > 0 && (srcPos{p.Line, p.Col}).less(srcPos{probs[i-1].Line, probs[i-1].Col}) {
				t.Fatalf("problems not sorted: %v", probs)
			}
		}
		if (fl == nil) == (len(probs) == 0) {
			t.Fatalf("flow %v with %d problems", fl != nil, len(probs))
		}
		if fl == nil {
			return
		}
		b := Compile(fl)
		g, err := Decode(b)
		if err != nil {
			t.Fatalf("valid flow does not decode: %v", err)
		}
		if !reflect.DeepEqual(fl, g) {
			t.Fatal("round trip differs")
		}
	})
}

// FuzzDecode: Decode never panics, and whatever it accepts is canonical
// (compiles back to the same bytes) and obeys the consent rule.
func FuzzDecode(f *testing.F) {
	addSeeds(f, "testdata/vectors/*.json", func(src []byte) []byte {
		fl, _ := Parse("seed", src)
		if fl == nil {
			return nil
		}
		return Compile(fl)
	})
	f.Add([]byte{BinaryVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		fl, err := Decode(b)
		if err != nil {
			if fl != nil {
				t.Fatal("flow returned with an error")
			}
			return
		}
		if got := Compile(fl); !bytes.Equal(got, b) {
			t.Fatalf("not canonical:\n%x\n%x", b, got)
		}
		if v := consentViolations(fl); len(v) > 0 {
			t.Fatalf("consent violation accepted: %v", v)
		}
		if fl.Steps[fl.Start] == nil {
			t.Fatal("no start step")
		}
	})
}
