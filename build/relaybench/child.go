package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"siegel/relay/hub"
	"siegel/relay/store"
	"siegel/relay/web"
	webfs "siegel/web"
)

// The servers under measurement run in a child process (this program, started
// again with childEnv set), so that the memory figures are the server's alone
// and the profile shows only the server. The parent talks to the child over its
// standard input and output, one line per command:
//
//	child → parent, once: "addr HOST:PORT"
//	"rss"              → "rss VMRSS HEAPINUSE STACKINUSE GOROUTINES" (bytes; after a GC)
//	"cpu"              → "cpu NANOSECONDS" (user + system time so far)
//	"prof-start FILE"  → "ok" (CPU profile to FILE)
//	"prof-stop"        → "ok"
//	"heap FILE"        → "ok" (heap profile to FILE)
//	end of input       → the child shuts down and exits
const (
	childEnv   = "RELAYBENCH_CHILD"  // "echo" or "relay"
	childDB    = "RELAYBENCH_DB"     // relay: database file
	childSync  = "RELAYBENCH_NOSYNC" // relay: "1" turns fsync off
	childConns = "RELAYBENCH_CONNS"  // relay: connections allowed per client address
)

// childMain runs the child process of the given role and returns its exit code.
func childMain(role string) int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "relaybench child:", err)
		return 1
	}
	var handler http.Handler
	cleanup := func() {}
	baseCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	switch role {
	case "echo":
		handler = newEchoServer()
	case "relay":
		h, closeStore, err := relayHandler(baseCtx, ln.Addr().String(), logger)
		if err != nil {
			fmt.Fprintln(os.Stderr, "relaybench child:", err)
			return 1
		}
		handler, cleanup = h, closeStore
	default:
		fmt.Fprintf(os.Stderr, "relaybench child: unknown role %q\n", role)
		return 2
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go srv.Serve(ln)
	fmt.Printf("addr %s\n", ln.Addr())

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		switch cmd {
		case "rss":
			fmt.Println(rssLine())
		case "cpu":
			fmt.Printf("cpu %d\n", processCPU())
		case "prof-start":
			f, err := os.Create(arg)
			if err == nil {
				err = pprof.StartCPUProfile(f)
			}
			if err != nil {
				fmt.Println("error", err)
				continue
			}
			fmt.Println("ok")
		case "heap":
			f, err := os.Create(arg)
			if err == nil {
				runtime.GC()
				err = pprof.Lookup("heap").WriteTo(f, 0)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				fmt.Println("error", err)
				continue
			}
			fmt.Println("ok")
		case "prof-stop":
			pprof.StopCPUProfile()
			fmt.Println("ok")
		default:
			fmt.Println("error unknown command")
		}
	}
	cancel() // ends WebSocket sessions
	ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	srv.Shutdown(ctx)
	srv.Close()
	cleanup()
	return 0
}

// relayHandler builds the relay as `relay serve` does (store, hub, web) on the
// database named by the environment. The per-connection request rate and the
// per-address connection limit are lifted: every client of the benchmark comes
// from 127.0.0.1 and sends as fast as it can.
func relayHandler(baseCtx context.Context, addr string, logger *slog.Logger) (http.Handler, func(), error) {
	conns, err := strconv.Atoi(os.Getenv(childConns))
	if err != nil || conns <= 0 {
		conns = 1 << 20
	}
	st, err := store.Open(store.Options{
		Path:                        os.Getenv(childDB),
		NoSync:                      os.Getenv(childSync) == "1",
		MaxEnvelopesPerConversation: 1 << 30,
		MaxConversationsPerSite:     1 << 30,
	})
	if err != nil {
		return nil, nil, err
	}
	assets, err := web.LoadAssets(webfs.FS)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	sessions := &hub.Server{
		Hub:    hub.New(),
		Store:  st,
		Log:    logger,
		Limits: hub.Limits{FramesPerSecond: 1e9, FrameBurst: 1 << 30},
	}
	w := &web.Server{
		Sites:         st,
		Sessions:      sessions,
		Assets:        assets,
		PublicURL:     &url.URL{Scheme: "http", Host: addr},
		Log:           logger,
		MaxConnsPerIP: conns,
		BaseContext:   baseCtx,
	}
	return w.Routes(), func() { st.Close() }, nil
}

// rssLine reports the process's memory after a full collection.
func rssLine() string {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, err := vmRSS()
	if err != nil {
		return "error " + err.Error()
	}
	return fmt.Sprintf("rss %d %d %d %d", rss, ms.HeapInuse, ms.StackInuse, runtime.NumGoroutine())
}

// vmRSS returns the resident set size of this process in bytes.
func vmRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v) // "1234 kB"
			if len(f) != 2 || f[1] != "kB" {
				break
			}
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				break
			}
			return n << 10, nil
		}
	}
	return 0, errors.New("no VmRSS line in /proc/self/status")
}

// child is a running child process seen from the parent.
type child struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
	addr string
}

// startChild starts this program as a server child with the given role and
// extra environment, and waits for its address.
func startChild(role string, env ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), append([]string{childEnv + "=" + role}, env...)...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, in: in, out: bufio.NewScanner(outPipe)}
	line, err := c.line()
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("%s child: %w", role, err)
	}
	addr, ok := strings.CutPrefix(line, "addr ")
	if !ok {
		c.stop()
		return nil, fmt.Errorf("%s child: unexpected first line %q", role, line)
	}
	c.addr = addr
	return c, nil
}

func (c *child) line() (string, error) {
	if !c.out.Scan() {
		if err := c.out.Err(); err != nil {
			return "", err
		}
		return "", io.ErrUnexpectedEOF
	}
	return c.out.Text(), nil
}

// call sends one command and returns the child's answer.
func (c *child) call(cmd string) (string, error) {
	if _, err := io.WriteString(c.in, cmd+"\n"); err != nil {
		return "", err
	}
	ans, err := c.line()
	if err != nil {
		return "", err
	}
	if msg, ok := strings.CutPrefix(ans, "error "); ok {
		return "", fmt.Errorf("child: %s: %s", cmd, msg)
	}
	return ans, nil
}

// memory is a child's memory report.
type memory struct {
	rss, heap, stack int64
	goroutines       int
}

func (c *child) memory() (memory, error) {
	ans, err := c.call("rss")
	if err != nil {
		return memory{}, err
	}
	var m memory
	if _, err := fmt.Sscanf(ans, "rss %d %d %d %d", &m.rss, &m.heap, &m.stack, &m.goroutines); err != nil {
		return memory{}, fmt.Errorf("child memory report %q: %w", ans, err)
	}
	return m, nil
}

// cpu returns the CPU time (user and system) the child has used so far.
func (c *child) cpu() (time.Duration, error) {
	ans, err := c.call("cpu")
	if err != nil {
		return 0, err
	}
	var ns int64
	if _, err := fmt.Sscanf(ans, "cpu %d", &ns); err != nil {
		return 0, fmt.Errorf("child CPU report %q: %w", ans, err)
	}
	return time.Duration(ns), nil
}

// stop ends the child (closing its input) and waits for it.
func (c *child) stop() {
	c.in.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}
