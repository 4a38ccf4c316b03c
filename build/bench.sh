#!/usr/bin/env bash
# Prints the performance report: asset sizes against their budgets, the Go
# benchmarks, then the relay's load report. Benchmarks are measurements, not
# pass/fail tests.
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n==== %s ====\n' "$*"; }

section "asset sizes"
go run ./build/size

section "benchmarks"
# A package without benchmarks simply reports no results.
go test -run '^$' -bench . -benchtime 2s ./shared/envelope/ ./relay/store/

section "FAQ matching quality"
# Top-1 accuracy on the paraphrase set (tuned on) and the held-out set (never
# tuned on), and the unrelated questions that must stay below the threshold.
go test -count=1 -run 'TestFAQQuality' -v ./widget/faq/ | grep -E 'accuracy|unrelated|held-out' || true

section "click to interactive"
# Launcher click to a usable chat (text box and greeting visible) in headless
# Chromium with a cold cache, against the 200 ms budget.
[ -f web/dist/widget.wasm ] || bash build/wasm.sh
[ -x bin/relay ] || go build -o bin/relay ./relay/cmd/relay
go run ./build/clickbench

section "relay"
# Throughput, latency and memory of the relay against a raw WebSocket echo
# server measured in the same run (see docs/OPERATIONS.md, "Performance").
# Extra flags in RELAYBENCH_FLAGS, e.g. RELAYBENCH_FLAGS="-idle 2000 -check".
# shellcheck disable=SC2086
go run ./build/relaybench ${RELAYBENCH_FLAGS:-}
