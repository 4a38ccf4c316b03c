package web

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"siegel/relay/store"
	"siegel/relay/web/views"
	"siegel/shared/ids"
)

func (s *Server) handleLoader(w http.ResponseWriter, r *http.Request) {
	x := s.Assets.byName["loader.js"]
	if x == nil {
		plainError(w, http.StatusNotFound, "loader not found")
		return
	}
	s.Assets.serve(w, r, x, "public, max-age=300")
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	x := s.Assets.byURL["/static/"+r.PathValue("file")]
	if x == nil {
		plainError(w, http.StatusNotFound, "not found")
		return
	}
	s.Assets.serve(w, r, x, "public, max-age=31536000, immutable")
}

func (s *Server) handleFrame(w http.ResponseWriter, r *http.Request) {
	site, ok := s.siteFromQuery(w, r)
	if !ok {
		return
	}
	owner, err := ids.ParseFingerprint(r.URL.Query().Get("owner"))
	if err != nil {
		plainError(w, http.StatusBadRequest, "invalid or missing owner parameter")
		return
	}
	rev, compiled, err := s.Sites.Flow(site.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.Log.Error("read flow", "err", err)
		plainError(w, http.StatusInternalServerError, "internal error")
		return
	}
	setPageHeaders(w, pagePolicy{connect: []string{s.wsBase()}, frameAncestors: site.Origins})
	p := views.FramePage{
		Site:         site.ID.String(),
		Owner:        owner.String(),
		Relay:        s.wsBase(),
		Flow:         base64.StdEncoding.EncodeToString(compiled),
		FlowRevision: strconv.FormatUint(uint64(rev), 10),
		Privacy:      webURL(site.PrivacyURL),
		Boot:         s.boot("widget.css", "frame.js", "widget.wasm"),
	}
	if err := views.Frame(p).Render(r.Context(), w); err != nil {
		s.Log.Error("render frame page", "err", err)
	}
}

// handleRights serves the rights page: the widget in its "rights" mode, on the
// relay's own origin, where a visitor opens their conversation with its code.
// It is never framed.
func (s *Server) handleRights(w http.ResponseWriter, r *http.Request) {
	site, ok := s.siteFromQuery(w, r)
	if !ok {
		return
	}
	owner, err := ids.ParseFingerprint(r.URL.Query().Get("owner"))
	if err != nil {
		plainError(w, http.StatusBadRequest, "invalid or missing owner parameter")
		return
	}
	setPageHeaders(w, pagePolicy{connect: []string{s.wsBase()}})
	p := views.RightsPage{
		Site:    site.ID.String(),
		Owner:   owner.String(),
		Relay:   s.wsBase(),
		Privacy: webURL(site.PrivacyURL),
		Boot:    s.boot("widget.css", "frame.js", "widget.wasm"),
	}
	if err := views.Rights(p).Render(r.Context(), w); err != nil {
		s.Log.Error("render rights page", "err", err)
	}
}

// webURL returns u if it is an absolute http or https URL, else "" (a privacy
// link the widget shows must not be able to run script or leave the web).
func webURL(u string) string {
	x, err := url.Parse(u)
	if err != nil || (x.Scheme != "http" && x.Scheme != "https") || x.Host == "" {
		return ""
	}
	return u
}

func (s *Server) handleAgent(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w, pagePolicy{connect: []string{s.wsBase()}})
	p := views.AgentPage{
		Relay: s.wsBase(),
		Boot:  s.boot("agent.css", "agent.js", "agent.wasm"),
	}
	if s.DemoKey != nil {
		p.DemoKey = "/demo/agent.key"
	}
	if err := views.Agent(p).Render(r.Context(), w); err != nil {
		s.Log.Error("render agent page", "err", err)
	}
}

func (s *Server) handleDemoKey(w http.ResponseWriter, r *http.Request) {
	serveDemoKey(w, s.DemoKey)
}

func (s *Server) handleDemoKey2(w http.ResponseWriter, r *http.Request) {
	serveDemoKey(w, s.DemoKey2)
}

func serveDemoKey(w http.ResponseWriter, key []byte) {
	if key == nil {
		plainError(w, http.StatusNotFound, "not found")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(key)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	plainError(w, http.StatusOK, "Siegel relay. Agents: /agent")
}

// boot returns the asset URLs of a WebAssembly page; the app counts as not
// built (Wasm empty) unless both its wasm and wasm_exec.js are.
func (s *Server) boot(css, script, wasm string) views.Boot {
	b := views.Boot{
		CSS:      s.Assets.URL(css),
		WasmExec: s.Assets.URL("wasm_exec.js"),
		Script:   s.Assets.URL(script),
		Wasm:     s.Assets.URL(wasm),
	}
	if b.WasmExec == "" {
		b.Wasm = ""
	}
	return b
}
