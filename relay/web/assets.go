package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// asset is one static file with its precompressed variants.
type asset struct {
	name  string // logical name, e.g. "widget.wasm"
	url   string // content-hash URL, e.g. "/static/widget.0123456789ab.wasm"
	ctype string
	raw   []byte
	br    []byte
	gz    []byte
}

// Assets serves the embedded static files under content-hash URLs.
type Assets struct {
	byName map[string]*asset
	byURL  map[string]*asset
}

// Logical names of the assets and the folder each one lives in.
var assetFiles = map[string]string{
	"loader.js":    ".",
	"frame.js":     ".",
	"agent.js":     ".",
	"widget.css":   ".",
	"agent.css":    ".",
	"widget.wasm":  "dist",
	"agent.wasm":   "dist",
	"wasm_exec.js": "dist",
}

// LoadAssets reads the assets from fsys (the web package's FS). Missing wasm
// files are tolerated (the pages then show that the widget is not built), so
// that the relay runs on a fresh clone; Missing reports them.
func LoadAssets(fsys fs.FS) (*Assets, error) {
	a := &Assets{byName: map[string]*asset{}, byURL: map[string]*asset{}}
	for name, dir := range assetFiles {
		raw, err := fs.ReadFile(fsys, path.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(raw)
		ext := path.Ext(name)
		x := &asset{
			name:  name,
			url:   "/static/" + strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext,
			ctype: mime.TypeByExtension(ext),
			raw:   raw,
		}
		if ext == ".wasm" {
			x.ctype = "application/wasm"
		}
		if ext == ".js" {
			x.ctype = "text/javascript; charset=utf-8"
		}
		if ext == ".css" {
			x.ctype = "text/css; charset=utf-8"
		}
		if b, err := fs.ReadFile(fsys, path.Join("dist", name+".br")); err == nil {
			x.br = b
		}
		if b, err := fs.ReadFile(fsys, path.Join("dist", name+".gz")); err == nil {
			x.gz = b
		}
		a.byName[name] = x
		a.byURL[x.url] = x
	}
	return a, nil
}

// URL returns the content-hash URL of a logical asset name, or "" if it is missing.
func (a *Assets) URL(name string) string {
	if x := a.byName[name]; x != nil {
		return x.url
	}
	return ""
}

// Missing lists the logical names of assets that are not built.
func (a *Assets) Missing() []string {
	var out []string
	for name := range assetFiles {
		if a.byName[name] == nil {
			out = append(out, name)
		}
	}
	return out
}

// serve writes asset x, choosing a precompressed variant the client accepts.
func (a *Assets) serve(w http.ResponseWriter, r *http.Request, x *asset, cache string) {
	h := w.Header()
	h.Set("Content-Type", x.ctype)
	h.Set("Cache-Control", cache)
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	body := x.raw
	accept := r.Header.Get("Accept-Encoding")
	switch {
	case x.br != nil && acceptsEncoding(accept, "br"):
		h.Set("Content-Encoding", "br")
		body = x.br
	case x.gz != nil && acceptsEncoding(accept, "gzip"):
		h.Set("Content-Encoding", "gzip")
		body = x.gz
	}
	h.Set("Content-Length", itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// acceptsEncoding reports whether an Accept-Encoding header allows enc (q > 0).
func acceptsEncoding(header, enc string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), enc) {
			continue
		}
		params = strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return params != "q=0" && params != "q=0.0" && params != "q=0.00" && params != "q=0.000"
	}
	return false
}
