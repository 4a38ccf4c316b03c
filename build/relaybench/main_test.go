package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as the benchmark's server child.
func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(childMain(role))
	}
	os.Exit(m.Run())
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50}, {99, 99}, {100, 100}, {0.5, 1}, {99.5, 100}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("percentile(1…100, %v) = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("percentile of one sample = %v, want 7", got)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile of no samples = %v, want 0", got)
	}
}

// result makes a load result of n delivered messages in one second with all
// round trips taking lat.
func result(n int, lat time.Duration) loadResult {
	r := loadResult{window: time.Second, acked: n, delivered: n}
	for range n {
		r.latencies = append(r.latencies, lat)
	}
	return r
}

func TestReportVerdicts(t *testing.T) {
	cfg := config{pairs: 1, duration: time.Second}
	echo := result(1000, 10*time.Millisecond)
	good := &report{
		echo: echo, relay: result(600, 11*time.Millisecond), noSync: result(700, 9*time.Millisecond),
		idle: 100, before: memory{rss: 10 << 20}, after: memory{rss: 10<<20 + 100*20<<10},
	}
	var out bytes.Buffer
	if missed := good.print(&out, cfg); missed != 0 {
		t.Errorf("report within budgets: %d missed\n%s", missed, out.String())
	}
	if strings.Contains(out.String(), "MISSED") {
		t.Errorf("report within budgets says MISSED:\n%s", out.String())
	}

	bad := &report{
		// 40 % of echo, p99 1.5×, fsync on/off 50 %, 40 KB per connection,
		// and 10 acknowledged envelopes that never reached the agent.
		echo: echo, relay: result(400, 15*time.Millisecond), noSync: result(800, 9*time.Millisecond),
		idle: 100, before: memory{rss: 10 << 20}, after: memory{rss: 10<<20 + 100*40<<10},
	}
	bad.relay.acked += 10
	out.Reset()
	if missed := bad.print(&out, cfg); missed != 5 {
		t.Errorf("report missing every budget: %d missed, want 5\n%s", missed, out.String())
	}
}

// TestMeasureSmall runs the whole benchmark at a tiny scale: every server
// child starts, every pair's messages are acknowledged and delivered, and the
// idle connections show in the relay's goroutines.
func TestMeasureSmall(t *testing.T) {
	cfg := config{duration: 400 * time.Millisecond, warmup: 100 * time.Millisecond, rounds: 2, pairs: 3, idle: 20}
	var log bytes.Buffer
	rep, err := measure(context.Background(), cfg, &log)
	if err != nil {
		t.Fatalf("measure: %v\n%s", err, log.String())
	}
	for _, x := range []struct {
		name string
		r    loadResult
	}{{"echo", rep.echo}, {"relay", rep.relay}, {"relay without fsync", rep.noSync}} {
		if x.r.acked == 0 || x.r.delivered != x.r.acked || len(x.r.latencies) != x.r.acked {
			t.Errorf("%s: acked %d, delivered %d, %d latencies", x.name, x.r.acked, x.r.delivered, len(x.r.latencies))
		}
		if x.r.window != cfg.duration {
			t.Errorf("%s: measured %v, want %v", x.name, x.r.window, cfg.duration)
		}
	}
	if rep.idle != cfg.idle {
		t.Errorf("idle connections: %d, want %d", rep.idle, cfg.idle)
	}
	// Each session has at least its reading goroutine.
	if g := rep.after.goroutines - rep.before.goroutines; g < cfg.idle {
		t.Errorf("relay goroutines grew by %d with %d idle connections", g, cfg.idle)
	}
	if rep.frameSize < 1024 || rep.frameSize > 2048 {
		t.Errorf("Send frame of %d bytes, want a 1 KB-bucket envelope", rep.frameSize)
	}
}
