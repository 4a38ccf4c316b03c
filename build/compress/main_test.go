package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"siegel/build/internal/assets"
)

func TestRunWritesVariantsOnce(t *testing.T) {
	root := t.TempDir()
	files := append([]string{"web/dist/widget.wasm"}, assets.Fixed...)
	for _, f := range files {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("body { color: red } /* "+f+" */"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := run(root); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	for _, f := range files {
		raw, _ := os.ReadFile(filepath.Join(root, f))
		for _, v := range []struct {
			ext   string
			check func(enc, raw []byte) error
		}{{".br", assets.CheckBrotli}, {".gz", assets.CheckGzip}} {
			p := filepath.Join(root, assets.VariantPath(f, v.ext))
			enc, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.check(enc, raw); err != nil {
				t.Errorf("%s: %v", p, err)
			}
			os.Chtimes(p, old, old)
		}
	}

	// A second run changes nothing but the variants of a changed asset.
	changed := filepath.Join(root, "web/loader.js")
	if err := os.WriteFile(changed, []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(root); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		for _, ext := range []string{".br", ".gz"} {
			fi, err := os.Stat(filepath.Join(root, assets.VariantPath(f, ext)))
			if err != nil {
				t.Fatal(err)
			}
			if touched := !fi.ModTime().Equal(old); touched != (f == "web/loader.js") {
				t.Errorf("%s%s: rewritten = %v", f, ext, touched)
			}
		}
	}
}

func TestRunFailsOnMissingAsset(t *testing.T) {
	if err := run(t.TempDir()); err == nil {
		t.Error("run on an empty tree succeeded")
	}
}
