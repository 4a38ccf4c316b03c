package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"siegel/relay/hub"
	"siegel/relay/store"
	"siegel/shared/ids"
)

func testServer(t *testing.T) (*httptest.Server, ids.SiteID) {
	t.Helper()
	st, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "t.db"), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	site := ids.SiteID{1, 2, 3}
	if err := st.PutSite(context.Background(), store.Site{ID: site, Name: "t", Origins: []string{"http://host.example"}, Owner: ids.Key{5}}); err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"loader.js":           {Data: []byte("/*loader*/")},
		"frame.js":            {Data: []byte("/*frame*/")},
		"widget.css":          {Data: []byte("body{}")},
		"dist/widget.wasm":    {Data: []byte("\x00asm")},
		"dist/widget.wasm.br": {Data: []byte("BROTLI")},
		"dist/wasm_exec.js":   {Data: []byte("/*go*/")},
	}
	assets, err := LoadAssets(fsys)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := &Server{Sites: st, Assets: assets, Log: logger, Sessions: &hub.Server{Hub: hub.New(), Store: st, Log: logger}}
	ts := httptest.NewServer(nil)
	s.PublicURL, _ = url.Parse(ts.URL)
	ts.Config.Handler = s.Routes()
	t.Cleanup(ts.Close)
	return ts, site
}

func get(t *testing.T, u string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		res.Body.Close()
		return res, ""
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b)
}

func TestFramePage(t *testing.T) {
	ts, site := testServer(t)
	fp := ids.Fingerprint{4}.String()
	res, body := get(t, ts.URL+"/frame?site="+site.String()+"&owner="+fp, nil)
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors http://host.example;", "script-src 'self' 'wasm-unsafe-eval'", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("missing no-store/no-referrer: %v", res.Header)
	}
	for _, want := range []string{`data-site="` + site.String() + `"`, `data-owner="` + fp + `"`, "/static/widget.", "/static/wasm_exec."} {
		if !strings.Contains(body, want) {
			t.Errorf("frame page lacks %q:\n%s", want, body)
		}
	}
}

func TestFrameRefusals(t *testing.T) {
	ts, site := testServer(t)
	for _, tc := range []struct {
		query string
		code  int
	}{
		{"", 400},
		{"site=abc", 400},
		{"site=" + ids.SiteID{9}.String() + "&owner=" + ids.Fingerprint{}.String(), 404},
		{"site=" + site.String(), 400},
		{"site=" + site.String() + "&owner=zz", 400},
	} {
		res, body := get(t, ts.URL+"/frame?"+tc.query, nil)
		if res.StatusCode != tc.code {
			t.Errorf("%q: status %d, want %d (%s)", tc.query, res.StatusCode, tc.code, body)
		}
	}
}

func TestStaticAssets(t *testing.T) {
	ts, site := testServer(t)
	_, body := get(t, ts.URL+"/frame?site="+site.String()+"&owner="+ids.Fingerprint{}.String(), nil)
	i := strings.Index(body, `data-wasm="`)
	if i < 0 {
		t.Fatalf("no data-wasm in %s", body)
	}
	u, _, _ := strings.Cut(body[i+len(`data-wasm="`):], `"`)
	res, b := get(t, ts.URL+u, map[string]string{"Accept-Encoding": "gzip, br"})
	if res.StatusCode != 200 || b != "BROTLI" || res.Header.Get("Content-Encoding") != "br" {
		t.Fatalf("brotli variant not served: %d %q %v", res.StatusCode, b, res.Header)
	}
	if !strings.Contains(res.Header.Get("Cache-Control"), "immutable") || res.Header.Get("Content-Type") != "application/wasm" {
		t.Fatalf("bad headers %v", res.Header)
	}
	res, b = get(t, ts.URL+u, map[string]string{"Accept-Encoding": "br;q=0"})
	if b != "\x00asm" || res.Header.Get("Content-Encoding") != "" {
		t.Fatalf("identity not served when br refused: %q %v", b, res.Header)
	}
	if res, _ := get(t, ts.URL+"/static/widget.000000000000.wasm", nil); res.StatusCode != 404 {
		t.Fatalf("unknown hash served: %d", res.StatusCode)
	}
	if res, b := get(t, ts.URL+"/loader.js", nil); res.StatusCode != 200 || b != "/*loader*/" {
		t.Fatalf("loader: %d %q", res.StatusCode, b)
	}
}

func TestWebSocketOriginCheck(t *testing.T) {
	ts, site := testServer(t)
	ws := ts.URL + "/ws?site=" + site.String()
	up := map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
	for origin, want := range map[string]int{
		"http://evil.example": 403,
		"":                    403,
		"http://host.example": 101,
		ts.URL:                101,
	} {
		h := map[string]string{"Origin": origin}
		for k, v := range up {
			h[k] = v
		}
		res, _ := get(t, ws, h)
		if res.StatusCode != want {
			t.Errorf("origin %q: status %d, want %d", origin, res.StatusCode, want)
		}
	}
	if res, _ := get(t, ts.URL+"/ws?site="+ids.SiteID{8}.String(), up); res.StatusCode != 404 {
		t.Errorf("unknown site: status %d", res.StatusCode)
	}
}
