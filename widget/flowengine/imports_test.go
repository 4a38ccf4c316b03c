//go:build !js

package flowengine

import (
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestImports keeps the engine small in the browser: its non-test files
// import neither Go's regexp (patterns go to an injected Compiler) nor sort,
// fmt and the like.
func TestImports(t *testing.T) {
	ctx := build.Default
	ctx.GOOS, ctx.GOARCH = "js", "wasm"
	pkg, err := ctx.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkg.GoFiles) < 5 {
		t.Fatalf("only %d files", len(pkg.GoFiles))
	}
	for _, imp := range pkg.Imports {
		switch imp {
		case "regexp", "regexp/syntax", "sort", "fmt", "encoding/json", "reflect", "text/template", "log", "net/http":
			t.Errorf("imports %s", imp)
		}
	}
}

// TestWidgetLinksNoRegexp: the visitor widget, built for the browser, does
// not depend on Go's regexp at all (go list -deps).
func TestWidgetLinksNoRegexp(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(gobin, "list", "-deps", "siegel/widget/cmd/visitor")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 {
		t.Fatalf("go list -deps printed %q", out)
	}
	for _, d := range deps {
		if d == "regexp" || d == "regexp/syntax" {
			t.Errorf("the widget depends on %s", d)
		}
	}
}
