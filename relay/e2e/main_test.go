//go:build e2e

// Package e2e holds the end-to-end tests: they start the real relay binary
// (SIEGEL_RELAY_BIN, or one built from this module when the variable is
// empty), drive it with headless Chromium as a visitor and an agent would, and
// with a native protocol client for the cases a browser cannot produce
// (malformed frames, forged envelopes, a crash under load).
//
// Run: go test -count=1 -tags e2e -timeout 15m ./relay/e2e/...
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// relayBin is the relay binary under test.
var relayBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	relayBin = os.Getenv("SIEGEL_RELAY_BIN")
	if relayBin == "" {
		// Build the relay from this module (with whatever is in web/dist).
		dir, err := os.MkdirTemp("", "siegel-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		relayBin = filepath.Join(dir, "relay")
		cmd := exec.Command("go", "build", "-o", relayBin, "siegel/relay/cmd/relay")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: SIEGEL_RELAY_BIN is not set and building the relay failed:", err)
			return 1
		}
	}
	if fi, err := os.Stat(relayBin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		fmt.Fprintf(os.Stderr, "e2e: relay binary %q is not an executable file (SIEGEL_RELAY_BIN)\n", relayBin)
		return 1
	}
	return m.Run()
}
