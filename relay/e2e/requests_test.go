//go:build e2e

package e2e

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"

	"siegel/relay/store"
	"siegel/shared/content"
	"siegel/shared/envelope"
	"siegel/shared/ids"
	"siegel/shared/protocol"
)

// sealContent seals content of type typ from v with seq.
func (v *visitor) sealContent(t testing.TB, seq uint64, typ content.Type, c []byte) []byte {
	t.Helper()
	b, err := envelope.Seal(rand.Reader, v.id, v.recipients, envelope.Message{
		Site: v.site, Conv: v.conv, Seq: seq, Type: envelope.ContentType(typ), Time: time.Now().UnixMilli(), Content: c,
	})
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	return b
}

// request signs a request with id over the connection's nonce for site.
func (c *client) request(site ids.SiteID, id *envelope.Identity, op protocol.Operation, conv ids.ConvID, counter uint64, body []byte) *protocol.Request {
	q := &protocol.Request{Op: op, Conv: conv, Counter: counter, Body: body}
	protocol.SignRequest(site, c.challenge, q, id.Sign)
	return q
}

// until reads frames until one satisfies ok and returns the ones before it.
func (c *client) until(what string, ok func(uint32, protocol.Frame) bool) []protocol.Frame {
	c.t.Helper()
	var seen []protocol.Frame
	for range 32 {
		req, f := c.next()
		if ok(req, f) {
			return seen
		}
		seen = append(seen, f)
	}
	c.t.Fatalf("%s: not among 32 frames: %v", what, seen)
	return nil
}

// storedState is a conversation as the relay replays it to its visitor.
func storedState(t *testing.T, r *relayProc, v *visitor) (acked uint64, envs [][]byte) {
	t.Helper()
	c := connect(t, r)
	defer c.ws.CloseNow()
	w := v.join(c, r, 0)
	for _, d := range c.replay(v.conv) {
		envs = append(envs, d.Envelope)
	}
	return w.AckedSeq, envs
}

// TestSignedRequestsAcrossRestart drives the real relay with signed requests
// (docs/PROTOCOL.md §6.5) as a visitor: a correction is carried out; then the
// same frame again, lower counters (also after a restart of the process), a
// request signed by another key, over another site, for another
// conversation, with a wrong body hash, cut short, and too large: each is
// refused with its error and changes nothing — the conversation replays
// byte for byte as before, and the counter the refused ones carried is still
// free. Finally an erase with the next counter is done, and a Hello with the
// erased conversation's keys gets "gone".
func TestSignedRequestsAcrossRestart(t *testing.T) {
	dataDir := t.TempDir()
	addr, demoAddr := freeAddr(t), freeAddr(t)
	r := startRelayAt(t, dataDir, addr, demoAddr, rightsFlags...)
	v, other := newVisitor(t, r.site), newVisitor(t, r.site)

	// The other visitor's conversation exists.
	oc := connect(t, r)
	other.join(oc, r, 0)
	oc.replay(other.conv)
	oc.write(2, &protocol.Send{Envelope: other.seal(t, 1, "andere "+newSentinel("Sentinel"))})
	if _, f := oc.next(); describe(f) != "ack seq 1 pos 1" {
		t.Fatalf("the other visitor's envelope: got %s", describe(f))
	}
	oc.ws.CloseNow()

	// The visitor answers with an email and corrects it.
	c := connect(t, r)
	v.join(c, r, 0)
	c.replay(v.conv)
	answer := content.Answer{Variable: "email", Personal: true, Kind: content.InputEmail, Value: newSentinel("alt") + "@example.org"}
	c.write(2, &protocol.Send{Envelope: v.sealContent(t, 1, content.TypeAnswer, content.EncodeAnswer(answer))})
	if _, f := c.next(); describe(f) != "ack seq 1 pos 1" {
		t.Fatalf("the answer: got %s, want ack seq 1 pos 1", describe(f))
	}
	fixed := answer
	fixed.Value = newSentinel("neu") + "@example.org"
	corr := v.sealContent(t, 2, content.TypeCorrection, content.EncodeCorrection(content.Correction{Pos: 1, Answer: fixed}))
	const counter = 1_000_000
	q := c.request(r.site, v.id, protocol.OpCorrect, v.conv, counter, protocol.CorrectionBody(1, corr))
	sent := protocol.Encode(3, q)
	if err := c.writeRaw(sent); err != nil {
		t.Fatal(err)
	}
	// Done to the request, and the pushes: Deliver of the correction and
	// Replaced (and the echo of the visitor's own answer, Deliver at 1).
	var done, replaced, delivered bool
	var got []protocol.Frame
	for !done || !replaced || !delivered {
		if len(got) == 8 {
			t.Fatalf("after the correction the visitor got %s, want Done, Deliver of the correction at 2 and Replaced 1 → 2", describeAll(got))
		}
		req, f := c.next()
		got = append(got, f)
		switch f := f.(type) {
		case *protocol.Done:
			done = req == 3 && f.Op == protocol.OpCorrect && f.Conv == v.conv
		case *protocol.Replaced:
			replaced = f.Conv == v.conv && f.OldPos == 1 && f.NewPos == 2
		case *protocol.Deliver:
			delivered = delivered || f.Pos == 2 && bytes.Equal(f.Envelope, corr)
		case *protocol.Error:
			t.Fatalf("the correction was refused: %s", describe(f))
		}
	}

	// The same frame again, on the same connection: a replay.
	if err := c.writeRaw(sent); err != nil {
		t.Fatal(err)
	}
	c.expectError(3, protocol.CodeReplay, "the same request frame again")
	c.ws.CloseNow()
	acked, before := storedState(t, r, v)
	if acked != 2 || len(before) != 1 || !bytes.Equal(before[0], corr) {
		t.Fatalf("after the correction the relay replays %d envelopes (acked %d), want only the correction", len(before), acked)
	}

	r.stop()
	r = startRelayAt(t, dataDir, addr, demoAddr, rightsFlags...)

	c = connect(t, r)
	v.join(c, r, 0)
	c.replay(v.conv)
	refuse := func(req uint32, q *protocol.Request, code protocol.ErrorCode, what string) {
		t.Helper()
		c.write(req, q)
		c.expectError(req, code, what)
	}
	// The old frame, signed over the old connection's nonce.
	if err := c.writeRaw(sent); err != nil {
		t.Fatal(err)
	}
	c.expectError(3, protocol.CodeBadSignature, "the old request frame after a restart")
	refuse(10, c.request(r.site, v.id, protocol.OpErase, v.conv, counter, nil), protocol.CodeReplay, "erase with the same counter after a restart")
	refuse(11, c.request(r.site, v.id, protocol.OpErase, v.conv, counter-1, nil), protocol.CodeReplay, "erase with a lower counter after a restart")
	corr2 := v.sealContent(t, 3, content.TypeCorrection, content.EncodeCorrection(content.Correction{Pos: 2, Answer: answer}))
	refuse(12, c.request(r.site, v.id, protocol.OpCorrect, v.conv, 1, protocol.CorrectionBody(2, corr2)), protocol.CodeReplay, "correct with counter 1 after a restart")
	// Higher counters, but not the visitor's own request.
	refuse(13, c.request(r.site, other.id, protocol.OpErase, v.conv, counter+10, nil), protocol.CodeBadSignature, "a request signed by another key")
	var otherSite ids.SiteID
	copy(otherSite[:], "some-other-site!")
	refuse(14, c.request(otherSite, v.id, protocol.OpErase, v.conv, counter+11, nil), protocol.CodeBadSignature, "a request signed over another site")
	refuse(15, c.request(r.site, v.id, protocol.OpErase, other.conv, counter+12, nil), protocol.CodeForbidden, "erase another conversation")
	bad := c.request(r.site, v.id, protocol.OpCorrect, v.conv, counter+13, protocol.CorrectionBody(2, corr2))
	bad.BodyHash[0] ^= 1
	bad.Sig = v.id.Sign(protocol.RequestSigned(r.site, c.challenge, bad))
	refuse(16, bad, protocol.CodeMalformed, "a body hash that is not the body's")
	whole := protocol.Encode(17, c.request(r.site, v.id, protocol.OpErase, v.conv, counter+14, nil))
	if err := c.writeRaw(whole[:len(whole)-1]); err != nil {
		t.Fatal(err)
	}
	c.expectError(17, protocol.CodeMalformed, "a request cut short")
	c.ws.CloseNow()

	// Too large: the relay closes the connection (1009) without acting.
	big := connect(t, r)
	v.join(big, r, 0)
	big.replay(v.conv)
	huge := big.request(r.site, v.id, protocol.OpCorrect, v.conv, counter+15, protocol.CorrectionBody(2, make([]byte, protocol.MaxFrameSize)))
	werr := big.writeRaw(protocol.Encode(18, huge))
	for {
		b, err := big.readRaw()
		if err != nil {
			if got := websocket.CloseStatus(err); got != websocket.StatusMessageTooBig {
				t.Errorf("an oversized request: connection ended with %v (status %d, write error %v), want close status 1009", err, got, werr)
			}
			break
		}
		if _, f, derr := protocol.Decode(b); derr != nil || f.Type() != protocol.TypeError {
			t.Fatalf("an oversized request: got %s (%v), want the connection closed", describe(f), derr)
		}
	}

	// Nothing changed, and the other conversation is still there.
	acked, after := storedState(t, r, v)
	if acked != 2 || len(after) != len(before) || !bytes.Equal(after[0], before[0]) {
		t.Errorf("the refused requests changed the conversation: acked %d, %d envelopes (before: 2, %d)", acked, len(after), len(before))
	}
	if oacked, oenvs := storedState(t, r, other); oacked != 1 || len(oenvs) != 1 {
		t.Errorf("the other conversation after the refused erase: acked %d, %d envelopes, want 1 and 1", oacked, len(oenvs))
	}

	// The next counter works: none of the refused ones was taken.
	c = connect(t, r)
	v.join(c, r, 0)
	c.replay(v.conv)
	compactions := len(relayLogLines(r, "msg=compacted"))
	c.write(20, c.request(r.site, v.id, protocol.OpErase, v.conv, counter+1, nil))
	start := time.Now()
	c.until("Done for the erase", func(req uint32, f protocol.Frame) bool {
		d, ok := f.(*protocol.Done)
		if e, isErr := f.(*protocol.Error); isErr {
			t.Fatalf("the erase with the next counter was refused: %s", describe(e))
		}
		return ok && req == 20 && d.Op == protocol.OpErase && d.Conv == v.conv
	})
	c.ws.CloseNow()
	checkHelloGone(t, r, v.id)
	checkCompactionTime(t, waitCompaction(t, r, compactions, start))
	r.stop()
	checkErased(t, r, v.conv, store.EraseVisitor)
	checkLog(t, r)
}

func describeAll(fs []protocol.Frame) string {
	s := ""
	for i, f := range fs {
		if i > 0 {
			s += ", "
		}
		s += describe(f)
	}
	return fmt.Sprintf("[%s]", s)
}
