#!/usr/bin/env bash
# The whole test suite (`make test`): static checks, build, native unit tests
# with the race detector, WebAssembly tests under Node, the asset size budgets
# and the browser tests in headless Chromium against the real relay binary.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$SECONDS
section() { printf '\n==== %s ====\n' "$*"; }
fail() {
	echo "test.sh: $*" >&2
	exit 1
}

section "tools"
# The browser tests need Chromium and its driver and must never skip for
# want of them; the wasm tests need Node.
need=()
[[ -x /usr/bin/chromium ]] || need+=(chromium)
[[ -x /usr/bin/chromedriver ]] || need+=(chromium-driver)
command -v node >/dev/null || need+=(nodejs)
if ((${#need[@]})); then
	if [[ $(id -u) -eq 0 ]]; then
		echo "installing ${need[*]}"
		apt-get update
		DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"
	else
		fail "missing Debian packages: ${need[*]} (install them as root: apt-get install ${need[*]})"
	fi
fi
go version
node --version
/usr/bin/chromium --version 2>/dev/null || fail "/usr/bin/chromium does not run"

section "templ generated files up to date"
# Compare the generated files before and after generating: a difference means
# a *.templ file was changed without regenerating. (Unlike `git diff` against
# the index this also catches new, not yet tracked files and does not trip
# over uncommitted but up-to-date ones.)
templ_sums() { find . -name '*_templ.go' -not -path './.git/*' -print0 | sort -z | xargs -0r sha256sum; }
before=$(templ_sums)
go tool templ generate
after=$(templ_sums)
if [[ $before != "$after" ]]; then
	diff <(echo "$before") <(echo "$after") | awk '/^[<>]/ {print $3}' | sort -u >&2 || true
	fail "the generated templ files above were stale (now regenerated: review and keep them)"
fi

section "gofmt"
unformatted=$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -print0 | xargs -0r gofmt -l)
if [[ -n $unformatted ]]; then
	echo "$unformatted" >&2
	fail "files not gofmt-formatted (run gofmt -w on them)"
fi

section "go vet (native)"
go vet ./...

section "go vet (js/wasm: shared, widget)"
GOOS=js GOARCH=wasm go vet ./shared/... ./widget/...

section "build"
bash build/wasm.sh
mkdir -p bin
go build -trimpath -o bin/relay ./relay/cmd/relay

section "unit tests (native, -race)"
go test -race -count=1 ./...

section "unit tests (js/wasm under Node)"
GOOS=js GOARCH=wasm go test -count=1 -exec="$(go env GOROOT)/lib/wasm/go_js_wasm_exec" ./shared/... ./widget/...

section "asset size budgets"
go run ./build/size -check

section "browser tests (headless Chromium)"
SIEGEL_RELAY_BIN=$PWD/bin/relay go test -count=1 -tags e2e -timeout 15m ./relay/e2e/...

section "all tests passed ($((SECONDS - start)) s)"
