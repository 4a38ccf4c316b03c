//go:build e2e

package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"siegel/shared/ids"
	"siegel/shared/protocol"
	"siegel/shared/roster"
)

// waitWarning waits until the chat shows its warning (siegel-alert) and
// returns the text.
func (w *widget) waitWarning(what string) string {
	w.t.Helper()
	return w.waitText(what, selAlert, "")
}

// rosterVersionsSeen returns the versions of the rosters in the Welcome and
// RosterUpdate frames a browser received (unparseable rosters as 0).
func rosterVersionsSeen(t *testing.T, rec *recorder) []uint64 {
	t.Helper()
	var out []uint64
	for _, f := range decodedFrames(t, rec, false) {
		var raw []byte
		switch f := f.(type) {
		case *protocol.Welcome:
			raw = f.Roster
		case *protocol.RosterUpdate:
			raw = f.Roster
		default:
			continue
		}
		v := uint64(0)
		if ro, err := roster.Parse(raw); err == nil {
			v = ro.Version
		}
		out = append(out, v)
	}
	return out
}

// checkNothingSent: the visitor's browser sent no Send frame beyond the
// first n, after the visitor tried to write text.
func checkNothingSentAfter(t *testing.T, w *widget, rec *recorder, n int, text string) {
	t.Helper()
	if w.composerUsable() {
		w.send(text)
	} else {
		t.Logf("the chat's text box is disabled after the warning")
	}
	time.Sleep(2 * time.Second)
	fs := sentFrames(t, rec)
	if got := countType[*protocol.Send](fs); got != n {
		t.Errorf("the visitor's browser sent %d Send frames after the roster was refused (%d before, %d now)", got-n, n, got)
	}
	if msgs, err := w.messages(); err == nil {
		if m, ok := findMessage(msgs, "visitor", text); ok && (m.State == "sent" || m.State == "delivered") {
			t.Errorf("the chat shows the text written after the warning as %s", m.State)
		}
	}
}

// startServeAt starts `relay serve` on the stopped demo relay's address and
// data folder (serve does not re-sign the demo roster as demo does), and
// serves the demo host page (the bytes of page) on the demo address, so that
// the allowed origin stays the same.
func startServeAt(t *testing.T, old *relayProc, page []byte) *relayProc {
	t.Helper()
	r := &relayProc{t: t, dataDir: old.dataDir, addr: old.addr, demoAddr: old.demoAddr,
		stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan struct{}),
		demoURL: old.demoURL, agentURL: old.agentURL, passphrase: old.passphrase, site: old.site, ownerFP: old.ownerFP}
	r.cmd = exec.Command(relayBin, "serve", "--addr", r.addr, "--data", r.dataDir)
	r.cmd.Stdout, r.cmd.Stderr = r.stdout, r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start relay serve: %v", err)
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
	ln, err := net.Listen("tcp", r.demoAddr)
	if err != nil {
		t.Fatalf("listen on the demo address: %v", err)
	}
	host := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) {
		if q.URL.Path != "/" {
			http.NotFound(w, q)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})}
	go host.Serve(ln)
	t.Cleanup(func() { host.Close() })
	eventually(t, "relay serve listens", func() (bool, string) {
		if r.hasExited() {
			t.Fatalf("relay serve exited: %v", r.waitErr)
		}
		return strings.Contains(string(r.stderr.Bytes()), "relay listening"), "no \"relay listening\" in its log"
	})
	return r
}

// fetchBody returns the body of a GET.
func fetchBody(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d, %v", url, resp.StatusCode, err)
	}
	return b
}

// TestRosterRefusals: the widget verifies the roster against the owner key
// fingerprint of the script tag (docs/PROTOCOL.md §4) and refuses — shows
// the warning and sends nothing — when the roster is signed by another key,
// has expired, or has a lower version than one it saw before.
func TestRosterRefusals(t *testing.T) {
	browser := newGermanBrowser(t)
	f := shippedFlow(t)

	// visit opens the demo page in a fresh browser context, optionally
	// changes the script tag's owner key fingerprint before the chat is
	// opened, opens the chat and asks for a person (which connects).
	visit := func(t *testing.T, r *relayProc, name, owner string) (*widget, *recorder, context.Context) {
		t.Helper()
		ctx, rec := newUser(t, browser, name)
		do(t, ctx, "open the demo page", chromedp.Navigate(r.demoURL))
		do(t, ctx, "wait for the launcher", chromedp.WaitVisible(chromedp.CSS(selLauncher)))
		if owner != "" {
			got, err := evalJS[string](ctx, `(() => { const s = document.querySelector("script[data-owner-key]");
				s.dataset.ownerKey = `+jsString(owner)+`; return s.dataset.ownerKey; })()`)
			if err != nil || got != owner {
				t.Fatalf("set the script tag's owner key: %q, %v", got, err)
			}
		}
		w := openWidget(t, ctx, r)
		w.waitMessage("bot", say(t, f, "greeting"))
		w.choose(handoffPersonLabel)
		return w, rec, ctx
	}

	t.Run("wrong signer", func(t *testing.T) {
		r := startRelay(t, t.TempDir())
		other, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		wrong := ids.OwnerFingerprint(ids.Key(other))
		w, rec, _ := visit(t, r, "visitor (wrong owner)", wrong.String())
		// The frame was opened with the wrong fingerprint.
		if _, err := findFrame(w.ctx, r.origin()+"/frame?site="+r.site.String()+"&owner="+wrong.String()); err != nil {
			t.Fatalf("the chat frame was not opened with the changed owner fingerprint: %v", err)
		}
		visitorConversation(t, rec) // it connected and got the (genuine) roster
		warn := w.waitWarning("the chat warns about the roster")
		t.Logf("warning: %q", warn)
		checkNothingSentAfter(t, w, rec, 0, "Hallo "+newSentinel("Sentinel"))
	})

	t.Run("expired", func(t *testing.T) {
		r := startRelay(t, t.TempDir())
		page := fetchBody(t, r.demoURL)
		d := readDemoFile(t, r.dataDir)
		r.stop()
		v, _, cur := storedRoster(t, r)
		expired := signRoster(t, r.site, d.owner(t), v+1, time.Now().Add(-time.Hour), cur.Agents)
		if _, err := roster.Verify(expired, r.ownerFP, r.site, time.Now(), 0); !errors.Is(err, roster.ErrExpired) {
			t.Fatalf("the test's expired roster verifies with %v, want ErrExpired", err)
		}
		writeRoster(t, r, v+1, expired)
		r = startServeAt(t, r, page)
		w, rec, _ := visit(t, r, "visitor (expired roster)", "")
		visitorConversation(t, rec)
		if got := rosterVersionsSeen(t, rec); len(got) == 0 || got[0] != v+1 {
			t.Fatalf("the visitor's browser got roster versions %v, want the expired version %d", got, v+1)
		}
		warn := w.waitWarning("the chat warns about the expired roster")
		t.Logf("warning: %q", warn)
		checkNothingSentAfter(t, w, rec, 0, "Hallo "+newSentinel("Sentinel"))
	})

	t.Run("rolled back", func(t *testing.T) {
		r := startRelay(t, t.TempDir())
		d := readDemoFile(t, r.dataDir)
		r.stop()
		v, old, cur := storedRoster(t, r)
		newer := signRoster(t, r.site, d.owner(t), v+1, time.Now().Add(300*24*time.Hour), cur.Agents)
		writeRoster(t, r, v+1, newer)
		r = r.restart(t)

		// The visitor sees version v+1 and writes.
		w, rec, ctx := visit(t, r, "visitor (rollback)", "")
		m1 := "Vor dem Zurückrollen " + newSentinel("Sentinel")
		w.send(m1)
		w.waitMessage("visitor", m1, "sent", "delivered")
		if got := rosterVersionsSeen(t, rec); len(got) == 0 || got[len(got)-1] != v+1 {
			t.Fatalf("the visitor's browser got roster versions %v, want %d last", got, v+1)
		}
		welcomes := len(framesOf[*protocol.Welcome](t, rec, false))

		// The relay now serves version v again.
		r.stop()
		overwriteRoster(t, r, v, old)
		if got, _, _ := storedRoster(t, r); got != v {
			t.Fatalf("the stored roster has version %d after the rollback, want %d", got, v)
		}
		r = r.restart(t)

		// The widget reconnects by itself, gets version v and refuses it.
		eventually(t, "the widget reconnects and gets a Welcome with the old roster", func() (bool, string) {
			got := rosterVersionsSeen(t, rec)
			return len(framesOf[*protocol.Welcome](t, rec, false)) > welcomes && got[len(got)-1] == v,
				fmt.Sprintf("roster versions received: %v", got)
		})
		warn := w.waitWarning("the chat warns about the rolled-back roster")
		t.Logf("warning: %q", warn)
		n := countType[*protocol.Send](sentFrames(t, rec))
		checkNothingSentAfter(t, w, rec, n, "Nach dem Zurückrollen "+newSentinel("Sentinel"))

		// After a reload the widget still knows version v+1 and refuses again.
		do(t, ctx, "reload the demo page", chromedp.Reload())
		do(t, ctx, "wait for the launcher after the reload", chromedp.WaitVisible(chromedp.CSS(selLauncher)))
		n = countType[*protocol.Send](sentFrames(t, rec))
		w = openWidget(t, ctx, r)
		w.waitWarning("after a reload the chat warns about the rolled-back roster")
		checkNothingSentAfter(t, w, rec, n, "Nach dem Neuladen "+newSentinel("Sentinel"))
	})
}
