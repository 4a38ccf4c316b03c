// Command relaybench prints the relay's performance report: the relay budgets of
// the design (throughput, cost of durability, acknowledgement latency, memory per
// idle connection), each figure as a ratio to a limit measured in the same run,
// since absolute times on a shared machine mean little.
//
//	go run ./build/relaybench [-duration 5s] [-warmup 1s] [-rounds 5] [-pairs 100] [-idle 10000] [-check]
//	                          [-cpuprofile FILE] [-memprofile FILE]
//
// It measures, all on 127.0.0.1, each server in a child process of its own:
//
//  1. a raw coder/websocket echo server driven by the pairs (the limit);
//  2. the relay (store, hub and web packages as `relay serve` wires them, fsync
//     on) with one site per pair, each with a one-agent roster, a connected agent
//     and a visitor sending pre-sealed, signed envelopes of the 1 KB padding
//     bucket one at a time: envelopes acknowledged and delivered to the agent per
//     second, and the acknowledgement latency;
//  3. the same relay with fsync off;
//  4. the relay's resident memory per idle visitor connection (after Hello).
//
// The three load runs are interleaved in rounds, so that a change in the
// machine's background load affects them alike. It runs on Linux (it reads
// /proc/self/status). It is a report, not a test: it exits 0 whatever it
// measures unless -check is given, then 1 when a figure misses its budget.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"text/tabwriter"
	"time"

	"siegel/shared/protocol"
)

// Budgets (design, "Budgets").
const (
	budgetThroughput = 0.50 // relay (fsync) / echo throughput, at least
	stretchThroughpt = 0.70
	budgetP99        = 1.2  // relay ack p99 / echo round-trip p99, at most
	budgetDurability = 0.75 // relay fsync on / fsync off throughput, at least
	budgetIdleBytes  = 32 << 10
)

type config struct {
	duration, warmup time.Duration
	pairs, idle      int
	rounds           int
	check            bool
	cpuprofile       string
	memprofile       string
}

func main() {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(childMain(role))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses the flags, measures and prints the report; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg config
	fs := flag.NewFlagSet("relaybench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "measured time per server, cut into -rounds slices")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured warm-up time per server")
	fs.IntVar(&cfg.pairs, "pairs", 100, "concurrent sender–receiver pairs (visitor–agent pairs on the relay)")
	fs.IntVar(&cfg.rounds, "rounds", 5, "slices each measured time is cut into; the servers' slices alternate")
	fs.IntVar(&cfg.idle, "idle", 10000, "idle visitor connections for the memory figure (0: skip)")
	fs.BoolVar(&cfg.check, "check", false, "exit 1 when a figure misses its budget")
	fs.StringVar(&cfg.cpuprofile, "cpuprofile", "", "write the CPU profiles of the servers during the measured windows to FILE (relay, fsync on), FILE.nosync and FILE.echo")
	fs.StringVar(&cfg.memprofile, "memprofile", "", "write the heap profile of the relay with the idle connections open to FILE")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || cfg.pairs < 1 || cfg.idle < 0 || cfg.rounds < 1 || cfg.duration <= 0 || cfg.warmup < 0 {
		fmt.Fprintln(stderr, "relaybench: invalid arguments (see -h)")
		return 2
	}
	rep, err := measure(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "relaybench:", err)
		return 1
	}
	missed := rep.print(stdout, cfg)
	if cfg.check && missed > 0 {
		fmt.Fprintf(stderr, "relaybench: %d figure(s) miss their budget\n", missed)
		return 1
	}
	return 0
}

// report holds the measured figures.
type report struct {
	frameSize, envelopeSize int
	echo, relay, noSync     loadResult
	idle                    int // idle connections actually opened
	idleNote                string
	before, after           memory
}

func measure(ctx context.Context, cfg config, log io.Writer) (*report, error) {
	began := time.Now()
	progress := func(format string, a ...any) {
		fmt.Fprintf(log, "relaybench: [%4.1fs] "+format+"\n", append([]any{time.Since(began).Seconds()}, a...)...)
	}
	rep := &report{}
	// Descriptors: every pair has two connections per server; both ends live
	// on this machine, but each process counts only its own.
	need := cfg.idle + 6*cfg.pairs + 256
	got, err := raiseNoFile(uint64(need))
	if err != nil {
		return nil, fmt.Errorf("raise the open-files limit: %w", err)
	}
	if got < uint64(need) {
		rep.idleNote = fmt.Sprintf("lowered from %d: the open-files limit is %d", cfg.idle, got)
		cfg.idle = max(int(got)-6*cfg.pairs-256, 0)
	}
	dir, err := os.MkdirTemp("", "relaybench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	fx, err := newFixtures(cfg.pairs)
	if err != nil {
		return nil, err
	}
	// One envelope tells the frame size, which the echo messages match.
	if err := seal(fx[:1], 1); err != nil {
		return nil, err
	}
	rep.frameSize = len(fx[0].frames[0])
	rep.envelopeSize = rep.frameSize - protocol.HeaderSize

	progress("starting the echo server and two relays (fsync on, fsync off); %d pairs each", cfg.pairs)
	var targets [3]*target // echo, relay with fsync, relay without
	defer func() {
		for _, t := range targets {
			t.stop()
		}
	}()
	if targets[0], err = startEcho(ctx, cfg.pairs, rep.frameSize); err != nil {
		return nil, fmt.Errorf("echo: %w", err)
	}
	if targets[1], err = startRelay(ctx, fx, filepath.Join(dir, "fsync.db"), false); err != nil {
		return nil, fmt.Errorf("relay (fsync on): %w", err)
	}
	if targets[2], err = startRelay(ctx, fx, filepath.Join(dir, "nosync.db"), true); err != nil {
		return nil, fmt.Errorf("relay (fsync off): %w", err)
	}

	// The relays need pre-sealed envelopes, as many as they can acknowledge
	// in the run: sealing costs about as much CPU as verifying, so sealing far
	// more than needed would make the run long. A first batch gives the relay
	// without fsync (the faster one) a short run to estimate its rate; then the
	// rest is sealed with a wide margin (and a sender that still runs out is
	// reported).
	progress("estimating the relay's rate")
	if err := seal(fx, seedEnvelopes); err != nil {
		return nil, err
	}
	targets[1].load.limit, targets[2].load.limit = seedEnvelopes, seedEnvelopes
	t0 := time.Now()
	if err := targets[2].load.run(ctx, max(cfg.warmup, 500*time.Millisecond), grace, false); err != nil {
		return nil, fmt.Errorf("%s: %w", targets[2].name, err)
	}
	estimate := float64(targets[2].load.sent()) / time.Since(t0).Seconds()
	perPair := int(math.Ceil(estimate*rateMargin*(cfg.warmup+cfg.duration).Seconds()/float64(cfg.pairs))) + 2*seedEnvelopes
	progress("sealing %d envelopes (%d per pair; estimated rate %.0f/s)", perPair*cfg.pairs, perPair, estimate)
	if err := seal(fx, perPair); err != nil {
		return nil, err
	}
	targets[1].load.limit, targets[2].load.limit = perPair, perPair
	runtime.GC()

	progress("warming up (%v per server)", cfg.warmup)
	for _, t := range targets {
		if err := t.load.run(ctx, cfg.warmup, grace, false); err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
	}
	slice := cfg.duration / time.Duration(cfg.rounds)
	progress("measuring: %d rounds of %v per server, interleaved", cfg.rounds, slice)
	if cfg.cpuprofile != "" {
		for _, t := range targets {
			if _, err := t.child.call("prof-start " + cfg.cpuprofile + t.profile); err != nil {
				return nil, err
			}
		}
	}
	// A server is idle while the others run: its CPU time over all rounds is
	// what its measured slices (and their grace) cost.
	var cpu [len(targets)]time.Duration
	for i, t := range targets {
		if cpu[i], err = t.child.cpu(); err != nil {
			return nil, err
		}
	}
	for r := range cfg.rounds {
		for i := range targets {
			t := targets[(r+i)%len(targets)]
			if err := t.load.run(ctx, slice, grace, true); err != nil {
				return nil, fmt.Errorf("%s: %w", t.name, err)
			}
		}
	}
	for i, t := range targets {
		end, err := t.child.cpu()
		if err != nil {
			return nil, err
		}
		cpu[i] = end - cpu[i]
	}
	if cfg.cpuprofile != "" {
		for _, t := range targets {
			if _, err := t.child.call("prof-stop"); err != nil {
				return nil, err
			}
		}
	}
	results := make([]loadResult, len(targets))
	for i, t := range targets {
		if results[i], err = t.load.finish(ctx, grace); err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		t.stop()
		targets[i] = nil
	}
	for i := range results {
		results[i].cpu = cpu[i]
	}
	rep.echo, rep.relay, rep.noSync = results[0], results[1], results[2]
	for _, f := range fx[1:] {
		f.frames = nil
	}
	runtime.GC()

	if cfg.idle > 0 {
		progress("opening %d idle visitor connections to a fresh relay", cfg.idle)
		t0 := time.Now()
		if err := runIdle(ctx, cfg, fx[0], filepath.Join(dir, "idle.db"), rep); err != nil {
			return nil, fmt.Errorf("idle connections: %w", err)
		}
		progress("idle connections measured in %.1fs", time.Since(t0).Seconds())
	}
	progress("done")
	return rep, nil
}

// seedEnvelopes are sealed per pair before the relay's rate is known; the
// relays get rateMargin times the estimated rate.
const (
	seedEnvelopes = 32
	rateMargin    = 4
)

// grace is how long an open round trip may take after its slice ends, and how
// long the receivers may take to catch up at the end.
const grace = 10 * time.Second

// target is a server under load: its child process, connected pairs and load.
type target struct {
	name    string
	profile string // suffix of its CPU profile file
	child   *child
	load    *load
}

func (t *target) stop() {
	if t == nil {
		return
	}
	if t.load != nil {
		for _, p := range t.load.pairs {
			p.close()
		}
	}
	t.child.stop()
}

func startEcho(ctx context.Context, pairs, size int) (*target, error) {
	c, err := startChild("echo")
	if err != nil {
		return nil, err
	}
	t := &target{name: "echo", profile: ".echo", child: c, load: newLoad(nil, math.MaxInt)}
	for i := range pairs {
		p, err := dialEchoPair(ctx, c.addr, i, size)
		if err != nil {
			t.stop()
			return nil, err
		}
		t.load.pairs = append(t.load.pairs, p)
	}
	t.load.state = make([]pairState, len(t.load.pairs))
	return t, nil
}

// startRelay starts a relay on a new database holding the fixtures' sites and
// connects their agents and visitors. Its load has no messages until sealed.
func startRelay(ctx context.Context, fx []*fixture, db string, noSync bool) (*target, error) {
	if err := prepareDB(db, fx); err != nil {
		return nil, fmt.Errorf("prepare database: %w", err)
	}
	t := &target{name: "relay (fsync on)", profile: ""}
	sync := "0"
	if noSync {
		t.name, t.profile, sync = "relay (fsync off)", ".nosync", "1"
	}
	c, err := startChild("relay", childDB+"="+db, childSync+"="+sync)
	if err != nil {
		return nil, err
	}
	t.child, t.load = c, newLoad(nil, 0)
	for _, f := range fx {
		p, err := dialRelayPair(ctx, c.addr, f)
		if err != nil {
			t.stop()
			return nil, err
		}
		t.load.pairs = append(t.load.pairs, p)
	}
	t.load.state = make([]pairState, len(t.load.pairs))
	return t, nil
}

// raiseNoFile raises the soft limit of open files to need (at most the hard
// limit) and returns the new soft limit. Child processes inherit it.
func raiseNoFile(need uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur >= need {
		return lim.Cur, nil
	}
	lim.Cur = min(need, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return lim.Cur, nil
}

func runIdle(ctx context.Context, cfg config, f *fixture, db string, rep *report) error {
	if err := prepareDB(db, []*fixture{f}); err != nil {
		return fmt.Errorf("prepare database: %w", err)
	}
	c, err := startChild("relay", childDB+"="+db, childConns+"="+fmt.Sprint(cfg.idle+16))
	if err != nil {
		return err
	}
	defer c.stop()
	// Warm the relay up with one connection, so that one-time costs (first
	// session, first write transaction) are in the baseline.
	warm, err := idleConns(ctx, c.addr, f.site, 1)
	if err != nil {
		return err
	}
	closeAll(warm)
	time.Sleep(100 * time.Millisecond)
	if rep.before, err = c.memory(); err != nil {
		return err
	}
	conns, err := idleConns(ctx, c.addr, f.site, cfg.idle)
	if err != nil {
		return err
	}
	defer closeAll(conns)
	time.Sleep(100 * time.Millisecond) // let the sessions settle after their Welcome
	if rep.after, err = c.memory(); err != nil {
		return err
	}
	if cfg.memprofile != "" {
		if _, err := c.call("heap " + cfg.memprofile); err != nil {
			return err
		}
	}
	rep.idle = cfg.idle
	return nil
}

// print writes the report and returns the number of figures that miss their budget.
func (r *report) print(w io.Writer, cfg config) int {
	missed := 0
	verdict := func(ok bool) string {
		if ok {
			return "ok"
		}
		missed++
		return "MISSED"
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(w, "Relay performance report: %d pairs, %v warm-up + %v measured per run, %d CPUs, loopback\n",
		cfg.pairs, cfg.warmup, cfg.duration, runtime.NumCPU())
	fmt.Fprintf(w, "Messages: %d-byte Send frames (a %d-byte envelope: %d bytes of text in the 1 KB padding bucket, 2 recipients); the echo messages have the same size.\n\n",
		r.frameSize, r.envelopeSize, contentSize)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\tmsgs/s\tp50\tp99\tacked\tdelivered\tCPU/msg: server\tclients\t")
	row := func(name string, x loadResult) {
		note := ""
		if x.exhausted {
			note = "  (ran out of prepared envelopes: at least this)"
		}
		perMsg := func(cpu time.Duration) string {
			if x.acked == 0 || cpu <= 0 {
				return "-"
			}
			return fmt.Sprintf("%.0f µs", float64(cpu)/float64(time.Microsecond)/float64(x.acked))
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", name, x.rate(), ms(x.percentile(50)), ms(x.percentile(99)),
			x.acked, x.delivered, perMsg(x.cpu), perMsg(x.clientCPU), note)
	}
	row("1. raw echo (bounce + forward)", r.echo)
	row("2. relay, fsync on", r.relay)
	row("3. relay, fsync off", r.noSync)
	tw.Flush()
	fmt.Fprintln(w)

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tvalue\tbudget\t\t")
	thr := ratio(r.relay.rate(), r.echo.rate())
	stretch := ""
	if thr >= stretchThroughpt {
		stretch = " (stretch reached)"
	}
	fmt.Fprintf(tw, "relay (fsync on) / echo throughput\t%.0f %%\t≥ %.0f %% (stretch %.0f %%)\t%s%s\t\n",
		100*thr, 100*budgetThroughput, 100*stretchThroughpt, verdict(thr >= budgetThroughput), stretch)
	p99 := ratio(float64(r.relay.percentile(99)), float64(r.echo.percentile(99)))
	fmt.Fprintf(tw, "relay ack p99 / echo round-trip p99\t%.2f×\t≤ %.1f×\t%s\t\n", p99, budgetP99, verdict(p99 <= budgetP99))
	dur := ratio(r.relay.rate(), r.noSync.rate())
	fmt.Fprintf(tw, "relay fsync on / fsync off throughput\t%.0f %%\t≥ %.0f %%\t%s\t\n", 100*dur, 100*budgetDurability, verdict(dur >= budgetDurability))
	fmt.Fprintf(tw, "relay (fsync off) / echo throughput\t%.0f %%\t(information)\t\t\n", 100*ratio(r.noSync.rate(), r.echo.rate()))
	for _, x := range []struct {
		name string
		res  loadResult
	}{{"relay, fsync on", r.relay}, {"relay, fsync off", r.noSync}} {
		if x.res.delivered < x.res.acked {
			fmt.Fprintf(tw, "%s: acknowledged but not delivered to the agent\t%d\t0\t%s\t\n", x.name, x.res.acked-x.res.delivered, verdict(false))
		}
	}
	if r.idle > 0 {
		per := float64(r.after.rss-r.before.rss) / float64(r.idle)
		fmt.Fprintf(tw, "relay RSS per idle connection (%d open)\t%.1f KB\t≤ %d KB\t%s\t\n", r.idle, per/1024, budgetIdleBytes>>10, verdict(per <= budgetIdleBytes))
	}
	tw.Flush()
	if r.idle > 0 {
		n := float64(r.idle)
		fmt.Fprintf(w, "\nIdle connections: VmRSS %.1f → %.1f MB; per connection: heap %.1f KB, goroutine stacks %.1f KB, %.2f goroutines.\n",
			mb(r.before.rss), mb(r.after.rss),
			float64(r.after.heap-r.before.heap)/n/1024, float64(r.after.stack-r.before.stack)/n/1024,
			float64(r.after.goroutines-r.before.goroutines)/n)
		if r.idleNote != "" {
			fmt.Fprintf(w, "(idle connections %s)\n", r.idleNote)
		}
	}
	return missed
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }
