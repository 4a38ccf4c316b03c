package flow

import (
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// docBlock returns the first fenced block of the given language after the
// heading line in docs/FLOWS.md.
func docBlock(t *testing.T, after, lang string) string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/FLOWS.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i := strings.Index(s, after)
	if i < 0 {
		t.Fatalf("docs/FLOWS.md: %q not found", after)
	}
	s = s[i:]
	j := strings.Index(s, "```"+lang+"\n")
	if j < 0 {
		t.Fatalf("docs/FLOWS.md: no %s block after %q", lang, after)
	}
	s = s[j+len("```"+lang+"\n"):]
	return s[:strings.Index(s, "```")]
}

// TestDocExample: the complete example of docs/FLOWS.md is valid and
// uses every step kind.
func TestDocExample(t *testing.T) {
	src := docBlock(t, "## 5. Complete example", "json")
	f := mustParse(t, "FLOWS.md example", []byte(src))
	kinds := map[Kind]bool{}
	for _, s := range f.Steps {
		kinds[s.Kind] = true
	}
	if len(kinds) != int(KindEnd) {
		t.Errorf("the example uses %d of %d step kinds", len(kinds), KindEnd)
	}
}

// TestDocVector: the annotated bytes in docs/FLOWS.md are the mini vector.
func TestDocVector(t *testing.T) {
	var hexText strings.Builder
	for _, line := range strings.Split(docBlock(t, "compiles to (", ""), "\n") {
		code, _, _ := strings.Cut(strings.TrimSpace(line), "  ")
		hexText.WriteString(strings.ReplaceAll(code, " ", ""))
	}
	got, err := hex.DecodeString(hexText.String())
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/vectors/mini.hex")
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got) != strings.Join(strings.Fields(string(want)), "") {
		t.Fatalf("docs/FLOWS.md shows\n%x\nbut mini.hex is\n%s", got, want)
	}
	src, err := os.ReadFile("testdata/vectors/mini.json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(docBlock(t, "The smallest, `mini.json`", "json"), strings.TrimSpace(string(src))) {
		t.Error("docs/FLOWS.md shows a different mini.json")
	}
	if n := len(got); !strings.Contains(readDoc(t), "compiles to ("+itoa(n)+" bytes)") {
		t.Errorf("docs/FLOWS.md states a wrong size (%d bytes)", n)
	}
}

func readDoc(t *testing.T) string {
	b, err := os.ReadFile("../../docs/FLOWS.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
