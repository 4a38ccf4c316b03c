//go:build e2e

package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDemoCustomFlow: `relay demo --flow FILE` serves another flow, and the
// widget runs it: its greeting, its button, its end — and nothing of the
// shipped flow.
func TestDemoCustomFlow(t *testing.T) {
	const file = "testdata/tiny_flow.json"
	r := startRelayAt(t, t.TempDir(), freeAddr(t), freeAddr(t), "--flow", file)
	if r.flowName != file || r.flowRev == 0 {
		t.Errorf("relay demo --flow %s printed flow %q revision %d, want %q and a revision", file, r.flowName, r.flowRev, file)
	}
	browser := newGermanBrowser(t)
	vctx, vrec := newUser(t, browser, "visitor")
	do(t, vctx, "open the demo page", chromedp.Navigate(r.demoURL))
	do(t, vctx, "wait for the launcher", chromedp.WaitVisible(chromedp.CSS(selLauncher)))
	w := openWidget(t, vctx, r)
	w.waitMessage("bot", "Moin! Hier spricht der kleine Testbot vom Hafen.")
	w.waitMessage("bot", "Wollen Sie ablegen?")
	w.choose("Leinen los")
	w.waitMessage("visitor", "Leinen los")
	w.waitMessage("bot", "Gute Fahrt vom Testbot!")

	msgs, err := w.messages()
	if err != nil {
		t.Fatal(err)
	}
	shipped := shippedFlow(t)
	for _, m := range msgs {
		if strings.Contains(m.Text, say(t, shipped, "greeting")) || strings.Contains(m.Text, say(t, shipped, "menu")) {
			t.Errorf("the widget shows the shipped flow's text %q with --flow %s", m.Text, file)
		}
	}
	if len(msgs) != 4 {
		t.Errorf("the chat shows %d messages, want greeting, question, answer and goodbye: %v", len(msgs), msgs)
	}
	if labels, err := w.choices(); err != nil || len(labels) != 0 {
		t.Errorf("after the end step the chat still offers buttons %q (%v)", labels, err)
	}
	time.Sleep(500 * time.Millisecond)
	checkNoRelayContact(t, vrec, "after a flow without handoff")
}

// TestFlowCheckCommand runs `relay flow check` as a site owner would: a valid
// flow passes silently with status 0; invalid ones print one FILE:LINE:COL
// line per problem (among them a personal question reachable without
// consent) and exit with status 1; and `relay demo --flow` refuses to start
// with an invalid flow, before it writes anything.
func TestFlowCheckCommand(t *testing.T) {
	out, err := exec.Command(relayBin, "flow", "check", "testdata/tiny_flow.json").CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Errorf("relay flow check on a valid flow: %v, output %q; want status 0 and no output", err, out)
	}

	var stdout, stderr bytes.Buffer
	cmd := exec.Command(relayBin, "flow", "check", "testdata/flow_broken.json", "testdata/flow_no_consent.json")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("relay flow check on invalid flows ended with %v, want exit status 1", err)
	}
	want, err := os.ReadFile("testdata/flow_check.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got := stdout.String(); got != string(want) {
		t.Errorf("relay flow check printed\n%s\nwant\n%s(stderr %q)", got, want, stderr.String())
	}
	line := regexp.MustCompile(`^testdata/flow_(broken|no_consent)\.json:[1-9][0-9]*:[1-9][0-9]*: \S.*$`)
	for _, l := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		if !line.MatchString(l) {
			t.Errorf("relay flow check printed %q, not FILE:LINE:COL: message", l)
		}
	}
	t.Logf("relay flow check: exit %v, stderr %q", ee, stderr.String())

	// relay demo refuses the flow and names the problem.
	data := t.TempDir()
	demo := exec.Command(relayBin, "demo", "--addr", freeAddr(t), "--demo-addr", freeAddr(t), "--data", data,
		"--flow", "testdata/flow_no_consent.json")
	done := make(chan struct{})
	var dout []byte
	go func() { dout, err = demo.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
		demo.Process.Kill()
		<-done
		t.Fatalf("relay demo with an invalid flow did not exit within %v; output %q", wait, dout)
	}
	if err == nil {
		t.Errorf("relay demo --flow with a flow without consent started (exit 0); output %q", dout)
	}
	if wantLine := "testdata/flow_no_consent.json:16:5: personal ask reachable without consent (path: menu -> email)"; !strings.Contains(string(dout), wantLine) {
		t.Errorf("relay demo --flow printed %q, want the line %q", dout, wantLine)
	}
	if files := dirFiles(t, data); len(files) != 0 {
		t.Errorf("relay demo with an invalid flow wrote %d files into its data folder", len(files))
	}
}
