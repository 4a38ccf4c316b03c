//go:build e2e

package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// newSentinel returns a unique string that appears nowhere by chance.
func newSentinel(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// sentinelForm is one encoding of a sentinel to look for.
type sentinelForm struct {
	name  string
	bytes []byte
}

// sentinelForms returns the sentinel in every form a careless component could
// leak it in: raw, base64 (standard and URL alphabets, with and without
// padding), hex (lower and upper case) and UTF-16 (both byte orders).
//
// Base64 of a longer stream aligns to groups of 3 bytes, so a sentinel that
// starts at an offset k within the stream is encoded differently for each
// k mod 3. For each of the three alignments the search uses the encoding of
// the sentinel with 0, 1 or 2 leading bytes dropped, cut to whole groups (so
// no padding and no partial last character): that text appears in the
// base64 of any stream that holds the sentinel.
func sentinelForms(s string) []sentinelForm {
	forms := []sentinelForm{
		{"raw", []byte(s)},
		{"hex", []byte(hex.EncodeToString([]byte(s)))},
		{"HEX", []byte(strings.ToUpper(hex.EncodeToString([]byte(s))))},
		{"utf16le", utf16Bytes(s, false)},
		{"utf16be", utf16Bytes(s, true)},
	}
	for trim := 0; trim < 3; trim++ {
		p := []byte(s)[trim:]
		p = p[:len(p)-len(p)%3]
		forms = append(forms,
			sentinelForm{"base64 std, offset " + itoa(trim), []byte(base64.RawStdEncoding.EncodeToString(p))},
			sentinelForm{"base64 url, offset " + itoa(trim), []byte(base64.RawURLEncoding.EncodeToString(p))},
		)
	}
	// The whole string with padding, as a value encoded on its own would be.
	forms = append(forms,
		sentinelForm{"base64 std padded", []byte(base64.StdEncoding.EncodeToString([]byte(s)))},
		sentinelForm{"base64 url padded", []byte(base64.URLEncoding.EncodeToString([]byte(s)))},
	)
	return forms
}

func utf16Bytes(s string, bigEndian bool) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return b
}

// leak is one place a sentinel was found.
type leak struct {
	where, sentinel, form string
	offset                int
}

// findSentinels reports every form of every sentinel found in b.
func findSentinels(where string, b []byte, sentinels []string) []leak {
	var out []leak
	for _, s := range sentinels {
		for _, f := range sentinelForms(s) {
			if i := bytes.Index(b, f.bytes); i >= 0 {
				out = append(out, leak{where: where, sentinel: s, form: f.name, offset: i})
			}
		}
	}
	return out
}

// dirFiles reads every regular file under dir.
func dirFiles(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files[path] = b
		return nil
	})
	if err != nil {
		t.Fatalf("read data folder: %v", err)
	}
	return files
}

// TestSentinelSearch checks the search itself, so that a leak check cannot
// pass because the search is blind: every form of a sentinel embedded at every
// offset of a longer stream is found.
func TestSentinelSearch(t *testing.T) {
	s := newSentinel("Sentinel")
	other := newSentinel("Sentinel")
	for pre := 0; pre < 6; pre++ {
		stream := append(bytes.Repeat([]byte{0x5a}, pre), []byte("xx "+s+" yy")...)
		encodings := map[string]string{
			"raw":         string(stream),
			"std":         base64.StdEncoding.EncodeToString(stream),
			"url":         base64.RawURLEncoding.EncodeToString(stream),
			"hex":         hex.EncodeToString(stream),
			"HEX":         strings.ToUpper(hex.EncodeToString(stream)),
			"utf16le":     string(utf16Bytes(string(stream), false)),
			"b64 of json": base64.StdEncoding.EncodeToString([]byte(`{"text":"` + string(stream) + `"}`)),
		}
		for name, enc := range encodings {
			if got := findSentinels(name, []byte(enc), []string{s}); len(got) == 0 {
				t.Errorf("sentinel not found in %s of a stream with %d prefix bytes", name, pre)
			}
			if got := findSentinels(name, []byte(enc), []string{other}); len(got) != 0 {
				t.Errorf("another sentinel found in %s: %+v", name, got)
			}
		}
	}
}
