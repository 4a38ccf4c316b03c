// Command clickbench prints the click-to-interactive report: how long after a
// click on the chat launcher the chat is usable (text box, greeting and
// #siegel-root[data-ready="true"] visible in the chat frame), in headless
// Chromium on loopback with a cold cache, against the design's 200 ms budget.
//
//	go run ./build/clickbench [-relay bin/relay] [-runs 5] [-chromium /usr/bin/chromium]
//
// It starts `relay demo` on free 127.0.0.1 ports with a temporary data folder
// and one browser. Each run opens the demo page in a new browser context (own,
// empty cache and storage), waits for the launcher and clicks it. A script
// added to every frame before it loads takes the times in the pages: the host
// page at the click, the chat frame on every animation frame and DOM change
// until the chat is visible. Both are performance.timeOrigin+performance.now(),
// so the two clocks compare. The frame also reports the widget.wasm transfer
// size from the Resource Timing API. It is a report, not a test: it exits 0
// whatever it measures, 1 only when it cannot measure.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

const (
	budgetMS = 200.0
	wait     = 20 * time.Second
)

func main() {
	relayBin := flag.String("relay", "bin/relay", "relay binary")
	runs := flag.Int("runs", 5, "measured runs, each in a fresh browser context")
	chromium := flag.String("chromium", "/usr/bin/chromium", "Chromium binary")
	flag.Parse()
	if err := run(*relayBin, *chromium, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "clickbench:", err)
		os.Exit(1)
	}
}

// probeJS runs in every frame before the frame's own scripts. In the top page
// it stamps the click and collects the chat frame's report; in the chat frame
// it watches for the chat to become visible and posts the times to the parent
// (the loader ignores messages without siegel: 1).
const probeJS = `(() => {
  const now = () => performance.timeOrigin + performance.now();
  if (window.top === window) {
    window.__cb = {click: 0, frame: null};
    addEventListener("click", () => { if (!window.__cb.click) window.__cb.click = now(); }, true);
    addEventListener("message", e => { if (e.data && e.data.clickbench) window.__cb.frame = e.data.clickbench; });
    return;
  }
  if (location.pathname !== "/frame") return;
  const r = {start: performance.timeOrigin, input: 0, msg: 0, ready: 0, done: 0, wasm: null};
  const vis = sel => { const e = document.querySelector(sel); return !!e && e.getClientRects().length > 0; };
  let posted = false;
  const check = () => {
    if (posted) return;
    const t = now();
    if (!r.input && vis('[data-testid="siegel-input"]')) r.input = t;
    if (!r.msg && vis('[data-testid="siegel-msg"]')) r.msg = t;
    if (!r.ready && document.querySelector('#siegel-root[data-ready="true"]')) r.ready = t;
    if (r.input && r.msg && r.ready) {
      r.done = t;
      const w = performance.getEntriesByType("resource").find(x => /\/widget\.[^/]*\.wasm/.test(x.name));
      if (w) r.wasm = {transfer: w.transferSize, encoded: w.encodedBodySize, decoded: w.decodedBodySize,
        start: performance.timeOrigin + w.startTime, end: performance.timeOrigin + w.responseEnd};
      posted = true;
      parent.postMessage({clickbench: r}, "*");
    }
  };
  const raf = () => { check(); if (!posted) requestAnimationFrame(raf); };
  requestAnimationFrame(raf);
  const poll = setInterval(() => { check(); if (posted) clearInterval(poll); }, 2);
  new MutationObserver(check).observe(document, {subtree: true, childList: true, attributes: true});
})()`

type wasmEntry struct {
	Transfer float64 `json:"transfer"`
	Encoded  float64 `json:"encoded"`
	Decoded  float64 `json:"decoded"`
	Start    float64 `json:"start"`
	End      float64 `json:"end"`
}

type frameReport struct {
	Start float64    `json:"start"`
	Input float64    `json:"input"`
	Msg   float64    `json:"msg"`
	Ready float64    `json:"ready"`
	Done  float64    `json:"done"`
	Wasm  *wasmEntry `json:"wasm"`
}

type result struct {
	Click float64      `json:"click"`
	Frame *frameReport `json:"frame"`
}

func run(relayBin, chromium string, runs int) error {
	if runs < 1 {
		return errors.New("-runs must be at least 1")
	}
	dataDir, err := os.MkdirTemp("", "clickbench-data-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	demoURL, stop, err := startRelay(relayBin, dataDir)
	if err != nil {
		return err
	}
	defer stop()

	profile, err := os.MkdirTemp("", "clickbench-profile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil {
		return fmt.Errorf("start %s: %w", chromium, err)
	}

	fmt.Printf("click to interactive: %s, headless Chromium, cold cache (new browser context per run)\n", demoURL)
	fmt.Printf("%-4s %12s %12s %12s %12s %14s\n", "run", "frame nav", "wasm loaded", "text box", "greeting", "interactive")
	var totals []float64
	var wasm *wasmEntry
	for i := 1; i <= runs; i++ {
		res, err := measure(browser, demoURL)
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		f := res.Frame
		ms := func(t float64) string {
			if t == 0 {
				return "-"
			}
			return fmt.Sprintf("%.1f ms", t-res.Click)
		}
		wasmEnd := "-"
		if f.Wasm != nil {
			wasmEnd = ms(f.Wasm.End)
			wasm = f.Wasm
		}
		fmt.Printf("%-4d %12s %12s %12s %12s %14s\n", i, ms(f.Start), wasmEnd, ms(f.Input), ms(f.Msg), ms(f.Done))
		totals = append(totals, f.Done-res.Click)
	}
	slices.Sort(totals)
	med := totals[len(totals)/2]
	if len(totals)%2 == 0 {
		med = (totals[len(totals)/2-1] + totals[len(totals)/2]) / 2
	}
	fmt.Printf("median click → interactive: %.1f ms (min %.1f, max %.1f); budget %.0f ms; ratio %.2f\n",
		med, totals[0], totals[len(totals)-1], budgetMS, med/budgetMS)
	if wasm != nil {
		fmt.Printf("widget.wasm (Resource Timing): transfer %.0f B, encoded body %.0f B, decoded body %.0f B\n",
			wasm.Transfer, wasm.Encoded, wasm.Decoded)
	} else {
		fmt.Println("widget.wasm (Resource Timing): no entry")
	}
	return nil
}

// measure opens the demo page in a new browser context, clicks the launcher
// and returns the times the pages took.
func measure(browser context.Context, demoURL string) (result, error) {
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancel()
	tctx, cancelT := context.WithTimeout(ctx, wait)
	defer cancelT()
	if err := chromedp.Do(tctx); err != nil { // opens the tab
		return result{}, fmt.Errorf("open tab: %w", err)
	}
	if _, err := chromedp.Call(tctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: probeJS}); err != nil {
		return result{}, fmt.Errorf("add probe: %w", err)
	}
	const launcher = `button[data-testid="siegel-launcher"]`
	if err := chromedp.Do(tctx,
		chromedp.Navigate(demoURL),
		chromedp.WaitVisible(chromedp.CSS(launcher)),
		chromedp.Click(chromedp.CSS(launcher), chromedp.NodeVisible),
	); err != nil {
		return result{}, err
	}
	for {
		raw, err := chromedp.Run(tctx, chromedp.Evaluate[string](`JSON.stringify(window.__cb || null)`))
		if err != nil {
			return result{}, fmt.Errorf("read times (chat not interactive within %v?): %w", wait, err)
		}
		var res result
		if raw != "null" {
			if err := json.Unmarshal([]byte(raw), &res); err != nil {
				return result{}, fmt.Errorf("decode %s: %w", raw, err)
			}
		}
		if res.Frame != nil {
			if res.Click == 0 {
				return result{}, errors.New("the click was not seen in the page")
			}
			return res, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lockedBuffer collects a child's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startRelay starts `relay demo` and waits for its "demo page:" line.
func startRelay(bin, dataDir string) (demoURL string, stop func(), err error) {
	addr, err := freeAddr()
	if err != nil {
		return "", nil, err
	}
	demoAddr, err := freeAddr()
	if err != nil {
		return "", nil, err
	}
	out := &lockedBuffer{}
	cmd := exec.Command(bin, "demo", "--addr", addr, "--demo-addr", demoAddr, "--data", dataDir)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop = func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	}
	deadline := time.Now().Add(wait)
	for {
		for _, l := range strings.Split(out.String(), "\n") {
			if v, ok := strings.CutPrefix(l, "demo page: "); ok && strings.TrimSpace(v) != "" {
				return strings.TrimSpace(v), stop, nil
			}
		}
		select {
		case <-exited:
			return "", nil, fmt.Errorf("relay exited before it was ready:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("relay printed no demo page line within %v:\n%s", wait, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
