package assets

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func sample() []byte {
	var b bytes.Buffer
	for i := range 2000 {
		b.WriteString("function f" + string(rune('a'+i%26)) + "() { return 42; }\n")
	}
	return b.Bytes()
}

func TestEncodingsRoundTripAndAreDeterministic(t *testing.T) {
	raw := sample()
	for _, c := range []struct {
		name  string
		enc   func([]byte) []byte
		check func(enc, raw []byte) error
	}{{"brotli", Brotli, CheckBrotli}, {"gzip", Gzip, CheckGzip}} {
		a, b := c.enc(raw), c.enc(raw)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two encodings of the same input differ", c.name)
		}
		if len(a) >= len(raw)/4 {
			t.Errorf("%s: %d bytes from %d: not compressed", c.name, len(a), len(raw))
		}
		if err := c.check(a, raw); err != nil {
			t.Errorf("%s: round trip: %v", c.name, err)
		}
		if err := c.check(a, raw[1:]); !errors.Is(err, ErrMismatch) {
			t.Errorf("%s: check against other content = %v, want ErrMismatch", c.name, err)
		}
		if err := c.check(c.enc(nil), nil); err != nil {
			t.Errorf("%s: empty input: %v", c.name, err)
		}
	}
	if err := CheckGzip([]byte("not gzip"), raw); err == nil {
		t.Error("CheckGzip accepted garbage")
	}
	if err := CheckBrotli([]byte("not brotli at all"), raw); err == nil {
		t.Error("CheckBrotli accepted garbage")
	}
}

func TestGzipHeaderHasNoTimeOrName(t *testing.T) {
	g := Gzip([]byte("x"))
	// Bytes 3..7: flags and modification time, all zero.
	if !bytes.Equal(g[3:8], []byte{0, 0, 0, 0, 0}) {
		t.Errorf("gzip header flags/mtime = % x, want zeros", g[3:8])
	}
}

func TestWriteIfChanged(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.br")
	if wrote, err := WriteIfChanged(p, []byte("one")); err != nil || !wrote {
		t.Fatalf("first write = %v, %v", wrote, err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	if wrote, err := WriteIfChanged(p, []byte("one")); err != nil || wrote {
		t.Fatalf("same content = %v, %v, want no write", wrote, err)
	}
	if fi, _ := os.Stat(p); !fi.ModTime().Equal(old) {
		t.Error("unchanged file was touched")
	}
	if wrote, err := WriteIfChanged(p, []byte("two")); err != nil || !wrote {
		t.Fatalf("new content = %v, %v", wrote, err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Errorf("content = %q", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644", fi.Mode().Perm())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("left %d files behind, want 1", len(ents))
	}
}

func writeTree(t *testing.T, files ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range files {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("content of "+f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestInputs(t *testing.T) {
	root := writeTree(t, append([]string{"web/dist/z.wasm", "web/dist/a.wasm", "web/dist/README"}, Fixed...)...)
	got, err := Inputs(root)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]string{"web/dist/a.wasm", "web/dist/z.wasm"}, Fixed...)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Inputs = %q, want %q", got, want)
	}

	root = writeTree(t, Fixed[1:]...)
	if _, err := Inputs(root); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing %s: err = %v, want not exist", Fixed[0], err)
	}
}

func TestVariantPath(t *testing.T) {
	for in, want := range map[string]string{
		"web/loader.js":        "web/dist/loader.js.br",
		"web/dist/widget.wasm": "web/dist/widget.wasm.br",
	} {
		if got := VariantPath(in, ".br"); got != want {
			t.Errorf("VariantPath(%q) = %q, want %q", in, got, want)
		}
	}
}
