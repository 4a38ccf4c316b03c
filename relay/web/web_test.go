package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"siegel/relay/hub"
	"siegel/relay/store"
	"siegel/shared/ids"
)

func testServer(t *testing.T) (*httptest.Server, ids.SiteID) {
	t.Helper()
	e := newTestEnv(t)
	return e.ts, e.site
}

// testEnv is a relay HTTP server on a test store with one site.
type testEnv struct {
	ts   *httptest.Server
	srv  *Server
	st   *store.Store
	site ids.SiteID
}

func newTestEnv(t *testing.T) *testEnv {
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
	return &testEnv{ts: ts, srv: s, st: st, site: site}
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

// rootAttr returns the (unescaped) value of attribute name of the #siegel-root
// element in a frame page.
func rootAttr(t *testing.T, body, name string) string {
	t.Helper()
	tag := regexp.MustCompile(`<div id="siegel-root"[^>]*>`).FindString(body)
	if tag == "" {
		t.Fatalf("no #siegel-root in:\n%s", body)
	}
	m := regexp.MustCompile(` ` + regexp.QuoteMeta(name) + `="([^"]*)"`).FindStringSubmatch(tag)
	if m == nil {
		t.Fatalf("#siegel-root has no %s attribute: %s", name, tag)
	}
	return html.UnescapeString(m[1])
}

func TestFramePageFlowAndPrivacy(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	frame := e.ts.URL + "/frame?site=" + e.site.String() + "&owner=" + ids.Fingerprint{4}.String()

	// A site without a flow or privacy URL: empty attributes.
	_, body := get(t, frame, nil)
	for name, want := range map[string]string{"data-flow": "", "data-flow-revision": "0", "data-privacy": ""} {
		if got := rootAttr(t, body, name); got != want {
			t.Errorf("without flow: %s = %q, want %q", name, got, want)
		}
	}

	// With a flow (bytes that need escaping in base64 and HTML) and a privacy URL.
	compiled := []byte{0x01, 0xfb, 0xff, '<', '"', '&', 0x00, 0xfe}
	for _, b := range [][]byte{[]byte("old"), compiled} {
		if _, err := e.st.PutFlow(ctx, e.site, b); err != nil {
			t.Fatal(err)
		}
	}
	site, _ := e.st.Site(e.site)
	site.PrivacyURL = "https://host.example/datenschutz?a=1&b=2"
	if err := e.st.PutSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	res, body := get(t, frame, nil)
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	got, err := base64.StdEncoding.DecodeString(rootAttr(t, body, "data-flow"))
	if err != nil || !bytes.Equal(got, compiled) {
		t.Errorf("data-flow decodes to %x %v, want %x", got, err, compiled)
	}
	if rev := rootAttr(t, body, "data-flow-revision"); rev != "2" {
		t.Errorf("data-flow-revision = %q, want 2", rev)
	}
	if p := rootAttr(t, body, "data-privacy"); p != site.PrivacyURL {
		t.Errorf("data-privacy = %q, want %q", p, site.PrivacyURL)
	}
	// The page stays under the strict policy.
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self' 'wasm-unsafe-eval';") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}

	// A privacy URL that is not http(s) is not passed to the widget.
	for _, bad := range []string{"javascript:alert(1)", "data:text/html,x", "/relative", "https://"} {
		site.PrivacyURL = bad
		if err := e.st.PutSite(ctx, site); err != nil {
			t.Fatal(err)
		}
		_, body := get(t, frame, nil)
		if p := rootAttr(t, body, "data-privacy"); p != "" {
			t.Errorf("privacy URL %q: data-privacy = %q, want empty", bad, p)
		}
	}
}

func TestDemoKeys(t *testing.T) {
	e := newTestEnv(t)
	for _, p := range []string{"/demo/agent.key", "/demo/agent2.key"} {
		if res, _ := get(t, e.ts.URL+p, nil); res.StatusCode != 404 {
			t.Errorf("%s outside demo mode: %d, want 404", p, res.StatusCode)
		}
	}
	e.srv.DemoKey, e.srv.DemoKey2 = []byte("KEY ONE\n"), []byte("KEY TWO\n")
	for p, want := range map[string]string{"/demo/agent.key": "KEY ONE\n", "/demo/agent2.key": "KEY TWO\n"} {
		res, body := get(t, e.ts.URL+p, nil)
		if res.StatusCode != 200 || body != want || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d %q %v", p, res.StatusCode, body, res.Header)
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

func TestRightsPage(t *testing.T) {
	e := newTestEnv(t)
	site, _ := e.st.Site(e.site)
	site.PrivacyURL = "https://host.example/datenschutz"
	if err := e.st.PutSite(context.Background(), site); err != nil {
		t.Fatal(err)
	}
	fp := ids.Fingerprint{4, 5}.String()
	res, body := get(t, e.ts.URL+"/rights?site="+e.site.String()+"&owner="+fp, nil)
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	wsBase := "ws://" + strings.TrimPrefix(e.ts.URL, "http://")
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none';", "script-src 'self' 'wasm-unsafe-eval';", "style-src 'self';",
		"connect-src 'self' " + wsBase + ";", "frame-ancestors 'none';", "base-uri 'none'", "form-action 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "host.example") {
		t.Errorf("the rights page may be framed by the site: %q", csp)
	}
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
		"X-Content-Type-Options": "nosniff", "Content-Type": "text/html; charset=utf-8"} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	for name, want := range map[string]string{"data-site": e.site.String(), "data-owner": fp, "data-relay": wsBase,
		"data-mode": "rights", "data-flow": "", "data-privacy": site.PrivacyURL} {
		if got := rootAttr(t, body, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if !strings.Contains(body, "<title>Meine Daten – Siegel</title>") {
		t.Errorf("title missing:\n%s", body)
	}
	// The same boot as the frame page: wasm_exec, then frame.js with the widget.
	boot := regexp.MustCompile(`<script src="(/static/wasm_exec\.[0-9a-f]{12}\.js)"></script>\s*<script id="siegel-boot" src="(/static/frame\.[0-9a-f]{12}\.js)" data-wasm="(/static/widget\.[0-9a-f]{12}\.wasm)"></script>`)
	m := boot.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no boot scripts in:\n%s", body)
	}
	for _, u := range m[1:] {
		if res, _ := get(t, e.ts.URL+u, nil); res.StatusCode != 200 {
			t.Errorf("%s: status %d", u, res.StatusCode)
		}
	}
	if !strings.Contains(body, `href="/static/widget.`) {
		t.Errorf("no widget stylesheet:\n%s", body)
	}
	// The frame page's boot is the same.
	_, frame := get(t, e.ts.URL+"/frame?site="+e.site.String()+"&owner="+fp, nil)
	if f := boot.FindStringSubmatch(frame); f == nil || f[0] != m[0] {
		t.Errorf("rights page boot %q differs from the frame page's", m[0])
	}
}

func TestRightsRefusals(t *testing.T) {
	ts, site := testServer(t)
	for _, tc := range []struct {
		query string
		code  int
	}{
		{"", 400},
		{"site=abc&owner=" + ids.Fingerprint{}.String(), 400},
		{"site=" + ids.SiteID{9}.String() + "&owner=" + ids.Fingerprint{}.String(), 404},
		{"site=" + site.String(), 400},
		{"site=" + site.String() + "&owner=zz", 400},
	} {
		res, body := get(t, ts.URL+"/rights?"+tc.query, nil)
		if res.StatusCode != tc.code {
			t.Errorf("%q: status %d, want %d (%s)", tc.query, res.StatusCode, tc.code, body)
		}
		if strings.Contains(body, "siegel-root") {
			t.Errorf("%q: page rendered on a refusal", tc.query)
		}
	}
}
