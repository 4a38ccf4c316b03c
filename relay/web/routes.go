// Package web is the relay's HTTP layer: routes, page handlers (templ views),
// static assets and the WebSocket endpoint.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"siegel/relay/hub"
	"siegel/relay/store"
	"siegel/shared/ids"
)

// SiteStore is what the HTTP layer needs from storage.
type SiteStore interface {
	Site(id ids.SiteID) (store.Site, error)
	// Flow returns the site's compiled bot flow and its revision, or
	// store.ErrNotFound when the site has none.
	Flow(id ids.SiteID) (revision uint32, compiled []byte, err error)
}

// Server holds the dependencies of the HTTP handlers.
type Server struct {
	Sites     SiteStore
	Sessions  *hub.Server
	Assets    *Assets
	PublicURL *url.URL // the relay's own origin as browsers see it
	Log       *slog.Logger
	// DemoKey, if set, is the demo agent key file offered on the agent page
	// (/demo/agent.key); DemoKey2, if set, the second demo agent's (/demo/agent2.key).
	DemoKey, DemoKey2 []byte
	// MaxConnsPerIP bounds concurrent WebSocket connections per client address
	// (counted in memory only, never stored or logged). 0 means 256.
	MaxConnsPerIP int
	// BaseContext is cancelled when the relay shuts down; it ends WebSocket sessions.
	BaseContext context.Context

	connsMu sync.Mutex
	conns   map[string]int
}

// Routes returns the relay's HTTP handler. Every route is listed here.
func (s *Server) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /loader.js", s.handleLoader)
	mux.HandleFunc("GET /static/{file}", s.handleStatic)
	mux.HandleFunc("GET /frame", s.handleFrame)
	mux.HandleFunc("GET /rights", s.handleRights)
	mux.HandleFunc("GET /agent", s.handleAgent)
	mux.HandleFunc("GET /demo/agent.key", s.handleDemoKey)
	mux.HandleFunc("GET /demo/agent2.key", s.handleDemoKey2)
	mux.HandleFunc("GET /ws", s.handleWS)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /{$}", s.handleIndex)
	return mux
}

// origin returns the relay's own origin, e.g. "http://127.0.0.1:8080".
func (s *Server) origin() string {
	return s.PublicURL.Scheme + "://" + s.PublicURL.Host
}

// wsBase returns the WebSocket base URL of the relay.
func (s *Server) wsBase() string {
	scheme := "ws"
	if s.PublicURL.Scheme == "https" {
		scheme = "wss"
	}
	return scheme + "://" + s.PublicURL.Host
}

// siteFromQuery parses ?site= and loads the site; it writes the error response itself.
func (s *Server) siteFromQuery(w http.ResponseWriter, r *http.Request) (store.Site, bool) {
	id, err := ids.ParseSiteID(r.URL.Query().Get("site"))
	if err != nil {
		plainError(w, http.StatusBadRequest, "invalid or missing site parameter")
		return store.Site{}, false
	}
	site, err := s.Sites.Site(id)
	if errors.Is(err, store.ErrNotFound) {
		plainError(w, http.StatusNotFound, "unknown site")
		return store.Site{}, false
	}
	if err != nil {
		s.Log.Error("read site", "err", err)
		plainError(w, http.StatusInternalServerError, "internal error")
		return store.Site{}, false
	}
	return site, true
}

// acquireConn counts a connection from the client address of r; it reports
// false when the address has too many open connections.
func (s *Server) acquireConn(r *http.Request) (release func(), ok bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	max := s.MaxConnsPerIP
	if max == 0 {
		max = 256
	}
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	if s.conns == nil {
		s.conns = map[string]int{}
	}
	if s.conns[host] >= max {
		return nil, false
	}
	s.conns[host]++
	return func() {
		s.connsMu.Lock()
		defer s.connsMu.Unlock()
		if s.conns[host]--; s.conns[host] <= 0 {
			delete(s.conns, host)
		}
	}, true
}

// originAllowed reports whether origin may open a WebSocket for site.
func (s *Server) originAllowed(site store.Site, origin string) bool {
	if origin == "" {
		return false
	}
	if strings.EqualFold(origin, s.origin()) {
		return true
	}
	for _, o := range site.Origins {
		if strings.EqualFold(origin, o) {
			return true
		}
	}
	return false
}
