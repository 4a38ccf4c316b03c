package flowengine

import (
	"encoding/json"
	"os"
	"testing"
)

type patternTable struct {
	Patterns []string `json:"patterns"`
	Inputs   []string `json:"inputs"`
}

// loadPatternTable reads the table of patterns and inputs that shared/flow
// tests as well.
func loadPatternTable(t *testing.T) patternTable {
	t.Helper()
	b, err := os.ReadFile("../../shared/flow/testdata/patterns.json")
	if err != nil {
		t.Fatal(err)
	}
	var tab patternTable
	if err := json.Unmarshal(b, &tab); err != nil {
		t.Fatal(err)
	}
	if len(tab.Patterns) < 50 || len(tab.Inputs) < 50 {
		t.Fatalf("table too small: %d patterns, %d inputs", len(tab.Patterns), len(tab.Inputs))
	}
	return tab
}
