//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/shared/roster"
)

// dialWS opens a WebSocket to the relay's /ws for the demo site with the given
// Origin header.
func dialWS(ctx context.Context, r *relayProc, origin string) (*websocket.Conn, *http.Response, error) {
	c, resp, err := websocket.Dial(ctx, r.wsURL(), &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": {origin}},
	})
	if err != nil {
		return nil, resp, err
	}
	// A Deliver frame may be as large as a frame can be.
	c.SetReadLimit(protocol.MaxFrameSize + 1024)
	return c, resp, nil
}

// client is a native protocol client on one connection. Its methods fail the
// test; they must run on the test's goroutine.
type client struct {
	t         testing.TB
	ws        *websocket.Conn
	challenge [32]byte
}

// connect dials with the site's allowed origin and reads the Challenge.
func connect(t testing.TB, r *relayProc) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ws, resp, err := dialWS(ctx, r, r.demoOrigin())
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", r.wsURL(), err, status)
	}
	c := &client{t: t, ws: ws}
	t.Cleanup(func() { ws.CloseNow() })
	_, f := c.next()
	ch, ok := f.(*protocol.Challenge)
	if !ok {
		t.Fatalf("first frame is %s, want challenge", describe(f))
	}
	c.challenge = ch.Nonce
	return c
}

// writeRaw sends one binary message.
func (c *client) writeRaw(b []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageBinary, b)
}

func (c *client) write(req uint32, f protocol.Frame) {
	c.t.Helper()
	if err := c.writeRaw(protocol.Encode(req, f)); err != nil {
		c.t.Fatalf("write %s: %v", f.Type(), err)
	}
}

// readRaw reads the next message, skipping the live-chat pushes (presence,
// conversation state, typing; PROTOCOL.md §6.7) that these tests do not check.
func (c *client) readRaw() ([]byte, error) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		typ, b, err := c.ws.Read(ctx)
		cancel()
		if err == nil && typ != websocket.MessageBinary {
			return nil, fmt.Errorf("relay sent a %v message, want binary", typ)
		}
		if err == nil && isLivePush(b) {
			continue
		}
		return b, err
	}
}

// isLivePush reports whether b is a Presence, ConvState or TypingPush frame.
func isLivePush(b []byte) bool {
	_, f, err := protocol.Decode(b)
	if err != nil {
		return false
	}
	switch f.(type) {
	case *protocol.Presence, *protocol.ConvStateFrame, *protocol.TypingPush:
		return true
	}
	return false
}

// next reads and decodes the next frame.
func (c *client) next() (uint32, protocol.Frame) {
	c.t.Helper()
	b, err := c.readRaw()
	if err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	req, f, err := protocol.Decode(b)
	if err != nil {
		c.t.Fatalf("relay sent an undecodable frame (%d bytes): %v", len(b), err)
	}
	return req, f
}

// expectError reads the next frame and requires an Error with code for req.
func (c *client) expectError(req uint32, code protocol.ErrorCode, what string) *protocol.Error {
	c.t.Helper()
	r, f := c.next()
	e, ok := f.(*protocol.Error)
	if !ok {
		c.t.Fatalf("%s: got %s, want an error frame with code %d (%s)", what, describe(f), code, code)
	}
	if e.Code != code {
		c.t.Fatalf("%s: got error code %d (%s, %q), want %d (%s)", what, e.Code, e.Code, e.Reason, code, code)
	}
	if r != req {
		c.t.Fatalf("%s: error frame has request ID %d, want %d (echoed)", what, r, req)
	}
	return e
}

// hello signs and sends a Hello for id and returns the relay's Welcome.
func (c *client) hello(req uint32, role protocol.Role, id *envelope.Identity, site ids.SiteID, since uint64) *protocol.Welcome {
	c.t.Helper()
	c.write(req, signedHello(c.challenge, role, id, site, since))
	r, f := c.next()
	w, ok := f.(*protocol.Welcome)
	if !ok {
		c.t.Fatalf("hello: got %s, want welcome", describe(f))
	}
	if r != req {
		c.t.Fatalf("welcome has request ID %d, want %d", r, req)
	}
	return w
}

func signedHello(nonce [32]byte, role protocol.Role, id *envelope.Identity, site ids.SiteID, since uint64) *protocol.Hello {
	h := &protocol.Hello{Role: role, Site: site, SignKey: id.SignKey(), BoxKey: id.BoxKey(), Since: since}
	protocol.SignHello(nonce, h, id.Sign)
	return h
}

// replay reads the Deliver frames that follow a Welcome, up to Fetched.
func (c *client) replay(conv ids.ConvID) []*protocol.Deliver {
	c.t.Helper()
	var out []*protocol.Deliver
	for {
		_, f := c.next()
		switch f := f.(type) {
		case *protocol.Deliver:
			if f.Conv != conv {
				c.t.Fatalf("replay delivered conversation %s, want %s", f.Conv, conv)
			}
			f.Envelope = append([]byte(nil), f.Envelope...)
			out = append(out, f)
		case *protocol.Fetched:
			if f.Conv != conv {
				c.t.Fatalf("fetched for conversation %s, want %s", f.Conv, conv)
			}
			return out
		default:
			c.t.Fatalf("replay: got %s, want deliver or fetched", describe(f))
		}
	}
}

// visitor is a native visitor: its identity, conversation and recipients.
type visitor struct {
	id         *envelope.Identity
	site       ids.SiteID
	conv       ids.ConvID
	recipients []ids.Key
}

func newVisitor(t testing.TB, site ids.SiteID) *visitor {
	t.Helper()
	id, err := envelope.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &visitor{id: id, site: site, conv: ids.ConversationID(site, id.SignKey())}
}

// join says hello as v, checks the Welcome and the owner-signed roster in it,
// and sets v's recipients (the roster's agents and v itself).
func (v *visitor) join(c *client, r *relayProc, since uint64) *protocol.Welcome {
	c.t.Helper()
	w := c.hello(1, protocol.RoleVisitor, v.id, v.site, since)
	if w.Conv != v.conv {
		c.t.Fatalf("welcome names conversation %s, want %s (derived from site and key)", w.Conv, v.conv)
	}
	ro, err := roster.Verify(w.Roster, r.ownerFP, r.site, time.Now(), 0)
	if err != nil {
		c.t.Fatalf("welcome roster does not verify against the printed owner fingerprint: %v", err)
	}
	if len(ro.Agents) == 0 {
		c.t.Fatal("demo roster has no agents")
	}
	v.recipients = append(ro.BoxKeys(), v.id.BoxKey())
	return w
}

// seal returns a valid envelope with text from v with seq.
func (v *visitor) seal(t testing.TB, seq uint64, text string) []byte {
	t.Helper()
	b, err := envelope.Seal(rand.Reader, v.id, v.recipients, envelope.Message{
		Site: v.site, Conv: v.conv, Seq: seq, Type: envelope.ContentText,
		Time: time.Now().UnixMilli(), Content: []byte(text),
	})
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	return b
}

// describe names a frame for error messages.
func describe(f protocol.Frame) string {
	switch f := f.(type) {
	case *protocol.Error:
		return fmt.Sprintf("error %d (%s, %q)", f.Code, f.Code, f.Reason)
	case *protocol.Ack:
		return fmt.Sprintf("ack seq %d pos %d", f.Seq, f.Pos)
	case *protocol.Deliver:
		return fmt.Sprintf("deliver pos %d (%d bytes)", f.Pos, len(f.Envelope))
	case nil:
		return "nothing"
	default:
		return f.Type().String()
	}
}
