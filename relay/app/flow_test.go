package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"siegel/shared/flow"
)

func runRelay(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestFlowCheck(t *testing.T) {
	dir := t.TempDir()
	valid := filepath.Join(dir, "valid.json")
	if err := os.WriteFile(valid, flow.Shipped(), 0o600); err != nil {
		t.Fatal(err)
	}
	invalid := filepath.Join(dir, "invalid.json")
	src := `{
  "version": 1,
  "languages": ["de"],
  "start": "a",
  "variables": [{"name": "mail"}],
  "steps": {
    "a": {"kind": "ask", "text": {"de": "E-Mail?"}, "input": "email", "variable": "mail", "next": "b"},
    "b": {"kind": "sya"},
    "c": {"kind": "end"}
  }
}
`
	if err := os.WriteFile(invalid, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errs := runRelay("flow", "check", valid)
	if code != 0 || out != "" || errs != "" {
		t.Fatalf("valid: code %d, stdout %q, stderr %q", code, out, errs)
	}

	code, out, _ = runRelay("flow", "check", valid, invalid)
	want := invalid + ":8:19: unknown step kind \"sya\"\n"
	if code != 1 || out != want {
		t.Fatalf("invalid: code %d, stdout %q, want %q", code, out, want)
	}

	// The consent rule, once the steps are well-formed.
	fixed := strings.Replace(src, `"sya"`, `"end"`, 1)
	fixed = strings.Replace(fixed, "    \"c\": {\"kind\": \"end\"}\n", "", 1)
	fixed = strings.Replace(fixed, `"b": {"kind": "end"},`, `"b": {"kind": "end"}`, 1)
	if err := os.WriteFile(invalid, []byte(fixed), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runRelay("flow", "check", invalid)
	want = invalid + ":7:5: personal ask reachable without consent (path: a)\n"
	if code != 1 || out != want {
		t.Fatalf("consent: code %d, stdout %q, want %q", code, out, want)
	}

	code, out, errs = runRelay("flow", "check", filepath.Join(dir, "missing.json"))
	if code != 1 || out != "" || !strings.Contains(errs, "missing.json") {
		t.Fatalf("missing file: code %d, stdout %q, stderr %q", code, out, errs)
	}

	for _, args := range [][]string{{"flow"}, {"flow", "check"}, {"flow", "lint", valid}} {
		if code, _, _ := runRelay(args...); code != 2 {
			t.Errorf("%q: code %d, want 2", args, code)
		}
	}
	if code, out, _ := runRelay("flow", "-h"); code != 0 || !strings.Contains(out, "relay flow check FILE") {
		t.Errorf("help: code %d, %q", code, out)
	}
}
