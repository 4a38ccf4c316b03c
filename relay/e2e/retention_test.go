//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"siegel/relay/store"
	"siegel/shared/protocol"
)

// TestRetention: `relay demo -retention-days 1` with a short sweep interval.
// The relay binary has no clock to inject, and retention is set in days, so
// the test writes into the stopped relay's database, with the store's clock
// set three days back, two conversations: one that stays idle since then
// (expired) and one that gets a new envelope now (active). After the restart
// the sweeper erases the expired one through the erasure path (tombstone,
// audit entry with the reason "retention", compaction) and keeps the active
// one and a fresh one made through the relay, also over several more sweeps.
// (Retention at the store and sweeper level, with an injected clock, is in
// their unit tests.)
func TestRetention(t *testing.T) {
	dataDir := t.TempDir()
	addr, demoAddr := freeAddr(t), freeAddr(t)
	flags := []string{"-retention-days", "1", "-sweep-interval", "300ms", "-compact-within", "2s"}
	r := startRelayAt(t, dataDir, addr, demoAddr, flags...)
	if lines := relayLogLines(r, "retention: "); len(lines) != 1 || strings.TrimSpace(lines[0]) != "retention: 1 days" {
		t.Errorf("relay demo -retention-days 1 printed %q, want \"retention: 1 days\"", lines)
	}

	// A fresh conversation through the relay.
	fresh := newVisitor(t, r.site)
	c := connect(t, r)
	fresh.join(c, r, 0)
	c.replay(fresh.conv)
	freshEnv := fresh.seal(t, 1, "frisch "+newSentinel("Sentinel"))
	c.write(2, &protocol.Send{Envelope: freshEnv})
	if _, f := c.next(); describe(f) != "ack seq 1 pos 1" {
		t.Fatalf("sending the fresh envelope: got %s, want ack seq 1 pos 1", describe(f))
	}
	c.ws.CloseNow()
	r.stop()

	// Three days ago: two conversations with one envelope each.
	past := time.Now().Add(-72 * time.Hour)
	expired, active := newVisitor(t, r.site), newVisitor(t, r.site)
	expired.recipients, active.recipients = fresh.recipients, fresh.recipients
	expiredEnv := expired.seal(t, 1, "alt "+newSentinel("Sentinel"))
	activeEnv1 := active.seal(t, 1, "alt, aber aktiv "+newSentinel("Sentinel"))
	activeEnv2 := active.seal(t, 2, "heute wieder "+newSentinel("Sentinel"))
	dbPath := filepath.Join(dataDir, "siegel.db")
	ctx := context.Background()
	withStore := func(now time.Time, fn func(st *store.Store)) {
		st, err := store.Open(store.Options{Path: dbPath, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatalf("open the relay's database: %v", err)
		}
		fn(st)
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	withStore(past, func(st *store.Store) {
		for _, v := range []struct {
			v   *visitor
			env []byte
		}{{expired, expiredEnv}, {active, activeEnv1}} {
			if _, _, err := st.EnsureConversation(ctx, r.site, v.v.conv, v.v.id.SignKey()); err != nil {
				t.Fatalf("create a conversation three days ago: %v", err)
			}
			if _, err := st.Append(ctx, r.site, v.v.conv, v.v.id.SignKey(), 1, v.env); err != nil {
				t.Fatalf("append three days ago: %v", err)
			}
		}
	})
	withStore(time.Now(), func(st *store.Store) {
		if _, err := st.Append(ctx, r.site, active.conv, active.id.SignKey(), 2, activeEnv2); err != nil {
			t.Fatalf("append now: %v", err)
		}
	})

	r = startRelayAt(t, dataDir, addr, demoAddr, flags...)
	eventually(t, "the sweeper erases the expired conversation", func() (bool, string) {
		lines := relayLogLines(r, "retention sweep")
		return len(lines) == 1 && strings.Contains(lines[0], "erased=1"), fmt.Sprintf("log lines %q", lines)
	})
	waitCompaction(t, r, 0, time.Now())
	time.Sleep(1500 * time.Millisecond) // several more sweeps
	if lines := relayLogLines(r, "retention sweep"); len(lines) != 1 {
		t.Errorf("the sweeper logged %d erasures, want only the first: %q", len(lines), lines)
	}

	// Through the relay: the expired one is gone, the others are there.
	checkHelloGone(t, r, expired.id)
	for _, x := range []struct {
		name string
		v    *visitor
		envs [][]byte
	}{{"fresh", fresh, [][]byte{freshEnv}}, {"active", active, [][]byte{activeEnv1, activeEnv2}}} {
		c := connect(t, r)
		w := x.v.join(c, r, 0)
		got := c.replay(x.v.conv)
		if w.AckedSeq != uint64(len(x.envs)) || len(got) != len(x.envs) {
			t.Errorf("the %s conversation after the sweeps: acked seq %d, %d envelopes replayed, want %d", x.name, w.AckedSeq, len(got), len(x.envs))
		}
		for i := range min(len(got), len(x.envs)) {
			if !bytes.Equal(got[i].Envelope, x.envs[i]) {
				t.Errorf("the %s conversation's envelope %d differs after the sweeps", x.name, i+1)
			}
		}
		c.ws.CloseNow()
	}

	r.stop()
	checkNoCompactLeftover(t, r)
	for _, f := range dataFilesWith(t, dataDir, slices32(t, expiredEnv)) {
		t.Errorf("ERASED BYTES REMAIN: a piece of the expired conversation's envelope is in %s", f)
	}
	db := dirFiles(t, dataDir)[dbPath]
	for _, e := range [][]byte{freshEnv, activeEnv1, activeEnv2} {
		if !bytes.Contains(db, e) {
			t.Errorf("an envelope of a kept conversation is not in the database file")
		}
	}
	checkErased(t, r, expired.conv, store.EraseRetention)
	st := relayStore(t, r)
	for _, v := range []*visitor{fresh, active} {
		if _, err := st.Conversation(r.site, v.conv); err != nil {
			t.Errorf("a kept conversation is not in the database: %v", err)
		}
	}
	if site, err := st.Site(r.site); err != nil || site.RetentionDays != 1 {
		t.Errorf("the demo site has retention %d days (err %v), want 1", site.RetentionDays, err)
	}
	checkLog(t, r)
}
