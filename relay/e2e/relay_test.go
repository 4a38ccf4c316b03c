//go:build e2e

package e2e

import (
	"bytes"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"siegel/shared/ids"
)

// wait bounds every single wait of these tests: generous for a loaded 2-core
// machine, short enough that a hang fails in reasonable time.
const wait = 20 * time.Second

// lockedBuffer is a bytes.Buffer safe for a writer goroutine and readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// relayProc is one running `relay demo` process.
type relayProc struct {
	t        testing.TB
	dataDir  string
	addr     string // relay host:port
	demoAddr string // demo host page host:port
	cmd      *exec.Cmd
	stdout   *lockedBuffer
	stderr   *lockedBuffer
	exited   chan struct{}
	waitErr  error // valid once exited is closed

	// From the demo's stdout.
	demoURL    string
	agentURL   string
	passphrase string
	site       ids.SiteID
	ownerFP    ids.Fingerprint
	flowName   string // the bot flow it serves ("" if it printed none)
	flowRev    uint32 // and its revision
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startRelay starts `relay demo` on free loopback ports with dataDir and
// waits until it printed its demo lines.
func startRelay(t testing.TB, dataDir string) *relayProc {
	t.Helper()
	return startRelayAt(t, dataDir, freeAddr(t), freeAddr(t))
}

// startRelayAt starts `relay demo` on the given addresses (used to restart a
// relay on the same ports and data folder), with extra arguments if given
// (e.g. --flow FILE).
func startRelayAt(t testing.TB, dataDir, addr, demoAddr string, extra ...string) *relayProc {
	t.Helper()
	r := &relayProc{
		t: t, dataDir: dataDir, addr: addr, demoAddr: demoAddr,
		stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan struct{}),
	}
	args := append([]string{"demo", "--addr", addr, "--demo-addr", demoAddr, "--data", dataDir}, extra...)
	r.cmd = exec.Command(relayBin, args...)
	r.cmd.Stdout, r.cmd.Stderr = r.stdout, r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start relay %s: %v", relayBin, err)
	}
	go func() {
		r.waitErr = r.cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		if !r.hasExited() {
			r.cmd.Process.Kill()
			<-r.exited
		}
		if t.Failed() {
			r.logOutput()
		}
	})

	deadline := time.Now().Add(wait)
	for {
		if r.parseReady() {
			break
		}
		if r.hasExited() {
			r.logOutput()
			t.Fatalf("relay exited before it was ready: %v", r.waitErr)
		}
		if time.Now().After(deadline) {
			r.logOutput()
			t.Fatalf("relay did not print its demo lines within %v", wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if want := "http://" + demoAddr + "/"; r.demoURL != want {
		t.Fatalf("relay printed demo page %q, want %q", r.demoURL, want)
	}
	if want := r.origin() + "/agent"; r.agentURL != want {
		t.Fatalf("relay printed agent page %q, want %q", r.agentURL, want)
	}
	return r
}

// parseReady reads the demo lines from stdout; it reports whether all are there.
func (r *relayProc) parseReady() bool {
	lines := map[string]string{}
	for _, l := range strings.Split(string(r.stdout.Bytes()), "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok {
			lines[k] = strings.TrimSpace(v)
		}
	}
	for _, k := range []string{"demo page", "agent page", "agent passphrase", "site", "owner key fingerprint"} {
		if lines[k] == "" {
			return false
		}
	}
	site, err := ids.ParseSiteID(lines["site"])
	if err != nil {
		r.t.Fatalf("relay printed an invalid site %q: %v", lines["site"], err)
	}
	fp, err := ids.ParseFingerprint(lines["owner key fingerprint"])
	if err != nil {
		r.t.Fatalf("relay printed an invalid owner key fingerprint %q: %v", lines["owner key fingerprint"], err)
	}
	r.demoURL, r.agentURL, r.passphrase = lines["demo page"], lines["agent page"], lines["agent passphrase"]
	r.site, r.ownerFP = site, fp
	// "flow: NAME (revision N)", printed by relays that serve a bot flow.
	if name, rev, ok := strings.Cut(lines["flow"], " (revision "); ok {
		n, err := strconv.ParseUint(strings.TrimSuffix(rev, ")"), 10, 32)
		if err != nil || n == 0 {
			r.t.Fatalf("relay printed an invalid flow line %q", lines["flow"])
		}
		r.flowName, r.flowRev = name, uint32(n)
	}
	return true
}

func (r *relayProc) hasExited() bool {
	select {
	case <-r.exited:
		return true
	default:
		return false
	}
}

// origin is the relay's own origin, e.g. http://127.0.0.1:40123.
func (r *relayProc) origin() string { return "http://" + r.addr }

// demoOrigin is the origin of the demo host page (an allowed origin of the demo site).
func (r *relayProc) demoOrigin() string { return "http://" + r.demoAddr }

// wsURL is the WebSocket endpoint for the demo site.
func (r *relayProc) wsURL() string { return "ws://" + r.addr + "/ws?site=" + r.site.String() }

// output is everything the process wrote to stdout and stderr.
func (r *relayProc) output() []byte {
	return append(r.stdout.Bytes(), r.stderr.Bytes()...)
}

func (r *relayProc) logOutput() {
	const max = 16 << 10
	for _, s := range []struct {
		name string
		b    []byte
	}{{"stdout", r.stdout.Bytes()}, {"stderr", r.stderr.Bytes()}} {
		b := s.b
		if len(b) > max {
			b = append([]byte("…"), b[len(b)-max:]...)
		}
		r.t.Logf("relay %s (%s):\n%s", s.name, r.addr, b)
	}
}

// stop sends SIGTERM and requires a clean exit (status 0) in time.
func (r *relayProc) stop() {
	r.t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		r.t.Fatalf("SIGTERM relay: %v", err)
	}
	select {
	case <-r.exited:
	case <-time.After(wait):
		r.cmd.Process.Kill()
		<-r.exited
		r.t.Fatalf("relay did not exit within %v after SIGTERM", wait)
	}
	if r.waitErr != nil {
		r.t.Fatalf("relay exited with %v after SIGTERM, want status 0", r.waitErr)
	}
}

// kill sends SIGKILL (a crash) and waits for the process to end.
func (r *relayProc) kill() {
	r.t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		r.t.Fatalf("SIGKILL relay: %v", err)
	}
	<-r.exited
	var ee *exec.ExitError
	if !errors.As(r.waitErr, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		r.t.Fatalf("relay ended with %v, want killed by SIGKILL", r.waitErr)
	}
}

// relayCheck runs `relay check --data dir` and requires success.
func relayCheck(t testing.TB, dataDir string) {
	t.Helper()
	out, err := exec.Command(relayBin, "check", "--data", dataDir).CombinedOutput()
	if err != nil {
		t.Fatalf("relay check --data %s: %v\n%s", dataDir, err, out)
	}
	t.Logf("relay check: %s", strings.TrimSpace(string(out)))
}

// itoa is strconv.Itoa, short.
func itoa(n int) string { return strconv.Itoa(n) }
