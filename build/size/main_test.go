package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"siegel/build/internal/assets"
)

func TestStatus(t *testing.T) {
	for _, c := range []struct {
		r    row
		want string
	}{
		{row{entry: entry{Budget: 100}, Brot: 100}, "PASS"},
		{row{entry: entry{Budget: 100}, Brot: 101}, "OVER"},
		{row{entry: entry{Budget: 100}, Missing: true}, "MISSING"},
		{row{entry: entry{}, Missing: true}, "-"},
		{row{entry: entry{}, Brot: 1 << 30}, "-"},
	} {
		if got := c.r.Status(); got != c.want {
			t.Errorf("%+v: Status = %s, want %s", c.r, got, c.want)
		}
	}
}

func TestMeasure(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "web/dist"), 0o755); err != nil {
		t.Fatal(err)
	}
	raw := bytes.Repeat([]byte("var x = 1;\n"), 500)
	write := func(p string, b []byte) {
		if err := os.WriteFile(filepath.Join(root, p), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("web/loader.js", raw)
	// A stale variant (of other content) must not be trusted.
	write("web/dist/loader.js.br", assets.Brotli([]byte("old")))
	write("web/a.js", raw)
	write("web/dist/a.js.gz", assets.Gzip(raw))

	rows, err := measure(root, []entry{{"web/loader.js", 10}, {"web/a.js", 0}, {"web/dist/none.wasm", 5}, {"web/none.css", 0}})
	if err != nil {
		t.Fatal(err)
	}
	if r := rows[0]; r.Raw != len(raw) || r.Brot != len(assets.Brotli(raw)) || r.Gzip != len(assets.Gzip(raw)) || r.Status() != "OVER" {
		t.Errorf("loader row = %+v", r)
	}
	if r := rows[1]; r.Gzip != len(assets.Gzip(raw)) || r.Status() != "-" {
		t.Errorf("a.js row = %+v", r)
	}
	if got, want := failures(rows), []string{"web/loader.js OVER", "web/dist/none.wasm MISSING"}; !reflect.DeepEqual(got, want) {
		t.Errorf("failures = %q, want %q", got, want)
	}

	var out strings.Builder
	print(&out, rows)
	for _, s := range []string{"web/loader.js", "OVER", "MISSING", "10 (0.0 KiB)"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, out.String())
		}
	}
}

func TestBudgets(t *testing.T) {
	want := map[string]int{"web/loader.js": 2048, "web/dist/widget.wasm": 820 * 1024}
	for _, e := range entries {
		if e.Budget != want[e.Path] {
			t.Errorf("%s: budget %d, want %d", e.Path, e.Budget, want[e.Path])
		}
	}
}
