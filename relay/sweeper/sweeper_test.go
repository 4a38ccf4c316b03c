package sweeper

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"siegel/relay/store"
	"siegel/shared/ids"
)

var bg = context.Background()

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func randSite(t *testing.T) ids.SiteID { return ids.SiteID(randomBytes(t, 16)) }
func randConv(t *testing.T) ids.ConvID { return ids.ConvID(randomBytes(t, 16)) }
func randKey(t *testing.T) ids.Key     { return ids.Key(randomBytes(t, 32)) }

func openStore(t *testing.T, dir string, now func() time.Time) *store.Store {
	t.Helper()
	st, err := store.Open(store.Options{Path: filepath.Join(dir, "relay.db"), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func putSite(t *testing.T, st *store.Store, days int) ids.SiteID {
	t.Helper()
	site := store.Site{ID: randSite(t), Name: "Shop", Owner: randKey(t), RetentionDays: days}
	if err := st.PutSite(bg, site); err != nil {
		t.Fatal(err)
	}
	return site.ID
}

// newConv creates a conversation with one envelope (if raw is set) and returns it.
func newConv(t *testing.T, st *store.Store, site ids.SiteID, raw []byte) ids.ConvID {
	t.Helper()
	conv, visitor := randConv(t), randKey(t)
	if _, _, err := st.EnsureConversation(bg, site, conv, visitor); err != nil {
		t.Fatal(err)
	}
	if raw != nil {
		if _, err := st.Append(bg, site, conv, visitor, 1, raw); err != nil {
			t.Fatal(err)
		}
	}
	return conv
}

func exists(t *testing.T, st *store.Store, site ids.SiteID, conv ids.ConvID) bool {
	t.Helper()
	_, err := st.Conversation(site, conv)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// Retention with an injected clock: expired conversations go, others stay, per
// the retention period of their site (7 days; 0 = the default 30 days).
func TestSweepOnce(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	c := &clock{t: t0}
	st := openStore(t, t.TempDir(), c.Now)
	week, dflt := putSite(t, st, 7), putSite(t, st, 0)
	quiet := newConv(t, st, week, nil) // last activity t0, kept 7 days
	c.Set(t0.Add(5 * 24 * time.Hour))
	talked := newConv(t, st, week, []byte("hallo")) // last activity t0 + 5 days
	c.Set(t0)
	month := newConv(t, st, dflt, []byte("guten Tag")) // last activity t0, kept 30 days
	sw := &Sweeper{Store: st, Now: c.Now}

	steps := []struct {
		at   time.Duration
		n    int
		gone []ids.ConvID
		kept []ids.ConvID
	}{
		{6 * 24 * time.Hour, 0, nil, []ids.ConvID{quiet, talked, month}},
		{7*24*time.Hour + time.Hour, 1, []ids.ConvID{quiet}, []ids.ConvID{talked, month}},
		{12*24*time.Hour + time.Hour, 1, []ids.ConvID{quiet, talked}, []ids.ConvID{month}},
		{29 * 24 * time.Hour, 0, []ids.ConvID{quiet, talked}, []ids.ConvID{month}},
		{30*24*time.Hour + time.Hour, 1, []ids.ConvID{quiet, talked, month}, nil},
		{40 * 24 * time.Hour, 0, []ids.ConvID{quiet, talked, month}, nil},
	}
	for _, s := range steps {
		c.Set(t0.Add(s.at))
		n, err := sw.SweepOnce(bg)
		if err != nil || n != s.n {
			t.Fatalf("day %.1f: SweepOnce = %d, %v; want %d", s.at.Hours()/24, n, err, s.n)
		}
		for _, conv := range s.gone {
			site := week
			if conv == month {
				site = dflt
			}
			if exists(t, st, site, conv) {
				t.Fatalf("day %.1f: expired conversation kept", s.at.Hours()/24)
			}
			if ok, _ := st.Tombstoned(site, conv); !ok {
				t.Fatalf("day %.1f: expired conversation without tombstone", s.at.Hours()/24)
			}
		}
		for _, conv := range s.kept {
			site := week
			if conv == month {
				site = dflt
			}
			if !exists(t, st, site, conv) {
				t.Fatalf("day %.1f: conversation erased before its time", s.at.Hours()/24)
			}
		}
	}
	for site, want := range map[ids.SiteID]int{week: 2, dflt: 1} {
		audit, err := st.Audit(site)
		if err != nil || len(audit) != want {
			t.Fatalf("audit: %+v %v", audit, err)
		}
		for _, a := range audit {
			if a.Reason != store.EraseRetention {
				t.Fatalf("audit reason %v", a.Reason)
			}
		}
	}
	if err := st.Check(); err != nil {
		t.Fatal(err)
	}
}

// Many expired conversations are erased in one sweep.
func TestSweepMany(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	c := &clock{t: t0}
	st := openStore(t, t.TempDir(), c.Now)
	site := putSite(t, st, 1)
	for range 150 {
		newConv(t, st, site, []byte("x"))
	}
	c.Set(t0.Add(2 * 24 * time.Hour))
	n, err := (&Sweeper{Store: st, Now: c.Now}).SweepOnce(bg)
	if err != nil || n != 150 {
		t.Fatalf("SweepOnce = %d %v", n, err)
	}
	if list, _ := st.Conversations(site, 0); len(list) != 0 {
		t.Fatalf("%d conversations left", len(list))
	}
}

// syncBuffer is a log sink for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fileHas reports whether any file in dir contains needle.
func fileHas(t *testing.T, dir string, needle []byte) bool {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil && !errors.Is(err, os.ErrNotExist) { // a compaction may rename meanwhile
			t.Fatal(err)
		}
		if bytes.Contains(b, needle) {
			return true
		}
	}
	return false
}

// Run: retention erases on its own, and every deletion — the sweeper's or a
// visitor's — is followed by a compaction within CompactWithin that leaves none of
// the deleted bytes in the data folder. The log holds no ID, key or content.
func TestRunErasesAndCompacts(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Now()
	c := &clock{t: t0}
	st := openStore(t, dir, c.Now)
	site := putSite(t, st, 1)
	sample := func() []byte { return randomBytes(t, 32) }
	expiredEnv := bytes.Repeat(sample(), 8)
	visitorEnv := bytes.Repeat(sample(), 8)
	keptEnv := bytes.Repeat(sample(), 8)
	c.Set(t0.Add(-3 * 24 * time.Hour))
	expired := newConv(t, st, site, expiredEnv)
	c.Set(t0)
	byVisitor := newConv(t, st, site, visitorEnv)
	kept := newConv(t, st, site, keptEnv)

	var logs syncBuffer
	within := 400 * time.Millisecond
	sw := &Sweeper{Store: st, Now: c.Now, Interval: 50 * time.Millisecond, CompactWithin: within,
		Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	ctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	go func() {
		sw.Run(ctx)
		close(done)
	}()
	defer func() {
		cancel()
		<-done
	}()

	// waitGone waits until the bytes are gone from the data folder and a
	// compaction was logged after mark; it returns how long that took.
	waitGone := func(what string, raw []byte, start time.Time, compactions int) time.Duration {
		t.Helper()
		for {
			gone := !fileHas(t, dir, raw[:32])
			if gone && strings.Count(logs.String(), "msg=compacted") >= compactions {
				return time.Since(start)
			}
			if time.Since(start) > 10*within {
				t.Fatalf("%s: bytes still in the data folder (gone %v) after %v; log:\n%s", what, gone, time.Since(start), logs.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	start := time.Now()
	took := waitGone("retention", expiredEnv, start, 1)
	t.Logf("retention erasure and compaction done %v after Run started", took)
	if exists(t, st, site, expired) {
		t.Fatal("expired conversation still there")
	}
	if took > sw.Interval+within+within/2 { // the first sweep runs at once
		t.Errorf("retention compaction took %v, more than interval %v + bound %v", took, sw.Interval, within)
	}

	// A visitor's erasure: compacted within the bound too.
	start = time.Now()
	if err := st.Erase(bg, site, byVisitor, store.EraseVisitor, &store.Authorization{Signer: randKey(t), Counter: 1}); err != nil {
		t.Fatal(err)
	}
	took = waitGone("visitor erasure", visitorEnv, start, 2)
	t.Logf("visitor erasure compacted %v after the erasure", took)
	if took > within+within/2 {
		t.Errorf("compaction after the visitor's erasure took %v, bound %v", took, within)
	}
	if !exists(t, st, site, kept) || !fileHas(t, dir, keptEnv[:32]) {
		t.Fatal("the conversation that is not expired was lost")
	}
	cancel()
	<-done

	out := logs.String()
	t.Logf("log:\n%s", out)
	for _, id := range [][]byte{site[:], expired[:], byVisitor[:], kept[:]} {
		for _, form := range []string{string(id), hex.EncodeToString(id), ids.ConvID(id).String(), ids.SiteID(id).String()} {
			if strings.Contains(out, form) {
				t.Fatalf("an ID is in the log: %q", form)
			}
		}
	}
	if !strings.Contains(out, "erased=1") {
		t.Fatalf("no retention count in the log:\n%s", out)
	}
}

// Run returns when its context ends, also while a compaction waits.
func TestRunStops(t *testing.T) {
	st := openStore(t, t.TempDir(), nil)
	site := putSite(t, st, 0)
	conv := newConv(t, st, site, []byte("x"))
	if err := st.Erase(bg, site, conv, store.EraseRetention, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	go func() {
		(&Sweeper{Store: st}).Run(ctx) // default interval and bound: a compaction is waiting
		close(done)
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
