// Command compress writes the precompressed variants of the web assets:
// for each web/dist/*.wasm, web/dist/wasm_exec.js, web/loader.js, web/frame.js,
// web/agent.js, web/widget.css and web/agent.css it writes web/dist/<name>.br
// (brotli, quality 11) and web/dist/<name>.gz (gzip, best). The output is
// deterministic, and a variant that is already up to date is not rewritten.
//
// Usage: go run ./build/compress [-root DIR]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"siegel/build/internal/assets"
)

type result struct {
	asset  string
	raw    int
	br, gz int
	wrote  []string
	err    error
}

func main() {
	root := flag.String("root", ".", "repository root")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, "compress:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	in, err := assets.Inputs(root)
	if err != nil {
		return err
	}
	res := make([]result, len(in))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, a := range in {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			res[i] = compress(root, a)
		}()
	}
	wg.Wait()
	var firstErr error
	for _, r := range res {
		if r.err != nil {
			fmt.Fprintf(os.Stderr, "%-24s error: %v\n", r.asset, r.err)
			if firstErr == nil {
				firstErr = r.err
			}
			continue
		}
		state := "unchanged"
		if len(r.wrote) > 0 {
			state = "written"
		}
		fmt.Printf("%-24s raw %9d  gz %9d  br %9d  %s\n", r.asset, r.raw, r.gz, r.br, state)
	}
	return firstErr
}

// compress writes the .br and .gz variants of one asset.
func compress(root, asset string) result {
	r := result{asset: asset}
	raw, err := os.ReadFile(filepath.Join(root, asset))
	if err != nil {
		r.err = err
		return r
	}
	r.raw = len(raw)
	for _, v := range []struct {
		ext  string
		enc  func([]byte) []byte
		size *int
	}{{".br", assets.Brotli, &r.br}, {".gz", assets.Gzip, &r.gz}} {
		b := v.enc(raw)
		*v.size = len(b)
		p := assets.VariantPath(asset, v.ext)
		wrote, err := assets.WriteIfChanged(filepath.Join(root, p), b)
		if err != nil {
			r.err = err
			return r
		}
		if wrote {
			r.wrote = append(r.wrote, p)
		}
	}
	return r
}
