package web

import (
	"context"
	"net/http"

	"github.com/coder/websocket"

	"siegel/shared/protocol"
)

// handleWS checks the site and the Origin before upgrading, then runs a
// protocol session on the connection.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	site, ok := s.siteFromQuery(w, r)
	if !ok {
		return
	}
	if !s.originAllowed(site, r.Header.Get("Origin")) {
		plainError(w, http.StatusForbidden, "origin not allowed for this site")
		return
	}
	release, ok := s.acquireConn(r)
	if !ok {
		plainError(w, http.StatusTooManyRequests, "too many connections")
		return
	}
	defer release()
	// The Origin was checked above against the site's own list.
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	c.SetReadLimit(protocol.MaxFrameSize)
	ctx := s.BaseContext
	if ctx == nil {
		ctx = context.Background()
	}
	s.Sessions.Serve(ctx, wsConn{c}, site.ID)
	c.Close(websocket.StatusNormalClosure, "")
}

// wsConn adapts a coder/websocket connection to hub.Conn.
type wsConn struct{ c *websocket.Conn }

func (w wsConn) Read(ctx context.Context) ([]byte, error) {
	_, b, err := w.c.Read(ctx)
	return b, err
}

func (w wsConn) Write(ctx context.Context, b []byte) error {
	return w.c.Write(ctx, websocket.MessageBinary, b)
}

func (w wsConn) Close(code int, reason string) {
	w.c.Close(websocket.StatusCode(code), reason)
}
