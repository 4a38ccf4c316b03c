package app

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"siegel/relay/store"
	"siegel/relay/sweeper"
	"siegel/shared/ids"
)

func parseServeFlags(t *testing.T, args ...string) (serveFlags, error) {
	t.Helper()
	var f serveFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	f.register(fs)
	if err := parseFlags(fs, args, io.Discard); err != nil {
		return f, err
	}
	return f, f.check()
}

func TestServeFlags(t *testing.T) {
	f, err := parseServeFlags(t)
	if err != nil {
		t.Fatal(err)
	}
	if f.retentionDays != 0 || f.compactWithin != 60*time.Second || f.sweepInterval != time.Minute {
		t.Fatalf("defaults: retention %d, compact within %v, sweep interval %v", f.retentionDays, f.compactWithin, f.sweepInterval)
	}
	f, err = parseServeFlags(t, "-retention-days", "7", "-compact-within", "5s", "-sweep-interval", "250ms")
	if err != nil {
		t.Fatal(err)
	}
	if f.retentionDays != 7 || f.compactWithin != 5*time.Second || f.sweepInterval != 250*time.Millisecond {
		t.Fatalf("parsed: %+v", f)
	}
	if c := f.sweepConfig(); c.interval != 250*time.Millisecond || c.compactWithin != 5*time.Second {
		t.Fatalf("sweep config %+v", c)
	}
	for _, bad := range [][]string{
		{"-retention-days", "-1"},
		{"-retention-days", "36501"},
		{"-compact-within", "0s"},
		{"-compact-within", "-1s"},
		{"-sweep-interval", "0s"},
	} {
		if _, err := parseServeFlags(t, bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
		// The command refuses it before it opens anything.
		data := filepath.Join(t.TempDir(), "data")
		var stdout, stderr bytes.Buffer
		args := append([]string{"serve", "-data", data, "-addr", "127.0.0.1:0"}, bad...)
		if code := Main(context.Background(), args, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), bad[0]) {
			t.Errorf("%v: exit %d, stderr %q", bad, code, stderr.String())
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("%v: data folder created: %v", bad, err)
		}
	}
}

func TestSetRetention(t *testing.T) {
	st := openDemoStore(t, t.TempDir())
	ctx := context.Background()
	a := store.Site{ID: ids.SiteID{1}, Name: "a", Origins: []string{"https://a.example"}, Owner: ids.Key{1}, PrivacyURL: "https://a.example/p", Created: 5}
	b := store.Site{ID: ids.SiteID{2}, Name: "b", Origins: []string{"https://b.example"}, Owner: ids.Key{2}, RetentionDays: 90}
	for _, s := range []store.Site{a, b} {
		if err := st.PutSite(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := setRetention(ctx, st, 7, a.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Site(a.ID)
	want := a
	want.RetentionDays = 7
	if got.Name != want.Name || got.RetentionDays != 7 || got.PrivacyURL != want.PrivacyURL || got.Created != 5 || got.Owner != want.Owner {
		t.Fatalf("site a after setRetention: %+v", got)
	}
	if got, _ := st.Site(b.ID); got.RetentionDays != 90 {
		t.Fatalf("site b changed: %+v", got)
	}
	if err := setRetention(ctx, st, 3, a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []ids.SiteID{a.ID, b.ID} {
		if got, _ := st.Site(id); got.RetentionDays != 3 {
			t.Fatalf("site %v: retention %d, want 3", id, got.RetentionDays)
		}
	}
	if err := setRetention(ctx, st, 3, ids.SiteID{9}); err == nil {
		t.Fatal("unknown site accepted")
	}
}

// syncBuffer is a bytes.Buffer safe for the relay's goroutines.
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

// relay demo -retention-days sets the demo site's retention period and prints
// it with the rights page; the relay (with its sweeper) stops cleanly.
func TestDemoRetention(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	run := func(extra ...string) string {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var stdout, stderr syncBuffer
		done := make(chan int, 1)
		args := append([]string{"demo", "-data", data, "-addr", "127.0.0.1:0", "-demo-addr", "127.0.0.1:0",
			"-sweep-interval", "50ms", "-compact-within", "1s"}, extra...)
		go func() { done <- Main(ctx, args, &stdout, &stderr) }()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(stdout.String(), "owner key fingerprint: ") {
			select {
			case code := <-done:
				t.Fatalf("demo exited with %d: %s", code, stderr.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("demo not ready: %s", stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // a few sweeps
		cancel()
		if code := <-done; code != 0 {
			t.Fatalf("demo exit code %d: %s", code, stderr.String())
		}
		return stdout.String()
	}
	out := run()
	if !strings.Contains(out, "retention: 30 days\n") {
		t.Fatalf("stdout without the default retention:\n%s", out)
	}
	state := readDemoState(t, data)
	if !strings.Contains(out, "/rights?site="+state.Site+"&owner=") {
		t.Fatalf("stdout without the rights page:\n%s", out)
	}
	out = run("-retention-days", "7")
	if !strings.Contains(out, "retention: 7 days\n") {
		t.Fatalf("stdout without the set retention:\n%s", out)
	}
	st := openDemoStore(t, data)
	site, _ := ids.ParseSiteID(state.Site)
	rec, err := st.Site(site)
	if err != nil || rec.RetentionDays != 7 {
		t.Fatalf("demo site %+v %v", rec, err)
	}
}

// The sweeper's erasures reach the hub (which pushes Erased): expired
// conversations go and are reported, others stay.
func TestSweepStoreReportsErasures(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	st, err := store.Open(store.Options{Path: filepath.Join(t.TempDir(), "t.db"), NoSync: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	site := ids.SiteID{1}
	if err := st.PutSite(ctx, store.Site{ID: site, Name: "s", Origins: []string{"https://s.example"}, Owner: ids.Key{1}, RetentionDays: 2}); err != nil {
		t.Fatal(err)
	}
	old, fresh := ids.ConvID{1}, ids.ConvID{2}
	if _, _, err := st.EnsureConversation(ctx, site, old, ids.Key{7}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(48 * time.Hour)
	mu.Unlock()
	if _, _, err := st.EnsureConversation(ctx, site, fresh, ids.Key{8}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()

	type erased struct {
		site ids.SiteID
		conv ids.ConvID
	}
	var got []erased
	sw := &sweeper.Sweeper{Store: sweepStore{st, func(s ids.SiteID, c ids.ConvID) { got = append(got, erased{s, c}) }}, Now: clock}
	n, err := sw.SweepOnce(ctx)
	if err != nil || n != 1 {
		t.Fatalf("SweepOnce = %d, %v", n, err)
	}
	if len(got) != 1 || got[0] != (erased{site, old}) {
		t.Fatalf("reported erasures %+v", got)
	}
	if _, err := st.Conversation(site, old); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired conversation: %v", err)
	}
	if _, err := st.Conversation(site, fresh); err != nil {
		t.Fatalf("fresh conversation: %v", err)
	}
	// Nothing more to erase, nothing reported.
	if n, err := sw.SweepOnce(ctx); err != nil || n != 0 || len(got) != 1 {
		t.Fatalf("second sweep: %d %v %+v", n, err, got)
	}
}
