#!/usr/bin/env bash
# Prints the performance report: asset sizes against their budgets, then the
# Go benchmarks. Benchmarks are measurements, not pass/fail tests.
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n==== %s ====\n' "$*"; }

section "asset sizes"
go run ./build/size

section "benchmarks"
# A package without benchmarks simply reports no results.
go test -run '^$' -bench . -benchtime 2s ./shared/envelope/ ./relay/store/
