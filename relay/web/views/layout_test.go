package views

import (
	"context"
	"strings"
	"testing"

	"github.com/a-h/templ"
)

func render(t *testing.T, c templ.Component) string {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestWasmPages: every WebAssembly page loads its style sheet and boot
// scripts when the app is built, and says it is not installed (loading no
// script) when it is not.
func TestWasmPages(t *testing.T) {
	built := Boot{CSS: "/static/a.1.css", WasmExec: "/static/wasm_exec.2.js", Script: "/static/boot.3.js", Wasm: "/static/app.4.wasm"}
	notBuilt := built
	notBuilt.Wasm = ""
	pages := map[string]func(Boot) templ.Component{
		"frame":  func(b Boot) templ.Component { return Frame(FramePage{Boot: b}) },
		"rights": func(b Boot) templ.Component { return Rights(RightsPage{Boot: b}) },
		"agent":  func(b Boot) templ.Component { return Agent(AgentPage{Boot: b}) },
	}
	for name, page := range pages {
		html := render(t, page(built))
		for _, want := range []string{`href="/static/a.1.css"`, `<script src="/static/wasm_exec.2.js">`, `id="siegel-boot" src="/static/boot.3.js" data-wasm="/static/app.4.wasm"`} {
			if !strings.Contains(html, want) {
				t.Errorf("%s page lacks %s:\n%s", name, want, html)
			}
		}
		if strings.Contains(html, `role="alert"`) {
			t.Errorf("%s page says not installed although built", name)
		}
		html = render(t, page(notBuilt))
		if strings.Contains(html, "<script") || !strings.Contains(html, `role="alert"`) {
			t.Errorf("%s page, app not built: want no script and a notice:\n%s", name, html)
		}
	}
}
