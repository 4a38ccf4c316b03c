package web

import (
	"io/fs"
	"regexp"
	"testing"
)

func TestFSHoldsTheAssets(t *testing.T) {
	for _, name := range []string{"loader.js", "frame.js", "agent.js", "widget.css", "agent.css", "dist/README"} {
		if _, err := fs.Stat(FS, name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The loader runs on the host page before the visitor has agreed to anything:
// it must not touch storage or cookies and must not make requests itself (the
// iframe it creates on a click is the only request).
func TestLoaderHasNoStorageOrNetworkCalls(t *testing.T) {
	b, err := fs.ReadFile(FS, "loader.js")
	if err != nil {
		t.Fatal(err)
	}
	b = regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAll(b, nil) // comments may name what the code avoids
	forbidden := regexp.MustCompile(`(?i)cookie|localStorage|sessionStorage|indexedDB|caches\b|fetch\s*\(|XMLHttpRequest|sendBeacon|WebSocket|EventSource|new\s+Image|\bimport\s*\(|innerHTML|eval\s*\(|new\s+Function`)
	if m := forbidden.FindAll(b, -1); len(m) > 0 {
		t.Errorf("loader.js uses %q", m)
	}
}

// The boot scripts run under a strict content security policy.
func TestBootScriptsAvoidEval(t *testing.T) {
	forbidden := regexp.MustCompile(`eval\s*\(|new\s+Function|innerHTML|document\.write`)
	for _, name := range []string{"frame.js", "agent.js"} {
		b, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Fatal(err)
		}
		if m := forbidden.FindAll(b, -1); len(m) > 0 {
			t.Errorf("%s uses %q", name, m)
		}
	}
}
