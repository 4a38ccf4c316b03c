package web

import (
	"net/http"
	"strconv"
	"strings"
)

func itoa(n int) string { return strconv.Itoa(n) }

// pagePolicy describes the security headers of an HTML page.
type pagePolicy struct {
	connect        []string // extra connect-src sources
	frameAncestors []string // nil means 'none'
}

// setPageHeaders sets the security headers every HTML page carries: a strict
// CSP, no caching, no referrer, no sniffing.
func setPageHeaders(w http.ResponseWriter, p pagePolicy) {
	anc := "'none'"
	if len(p.frameAncestors) > 0 {
		anc = strings.Join(p.frameAncestors, " ")
	}
	connect := "'self'"
	if len(p.connect) > 0 {
		connect += " " + strings.Join(p.connect, " ")
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src "+connect+"; frame-ancestors "+anc+"; base-uri 'none'; form-action 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	h.Set("Content-Type", "text/html; charset=utf-8")
	if len(p.frameAncestors) == 0 {
		h.Set("X-Frame-Options", "DENY")
	}
}

// plainError writes a short text error with the page security headers.
func plainError(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(code)
	w.Write([]byte(msg + "\n"))
}
