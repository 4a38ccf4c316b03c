//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"siegel/shared/envelope"
	"siegel/shared/protocol"
)

// durLoad is one visitor of the crash test: the envelopes it sends and the
// acknowledgements it got, over all rounds.
type durLoad struct {
	v     *visitor
	sent  [][]byte // sent[seq-1]
	mu    sync.Mutex
	acks  map[uint64]uint64 // seq → pos
	fault string            // the first unexpected frame, if any
}

// TestDurabilityKill9 sends envelopes from several visitors at once, kills
// the relay with SIGKILL while acknowledgements are still coming in, restarts
// it on the same data folder, lets the visitors resume from what the Welcome
// says is committed, and kills it again. After each crash it checks that every
// acknowledged envelope is there, byte for byte, at the position its Ack
// named; that nothing is there but what was sent, in order; and that the
// database passes `relay check` exactly as the crash left it and after a
// clean stop (DESIGN promise 7, PROTOCOL.md §6.1–6.2).
func TestDurabilityKill9(t *testing.T) {
	const (
		visitors   = 8
		perVisitor = 180 // within the relay's per-connection burst of requests
		total      = visitors * perVisitor
		crashes    = 2
	)
	dataDir := t.TempDir()
	r := startRelay(t, dataDir)

	loads := make([]*durLoad, visitors)
	for i := range loads {
		v := newVisitor(t, r.site)
		l := &durLoad{v: v, acks: map[uint64]uint64{}}
		// The recipients come from the Welcome: join once to learn them.
		c := connect(t, r)
		v.join(c, r, 0)
		c.replay(v.conv)
		c.ws.CloseNow()
		for seq := uint64(1); seq <= perVisitor; seq++ {
			l.sent = append(l.sent, v.seal(t, seq, fmt.Sprintf("visitor %d message %d", i, seq)))
		}
		loads[i] = l
	}

	for crash := 1; crash <= crashes; crash++ {
		// Every visitor reconnects, resynchronises from its Welcome and
		// sends the rest of its envelopes at once, without waiting for Acks.
		clients := make([]*client, visitors)
		from := make([]uint64, visitors) // first seq sent in this round
		remaining := 0
		for i, l := range loads {
			clients[i] = connect(t, r)
			w := l.v.join(clients[i], r, 0)
			clients[i].replay(l.v.conv)
			from[i] = w.AckedSeq + 1
			remaining += perVisitor - int(w.AckedSeq)
		}
		if remaining == 0 {
			t.Fatalf("crash %d: nothing left to send", crash)
		}
		killAt := int64(remaining / 3)
		var acked atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		for i, l := range loads {
			ws := clients[i].ws
			wg.Go(func() { // writer
				<-start
				for seq := from[i]; seq <= perVisitor; seq++ {
					if ws.Write(ctx, websocket.MessageBinary, protocol.Encode(uint32(seq), &protocol.Send{Envelope: l.sent[seq-1]})) != nil {
						return // the relay is gone
					}
				}
			})
			wg.Go(func() { // reader: every Ack until the connection ends
				<-start
				for {
					_, b, err := ws.Read(ctx)
					if err != nil {
						return
					}
					if l.record(b, from[i], perVisitor) {
						acked.Add(1)
					}
				}
			})
		}
		close(start)
		for acked.Load() < killAt {
			if ctx.Err() != nil {
				cancel()
				t.Fatalf("crash %d: only %d of %d envelopes acknowledged within %v", crash, acked.Load(), remaining, wait)
			}
			time.Sleep(time.Millisecond)
		}
		r.kill()
		ackedAtKill := acked.Load()
		wg.Wait()
		cancel()
		t.Logf("crash %d: SIGKILL with %d of %d envelopes of this round acknowledged; %d acknowledgements arrived in all",
			crash, ackedAtKill, remaining, acked.Load())
		if acked.Load() == int64(remaining) {
			t.Errorf("crash %d: every envelope was acknowledged before the kill took effect: the crash did not happen under load", crash)
		}
		for i, l := range loads {
			if l.fault != "" {
				t.Fatalf("visitor %d: %s", i, l.fault)
			}
		}

		relayCheck(t, dataDir) // the file exactly as the crash left it
		r = startRelayAt(t, dataDir, r.addr, r.demoAddr)
		verifyCommitted(t, r, loads, perVisitor)
	}

	// Resending the last committed envelope is acknowledged again without
	// being stored twice; the next one continues the sequence.
	l := loads[0]
	c := connect(t, r)
	last := l.v.join(c, r, 0).AckedSeq
	c.replay(l.v.conv)
	if last == 0 {
		t.Fatal("visitor 0 has nothing committed")
	}
	c.write(1000, &protocol.Send{Envelope: l.sent[last-1]})
	expectAck(t, c, 1000, l.v, last, last)
	next := last + 1
	var env []byte
	if next <= perVisitor {
		env = l.sent[next-1]
	} else {
		env = l.v.seal(t, next, "after the crashes")
	}
	c.write(1001, &protocol.Send{Envelope: env})
	expectAck(t, c, 1001, l.v, next, next)
	// A Hello with since replays only what comes after it.
	c2 := connect(t, r)
	l.v.join(c2, r, last)
	if got := c2.replay(l.v.conv); len(got) != 1 || got[0].Pos != next || !bytes.Equal(got[0].Envelope, env) {
		t.Errorf("hello with since %d replays %d envelopes, want only position %d", last, len(got), next)
	}

	r.stop()
	relayCheck(t, dataDir)
	t.Logf("%d envelopes sent by %d visitors over %d crashes", total, visitors, crashes)
}

// record handles one frame the relay sent to l during a round in which l
// sent seq from…max; it reports whether the frame was a new Ack.
func (l *durLoad) record(b []byte, from, max uint64) bool {
	req, f, err := protocol.Decode(b)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch f := f.(type) {
	case *protocol.Presence, *protocol.ConvStateFrame, *protocol.TypingPush: // live-chat pushes, not checked here
	case *protocol.Deliver: // the sender's own envelope, pushed back
	case *protocol.Ack:
		switch {
		case f.Conv != l.v.conv || uint64(req) != f.Seq || f.Seq < from || f.Seq > max:
			l.fail(fmt.Sprintf("ack req %d conv %s seq %d pos %d, want an ack of seq %d…%d", req, f.Conv, f.Seq, f.Pos, from, max))
		case l.acks[f.Seq] != 0:
			l.fail(fmt.Sprintf("second ack of seq %d", f.Seq))
		case f.Pos != f.Seq:
			// The visitor is the only sender of its conversation.
			l.fail(fmt.Sprintf("ack of seq %d names position %d", f.Seq, f.Pos))
		default:
			l.acks[f.Seq] = f.Pos
			return true
		}
	default:
		l.fail(fmt.Sprintf("unexpected frame %s (%v)", describe(f), err))
	}
	return false
}

func (l *durLoad) fail(s string) {
	if l.fault == "" {
		l.fault = s
	}
}

// verifyCommitted checks, after a restart, that each visitor's conversation
// holds exactly a prefix of what it sent, byte for byte, and every envelope
// the relay acknowledged.
func verifyCommitted(t *testing.T, r *relayProc, loads []*durLoad, perVisitor uint64) {
	t.Helper()
	committed, acked := 0, 0
	for i, l := range loads {
		c := connect(t, r)
		w := l.v.join(c, r, 0)
		maxAcked := uint64(0)
		for seq := range l.acks {
			maxAcked = max(maxAcked, seq)
		}
		acked += len(l.acks)
		if w.AckedSeq < maxAcked || w.AckedSeq > perVisitor {
			t.Errorf("visitor %d: welcome after the crash has acked seq %d; %d was acknowledged, %d sent", i, w.AckedSeq, maxAcked, perVisitor)
		}
		got := c.replay(l.v.conv)
		c.ws.CloseNow()
		committed += len(got)
		if uint64(len(got)) != w.AckedSeq {
			t.Errorf("visitor %d: replay has %d envelopes, welcome says %d committed", i, len(got), w.AckedSeq)
		}
		for k, d := range got {
			env, err := envelope.Verify(d.Envelope)
			if err != nil {
				t.Errorf("visitor %d: stored envelope at position %d does not verify: %v", i, d.Pos, err)
				continue
			}
			if d.Pos != uint64(k+1) || env.Seq != d.Pos || env.Seq > perVisitor {
				t.Errorf("visitor %d: replay item %d is seq %d at position %d, want seq %d at position %d", i, k, env.Seq, d.Pos, k+1, k+1)
				continue
			}
			if !bytes.Equal(d.Envelope, l.sent[env.Seq-1]) {
				t.Errorf("visitor %d: stored envelope seq %d differs from the one sent", i, env.Seq)
			}
		}
		for seq, pos := range l.acks {
			if seq > uint64(len(got)) || got[seq-1].Pos != pos {
				t.Errorf("visitor %d: acknowledged envelope seq %d (position %d) is missing after the crash", i, seq, pos)
			}
		}
	}
	t.Logf("after the restart: %d envelopes committed, %d of them acknowledged before the crash", committed, acked)
}
