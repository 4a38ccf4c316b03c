// Package app implements the relay's subcommands.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"siegel/relay/hub"
	"siegel/relay/store"
	"siegel/relay/sweeper"
	"siegel/relay/web"
	"siegel/relay/web/views"
	"siegel/shared/ids"
	webfs "siegel/web"
)

const usage = `Usage: relay <command> [flags]

Commands:
  serve     run the relay for the sites in the database
  demo      run the relay with a ready demo site, agent and host page on loopback
  check     check the integrity of a database
  backup    write a consistent copy of a running or stopped database
  flow      check bot flow documents: relay flow check FILE...
  roster    list, add or remove a site's agents (relay stopped): relay roster [flags] list|add|remove
  help      show this text

Run "relay <command> -h" for the flags of a command.
`

// Main runs the relay command line and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], stdout, stderr)
	case "demo":
		err = cmdDemo(ctx, args[1:], stdout, stderr)
	case "check":
		err = cmdCheck(args[1:], stdout, stderr)
	case "backup":
		err = cmdBackup(args[1:], stdout, stderr)
	case "flow":
		err = cmdFlow(args[1:], stdout, stderr)
	case "roster":
		return cmdRoster(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "relay: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "relay %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

// serveFlags are the flags shared by serve and demo.
type serveFlags struct {
	addr      string
	data      string
	publicURL string
	noSync    bool
	// retentionDays, if > 0, is set as the retention period of the sites
	// (serve: every site; demo: the demo site). 0 keeps the stored setting.
	retentionDays int
	compactWithin time.Duration
	sweepInterval time.Duration
}

// Defaults of the sweeper flags.
const (
	defaultCompactWithin = 60 * time.Second
	defaultSweepInterval = time.Minute
)

func (f *serveFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port)")
	fs.StringVar(&f.data, "data", "./data", "folder of the database and demo files")
	fs.StringVar(&f.publicURL, "public-url", "", "the relay's URL as browsers reach it (default http://ADDR)")
	fs.BoolVar(&f.noSync, "unsafe-nosync", false, "do not fsync commits (benchmarks only: loses acknowledged data on a crash)")
	fs.IntVar(&f.retentionDays, "retention-days", 0, "set the retention period of the sites to `N` days (0: keep each site's setting, "+strconv.Itoa(store.DefaultRetentionDays)+" days if it has none)")
	fs.DurationVar(&f.compactWithin, "compact-within", defaultCompactWithin, "remove erased data from the database file within this `duration` of an erasure")
	fs.DurationVar(&f.sweepInterval, "sweep-interval", defaultSweepInterval, "how often to look for conversations past their site's retention period")
}

// check validates the flag values.
func (f *serveFlags) check() error {
	if f.retentionDays < 0 || f.retentionDays > store.MaxRetentionDays {
		return fmt.Errorf("invalid -retention-days %d: want 0 … %d", f.retentionDays, store.MaxRetentionDays)
	}
	if f.compactWithin <= 0 {
		return fmt.Errorf("invalid -compact-within %v: want a positive duration", f.compactWithin)
	}
	if f.sweepInterval <= 0 {
		return fmt.Errorf("invalid -sweep-interval %v: want a positive duration", f.sweepInterval)
	}
	return nil
}

func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return errUsage
	}
	return nil
}

func (f *serveFlags) public() (*url.URL, error) {
	raw := f.publicURL
	if raw == "" {
		raw = "http://" + f.addr
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid -public-url %q: want http(s)://host[:port]", raw)
	}
	return u, nil
}

func openStore(dir string, noSync bool) (*store.Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	st, err := store.Open(store.Options{Path: filepath.Join(dir, "siegel.db"), NoSync: noSync})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return st, nil
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f serveFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	f.register(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	pub, err := f.public()
	if err != nil {
		return err
	}
	st, err := openStore(f.data, f.noSync)
	if err != nil {
		return err
	}
	defer st.Close()
	logger := newLogger(stderr)
	if f.retentionDays > 0 {
		sites, err := st.Sites()
		if err != nil {
			return fmt.Errorf("read sites: %w", err)
		}
		list := make([]ids.SiteID, len(sites))
		for i, s := range sites {
			list[i] = s.ID
		}
		if err := setRetention(ctx, st, f.retentionDays, list...); err != nil {
			return err
		}
		logger.Info("retention period set", "days", f.retentionDays, "sites", len(list))
	}
	return serve(ctx, st, relayConfig{addr: f.addr, public: pub, sweep: f.sweepConfig()}, stdout, logger)
}

func (f *serveFlags) sweepConfig() sweepConfig {
	return sweepConfig{interval: f.sweepInterval, compactWithin: f.compactWithin}
}

// setRetention sets the retention period of the given sites to days, where it
// differs.
func setRetention(ctx context.Context, st *store.Store, days int, sites ...ids.SiteID) error {
	for _, id := range sites {
		s, err := st.Site(id)
		if err != nil {
			return fmt.Errorf("read site: %w", err)
		}
		if s.RetentionDays == days {
			continue
		}
		s.RetentionDays = days
		if err := st.PutSite(ctx, s); err != nil {
			return fmt.Errorf("set retention period: %w", err)
		}
	}
	return nil
}

// sweepConfig configures the sweeper (retention and compaction).
type sweepConfig struct {
	interval, compactWithin time.Duration
}

// relayConfig is what serve needs beyond the store.
type relayConfig struct {
	addr    string
	public  *url.URL
	demoKey []byte
	// demoKey2 is the second demo agent's key file (served at /demo/agent2.key).
	demoKey2 []byte
	// ready, if set, is called with the relay's listener address once it listens.
	ready func(addr string)
	// extra servers (the demo host page) run beside the relay and stop with it.
	extra []*http.Server
	sweep sweepConfig
}

// serve runs the relay until ctx ends.
func serve(ctx context.Context, st *store.Store, cfg relayConfig, stdout io.Writer, logger *slog.Logger) error {
	assets, err := web.LoadAssets(webfs.FS)
	if err != nil {
		return fmt.Errorf("load assets: %w", err)
	}
	if missing := assets.Missing(); len(missing) > 0 {
		logger.Warn("assets not built; run make build", "missing", strings.Join(missing, ","))
	}
	baseCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sessions := &hub.Server{Hub: hub.New(), Store: st, Log: logger}
	w := &web.Server{
		Sites:       st,
		Sessions:    sessions,
		Assets:      assets,
		PublicURL:   cfg.public,
		Log:         logger,
		DemoKey:     cfg.demoKey,
		DemoKey2:    cfg.demoKey2,
		BaseContext: baseCtx,
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           w.Routes(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		// The standard error log would print client addresses: drop it.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	errc := make(chan error, 1+len(cfg.extra))
	sw := &sweeper.Sweeper{Store: sweepStore{st, sessions.Hub.Erased}, Interval: cfg.sweep.interval,
		CompactWithin: cfg.sweep.compactWithin, Log: logger}
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		sw.Run(baseCtx)
	}()
	// The sweeper ends before the store is closed.
	defer func() {
		cancel()
		<-sweepDone
	}()
	// Listen on every address before saying the relay is ready, so that the
	// printed URLs (the demo page) answer at once.
	extraLns := make([]net.Listener, len(cfg.extra))
	for i, x := range cfg.extra {
		xl, err := net.Listen("tcp", x.Addr)
		if err != nil {
			ln.Close()
			for _, l := range extraLns[:i] {
				l.Close()
			}
			return fmt.Errorf("listen on %s: %w", x.Addr, err)
		}
		extraLns[i] = xl
	}
	go func() { errc <- srv.Serve(ln) }()
	for i, x := range cfg.extra {
		go func() { errc <- x.Serve(extraLns[i]) }()
	}
	logger.Info("relay listening", "addr", ln.Addr().String())
	if cfg.ready != nil {
		cfg.ready(ln.Addr().String())
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			cancel()
			srv.Close()
			return err
		}
	}
	logger.Info("shutting down")
	cancel() // ends WebSocket sessions
	shutCtx, shutCancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer shutCancel()
	srv.Shutdown(shutCtx)
	for _, x := range cfg.extra {
		x.Shutdown(shutCtx)
	}
	return nil
}

// sweepStore is the store as the sweeper sees it: each conversation it erases
// for retention is also erased from the connected clients (Erased pushes), as
// after an erase request.
type sweepStore struct {
	*store.Store
	erased func(ids.SiteID, ids.ConvID) // hub.Hub.Erased
}

func (s sweepStore) EraseExpired(ctx context.Context, site ids.SiteID, conv ids.ConvID, lastActivityBefore time.Time) (bool, error) {
	ok, err := s.Store.EraseExpired(ctx, site, conv, lastActivityBefore)
	if ok {
		s.erased(site, conv)
	}
	return ok, err
}

func cmdCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	data := fs.String("data", "./data", "folder of the database")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	st, err := store.Open(store.Options{Path: filepath.Join(*data, "siegel.db")})
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "database ok")
	return nil
}

func cmdBackup(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	data := fs.String("data", "./data", "folder of the database")
	out := fs.String("out", "", "file to write the copy to (required)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *out == "" {
		fmt.Fprintln(stderr, "backup: -out FILE is required")
		return errUsage
	}
	st, err := store.Open(store.Options{Path: filepath.Join(*data, "siegel.db")})
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()
	fh, err := os.OpenFile(*out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create backup file: %w", err)
	}
	n, err := st.Backup(fh)
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		return fmt.Errorf("write backup: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s (%s bytes)\n", *out, strconv.FormatInt(n, 10))
	return nil
}

// demoHostServer serves the demo host page, an ordinary website with the script
// tag, and its privacy policy at /datenschutz (the demo site's privacy-policy URL).
func demoHostServer(addr string, p views.DemoPage) *http.Server {
	mux := http.NewServeMux()
	page := func(c templ.Component) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Referrer-Policy", "no-referrer")
			c.Render(r.Context(), w)
		}
	}
	mux.HandleFunc("GET /{$}", page(views.Demo(p)))
	mux.HandleFunc("GET "+demoPrivacy, page(views.DemoPrivacy(views.DemoPrivacyPage{HomeURL: "/"})))
	return &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
}
