package flow

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/invalid")

func problemLines(probs []Problem) string {
	var sb strings.Builder
	for _, p := range probs {
		sb.WriteString(p.String())
		sb.WriteByte('\n')
	}
	return sb.String()
}

// TestInvalidGolden checks every document under testdata/invalid against
// its golden list of problems (exact FILE:LINE:COL: message lines).
func TestInvalidGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("only %d invalid flows", len(files))
	}
	msgs := map[string]string{} // message kind → file, to see that each file tests something of its own
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := problemLines(Check(name, src))
			golden := strings.TrimSuffix(file, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got == "" {
				t.Fatalf("%s: no problems found", name)
			}
			if got != string(want) {
				t.Errorf("problems differ\ngot:\n%swant:\n%s", got, want)
			}
			if f, probs := Parse(name, src); f != nil || len(probs) == 0 {
				t.Errorf("Parse returned a flow for an invalid document")
			}
			for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
				msgs[messageKind(line)] = name
			}
		})
	}
	t.Logf("%d distinct messages", len(msgs))
}

// messageKind strips the position and quoted operands from a problem line.
func messageKind(line string) string {
	parts := strings.SplitN(line, ": ", 2)
	if len(parts) < 2 {
		return line
	}
	msg := parts[1]
	if i := strings.IndexByte(msg, '"'); i > 0 {
		msg = msg[:i]
	}
	return msg
}
