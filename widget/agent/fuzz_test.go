package agent

import (
	"errors"
	"strings"
	"testing"

	"siegel/shared/keyfile"
)

// FuzzCheckKeyText checks the quick look at an imported key file: it never
// panics, refuses only with the key file error classes, and accepts only texts
// that start with the key file header line.
func FuzzCheckKeyText(f *testing.F) {
	f.Add("SIEGEL AGENT KEY 1\nAQ==\n")
	f.Add("SIEGEL AGENT KEY 2\nAg==\n")
	f.Add("hello")
	f.Fuzz(func(t *testing.T, text string) {
		err := checkKeyText(text)
		if err != nil {
			if !errors.Is(err, keyfile.ErrMalformed) && !errors.Is(err, keyfile.ErrUnsupportedVersion) {
				t.Fatalf("unexpected error class %v", err)
			}
			return
		}
		if !strings.HasPrefix(text, keyfile.Header+"\n") && !strings.HasPrefix(text, keyfile.Header+"\r\n") {
			t.Fatalf("accepted %q without the header line", text)
		}
	})
}
