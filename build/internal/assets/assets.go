// Package assets holds what the build tools share: the list of served web
// assets and their deterministic gzip and brotli encodings.
package assets

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/andybalholm/brotli"
)

// Dist is the build output folder, relative to the repository root.
const Dist = "web/dist"

// Fixed are the assets that are always present after a build, relative to the
// repository root. Every web/dist/*.wasm file is an asset as well.
var Fixed = []string{
	"web/dist/wasm_exec.js",
	"web/loader.js",
	"web/frame.js",
	"web/agent.js",
	"web/widget.css",
	"web/agent.css",
}

// Inputs lists the assets below root: the *.wasm files in web/dist (sorted)
// followed by Fixed. Paths are relative to root. A missing fixed asset is an
// error.
func Inputs(root string) ([]string, error) {
	wasm, err := filepath.Glob(filepath.Join(root, Dist, "*.wasm"))
	if err != nil {
		return nil, err
	}
	sort.Strings(wasm)
	var out []string
	for _, w := range wasm {
		rel, err := filepath.Rel(root, w)
		if err != nil {
			return nil, err
		}
		out = append(out, filepath.ToSlash(rel))
	}
	for _, f := range Fixed {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// VariantPath is where the precompressed variant of asset (a path relative to
// the repository root) lives: web/dist/<base name><ext>, ext being ".br" or ".gz".
func VariantPath(asset, ext string) string {
	return Dist + "/" + filepath.Base(asset) + ext
}

// Brotli compresses b at quality 11 with a 16 MiB window. The output depends
// only on b.
func Brotli(b []byte) []byte {
	var buf bytes.Buffer
	w := brotli.NewWriterOptions(&buf, brotli.WriterOptions{Quality: brotli.BestCompression, LGWin: 24})
	w.Write(b) // writes to a bytes.Buffer cannot fail
	w.Close()
	return buf.Bytes()
}

// Gzip compresses b at the best level, with an empty header (no name, zero
// modification time), so the output depends only on b.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// ErrMismatch reports a precompressed variant that does not decode to its asset.
var ErrMismatch = errors.New("variant does not match its asset")

// CheckBrotli reports whether enc decodes to exactly raw.
func CheckBrotli(enc, raw []byte) error {
	return same(brotli.NewReader(bytes.NewReader(enc)), raw)
}

// CheckGzip reports whether enc decodes to exactly raw.
func CheckGzip(enc, raw []byte) error {
	r, err := gzip.NewReader(bytes.NewReader(enc))
	if err != nil {
		return err
	}
	return same(r, raw)
}

func same(r io.Reader, raw []byte) error {
	got, err := io.ReadAll(io.LimitReader(r, int64(len(raw))+1))
	if err != nil {
		return err
	}
	if !bytes.Equal(got, raw) {
		return ErrMismatch
	}
	return nil
}

// WriteIfChanged writes b to path unless the file already holds exactly b. It
// writes through a temporary file and a rename, so a reader never sees a
// partial file. It reports whether it wrote.
func WriteIfChanged(path string, b []byte) (bool, error) {
	old, err := os.ReadFile(path)
	if err == nil && bytes.Equal(old, b) {
		return false, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return false, err
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return false, werr
	}
	return true, nil
}
