// Command size prints the raw, gzip and brotli sizes of the served web assets
// and checks them against the budgets of the design: the loader at most 2 KiB
// brotli, widget.wasm at most 820 KiB brotli (docs/DECISIONS.md).
//
// Usage: go run ./build/size [-root DIR] [-check]
//
// With -check it exits with status 1 when an asset is over its budget or an
// asset with a budget is missing.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"siegel/build/internal/assets"
)

// An entry is one asset of the report; Budget is its brotli budget in bytes
// (0: none).
type entry struct {
	Path   string
	Budget int
}

var entries = []entry{
	{"web/loader.js", 2 << 10},
	{"web/dist/widget.wasm", 820 << 10}, // docs/DECISIONS.md: "The widget size budget"
	{"web/dist/agent.wasm", 0},
	{"web/dist/wasm_exec.js", 0},
	{"web/frame.js", 0},
	{"web/agent.js", 0},
	{"web/widget.css", 0},
	{"web/agent.css", 0},
}

// A row is the measured sizes of one asset.
type row struct {
	entry
	Missing         bool
	Raw, Gzip, Brot int
}

// Status is PASS, OVER, MISSING or "-" (no budget).
func (r row) Status() string {
	switch {
	case r.Missing && r.Budget > 0:
		return "MISSING"
	case r.Missing || r.Budget == 0:
		return "-"
	case r.Brot > r.Budget:
		return "OVER"
	}
	return "PASS"
}

func main() {
	root := flag.String("root", ".", "repository root")
	check := flag.Bool("check", false, "exit non-zero when an asset is over its budget or a budgeted asset is missing")
	flag.Parse()
	rows, err := measure(*root, entries)
	if err != nil {
		fmt.Fprintln(os.Stderr, "size:", err)
		os.Exit(1)
	}
	print(os.Stdout, rows)
	if bad := failures(rows); *check && len(bad) > 0 {
		fmt.Fprintf(os.Stderr, "size: budget check failed: %v\n", bad)
		os.Exit(1)
	}
}

// measure reads each asset and its precompressed variants. A variant that is
// missing or stale is computed afresh, so the figures always describe the
// current asset.
func measure(root string, es []entry) ([]row, error) {
	rows := make([]row, 0, len(es))
	for _, e := range es {
		r := row{entry: e}
		raw, err := os.ReadFile(filepath.Join(root, e.Path))
		if errors.Is(err, os.ErrNotExist) {
			r.Missing = true
			rows = append(rows, r)
			continue
		}
		if err != nil {
			return nil, err
		}
		r.Raw = len(raw)
		r.Brot = variantSize(root, e.Path, ".br", raw, assets.CheckBrotli, assets.Brotli)
		r.Gzip = variantSize(root, e.Path, ".gz", raw, assets.CheckGzip, assets.Gzip)
		rows = append(rows, r)
	}
	return rows, nil
}

func variantSize(root, asset, ext string, raw []byte, check func(enc, raw []byte) error, enc func([]byte) []byte) int {
	if b, err := os.ReadFile(filepath.Join(root, assets.VariantPath(asset, ext))); err == nil && check(b, raw) == nil {
		return len(b)
	}
	return len(enc(raw))
}

// failures lists the assets that fail a -check.
func failures(rows []row) []string {
	var bad []string
	for _, r := range rows {
		if s := r.Status(); s == "OVER" || s == "MISSING" {
			bad = append(bad, r.Path+" "+s)
		}
	}
	return bad
}

func print(w io.Writer, rows []row) {
	// Numbers align right; the asset names are padded so that they align left.
	width := len("asset")
	for _, r := range rows {
		width = max(width, len(r.Path))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\traw\tgzip\tbrotli\tbrotli KiB\tbudget (brotli)\tstatus\t\n", width, "asset")
	for _, r := range rows {
		budget := "-"
		if r.Budget > 0 {
			budget = fmt.Sprintf("%d (%s KiB)", r.Budget, kib(r.Budget))
		}
		if r.Missing {
			fmt.Fprintf(tw, "%-*s\t-\t-\t-\t-\t%s\t%s\t\n", width, r.Path, budget, r.Status())
			continue
		}
		fmt.Fprintf(tw, "%-*s\t%d\t%d\t%d\t%s\t%s\t%s\t\n", width, r.Path, r.Raw, r.Gzip, r.Brot, kib(r.Brot), budget, r.Status())
	}
	tw.Flush()
}

func kib(n int) string {
	return fmt.Sprintf("%.1f", float64(n)/1024)
}
