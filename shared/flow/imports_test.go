package flow

import (
	"go/build"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the package small in the browser: no non-test file
// imports a package the widget must not link.
func TestImports(t *testing.T) {
	forbidden := map[string]bool{"fmt": true, "encoding/json": true, "reflect": true, "text/template": true,
		"log": true, "net/http": true, "sort": true, "encoding/binary": true}
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatal("no files", err)
	}
	checked := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if forbidden[path] {
				t.Errorf("%s imports %s", file, path)
			}
			// Go's regexp (about 100 KB in the widget) only in files
			// the browser builds leave out (re2.go).
			if (path == "regexp" || path == "regexp/syntax") && inJS(t, file) {
				t.Errorf("%s imports %s in js builds", file, path)
			}
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("only %d files checked", checked)
	}
}

// inJS reports whether a file is part of GOOS=js builds.
func inJS(t *testing.T, file string) bool {
	ctx := build.Default
	ctx.GOOS, ctx.GOARCH = "js", "wasm"
	ok, err := ctx.MatchFile(".", file)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}
