//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/http"
	"testing"

	"github.com/coder/websocket"

	"siegel/shared/protocol"
)

// header builds a frame header with any version and type.
func header(version, typ byte, req uint32) []byte {
	b := []byte{version, typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[2:], req)
	return b
}

// TestBadInput sends what no honest client sends and checks that each gets a
// clear error, that the connection survives where the protocol says so, and
// that nothing refused is stored (DESIGN promise 5, PROTOCOL.md §6).
func TestBadInput(t *testing.T) {
	r := startRelay(t, t.TempDir())

	t.Run("origin", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		for _, origin := range []string{"http://evil.example", "null", "http://127.0.0.1:1", ""} {
			c, resp, err := dialWS(ctx, r, origin)
			if err == nil {
				c.CloseNow()
				t.Errorf("WebSocket with Origin %q was accepted, want HTTP 403", origin)
				continue
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				status := 0
				if resp != nil {
					status = resp.StatusCode
				}
				t.Errorf("WebSocket with Origin %q: HTTP %d (%v), want 403", origin, status, err)
			}
		}
		// The control: the site's own origin and the relay's origin are accepted.
		for _, origin := range []string{r.demoOrigin(), r.origin()} {
			c, resp, err := dialWS(ctx, r, origin)
			if err != nil {
				status := 0
				if resp != nil {
					status = resp.StatusCode
				}
				t.Errorf("WebSocket with allowed Origin %q refused: HTTP %d (%v)", origin, status, err)
				continue
			}
			c.CloseNow()
		}
	})

	t.Run("malformed and unknown version keep the connection", func(t *testing.T) {
		c := connect(t, r)
		// A header with an unknown frame type.
		c.writeRaw(append(header(protocol.Version, 0xEE, 7), 1, 2, 3))
		c.expectError(7, protocol.CodeMalformed, "unknown frame type")
		// A Hello cut short.
		hello := protocol.Encode(8, signedHello(c.challenge, protocol.RoleVisitor, newVisitor(t, r.site).id, r.site, 0))
		c.writeRaw(hello[:len(hello)-1])
		c.expectError(8, protocol.CodeMalformed, "short hello")
		// A Hello with a trailing byte.
		c.writeRaw(append(bytes.Clone(hello), 0))
		c.expectError(8, protocol.CodeMalformed, "hello with a trailing byte")
		// Shorter than a header: there is no request ID to echo.
		c.writeRaw([]byte{protocol.Version, byte(protocol.TypeHello)})
		c.expectError(0, protocol.CodeMalformed, "short header")
		// Another protocol version: the relay cannot read the rest of it.
		c.writeRaw(append(header(protocol.Version+1, byte(protocol.TypeHello), 10), hello[protocol.HeaderSize:]...))
		c.expectError(0, protocol.CodeUnsupportedVersion, "protocol version 2")
		c.writeRaw([]byte{0})
		c.expectError(0, protocol.CodeUnsupportedVersion, "protocol version 0")
		// A Send before Hello.
		c.write(11, &protocol.Send{Envelope: []byte{1}})
		c.expectError(11, protocol.CodeState, "send before hello")

		// The connection still works: a valid Hello gets a Welcome.
		v := newVisitor(t, r.site)
		w := v.join(c, r, 0)
		if w.AckedSeq != 0 {
			t.Errorf("new visitor's welcome has acked seq %d, want 0", w.AckedSeq)
		}
		if got := c.replay(v.conv); len(got) != 0 {
			t.Errorf("new conversation replays %d envelopes, want 0", len(got))
		}
		// A frame of exactly MaxFrameSize bytes is read (and refused), not cut off.
		// (Its envelope is version 1 followed by zeros: no stanza, malformed.)
		full := append(header(protocol.Version, byte(protocol.TypeSend), 12), make([]byte, protocol.MaxFrameSize-protocol.HeaderSize)...)
		full[protocol.HeaderSize] = 1
		c.writeRaw(full)
		c.expectError(12, protocol.CodeMalformed, "send of MaxFrameSize bytes with a malformed envelope")
		// And the session goes on.
		env := v.seal(t, 1, "after bad input")
		c.write(13, &protocol.Send{Envelope: env})
		expectAck(t, c, 13, v, 1, 1)
	})

	t.Run("hello and role checks", func(t *testing.T) {
		c := connect(t, r)
		v := newVisitor(t, r.site)
		// A Hello signed over another challenge.
		var wrong [32]byte
		wrong[0] = 1
		c.write(1, signedHello(wrong, protocol.RoleVisitor, v.id, r.site, 0))
		c.expectError(1, protocol.CodeBadSignature, "hello signed over another challenge")
		// An agent Hello with a key that is not in the owner-signed roster.
		c.write(2, signedHello(c.challenge, protocol.RoleAgent, newVisitor(t, r.site).id, r.site, 0))
		c.expectError(2, protocol.CodeForbidden, "agent hello with a key outside the roster")
		// Neither made the connection a session.
		c.write(3, &protocol.List{})
		c.expectError(3, protocol.CodeState, "list after refused hellos")
		// A visitor may not use the agents' requests.
		v.join(c, r, 0)
		c.replay(v.conv)
		c.write(4, &protocol.List{})
		c.expectError(4, protocol.CodeForbidden, "list as a visitor")
		c.write(5, &protocol.Fetch{Conv: newVisitor(t, r.site).conv})
		c.expectError(5, protocol.CodeForbidden, "fetch as a visitor")
		c.write(6, &protocol.Delivered{Conv: v.conv, Pos: 1})
		c.expectError(6, protocol.CodeForbidden, "delivered as a visitor")
		// A second Hello.
		c.write(7, signedHello(c.challenge, protocol.RoleVisitor, v.id, r.site, 0))
		c.expectError(7, protocol.CodeState, "second hello")
	})

	t.Run("oversized frame closes with 1009", func(t *testing.T) {
		c := connect(t, r)
		big := append(header(protocol.Version, byte(protocol.TypeSend), 1), make([]byte, protocol.MaxFrameSize+1-protocol.HeaderSize)...)
		if len(big) != protocol.MaxFrameSize+1 {
			t.Fatalf("built %d bytes", len(big))
		}
		// The relay may close while the frame is still being written.
		werr := c.writeRaw(big)
		for {
			b, err := c.readRaw()
			if err != nil {
				if got := websocket.CloseStatus(err); got != websocket.StatusMessageTooBig {
					t.Fatalf("after a %d-byte frame: connection ended with %v (status %d; write error %v), want close status 1009", len(big), err, got, werr)
				}
				break
			}
			// An Error frame "too large" before the close is fine; anything else is not.
			if _, f, derr := protocol.Decode(b); derr != nil || f.Type() != protocol.TypeError {
				t.Fatalf("after a %d-byte frame: relay sent %v (%v), want the close 1009", len(big), f, derr)
			}
		}
	})

	t.Run("forged envelope is refused and not stored", func(t *testing.T) {
		v := newVisitor(t, r.site)
		c := connect(t, r)
		v.join(c, r, 0)
		c.replay(v.conv)
		good := v.seal(t, 1, "genuine")

		// A flipped bit in the signature.
		forged := bytes.Clone(good)
		forged[len(forged)-1] ^= 0x01
		c.write(2, &protocol.Send{Envelope: forged})
		c.expectError(2, protocol.CodeBadSignature, "envelope with a flipped signature bit")
		// A flipped bit in the ciphertext, signature unchanged.
		forged = bytes.Clone(good)
		forged[len(forged)-64-10] ^= 0x80
		c.write(3, &protocol.Send{Envelope: forged})
		c.expectError(3, protocol.CodeBadSignature, "envelope with a flipped body bit")
		// A valid envelope signed by another key than the connection's.
		other := newVisitor(t, r.site)
		other.recipients, other.conv = v.recipients, v.conv
		c.write(4, &protocol.Send{Envelope: other.seal(t, 1, "not mine")})
		c.expectError(4, protocol.CodeForbidden, "envelope signed by another visitor's key")

		// Nothing of that is stored: a fresh connection's Welcome and replay.
		c2 := connect(t, r)
		if w := v.join(c2, r, 0); w.AckedSeq != 0 {
			t.Errorf("after refused envelopes the welcome has acked seq %d, want 0", w.AckedSeq)
		}
		if got := c2.replay(v.conv); len(got) != 0 {
			t.Errorf("after refused envelopes the replay has %d envelopes, want 0", len(got))
		}

		// The genuine envelope with the same seq is accepted at position 1 and
		// replayed byte for byte.
		c.write(5, &protocol.Send{Envelope: good})
		expectAck(t, c, 5, v, 1, 1)
		c3 := connect(t, r)
		if w := v.join(c3, r, 0); w.AckedSeq != 1 {
			t.Errorf("welcome has acked seq %d, want 1", w.AckedSeq)
		}
		got := c3.replay(v.conv)
		if len(got) != 1 || got[0].Pos != 1 || !bytes.Equal(got[0].Envelope, good) {
			t.Errorf("replay after one accepted envelope: %d envelopes, want exactly the genuine one at position 1", len(got))
		}
	})
}

// expectAck reads frames up to the Ack for req (skipping the Deliver the
// relay pushes to the sender's own connection) and checks seq and pos.
func expectAck(t *testing.T, c *client, req uint32, v *visitor, seq, pos uint64) {
	t.Helper()
	for {
		r, f := c.next()
		switch f := f.(type) {
		case *protocol.Deliver:
			continue
		case *protocol.Ack:
			if r != req || f.Conv != v.conv || f.Seq != seq || f.Pos != pos {
				t.Fatalf("ack (req %d, conv %s, seq %d, pos %d), want (req %d, conv %s, seq %d, pos %d)",
					r, f.Conv, f.Seq, f.Pos, req, v.conv, seq, pos)
			}
			return
		default:
			t.Fatalf("got %s, want ack of seq %d", describe(f), seq)
		}
	}
}
