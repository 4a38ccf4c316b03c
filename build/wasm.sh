#!/usr/bin/env bash
# Builds the browser WebAssembly (widget.wasm for the visitor's chat frame,
# agent.wasm for the agent and owner pages), copies Go's wasm_exec.js next to
# them and writes the precompressed .br/.gz variants of every served asset.
set -euo pipefail
cd "$(dirname "$0")/.."

dist=web/dist
mkdir -p "$dist"

build() { # build PACKAGE OUTPUT
	if [[ ! -d $1 ]]; then
		echo "wasm.sh: $1 does not exist" >&2
		exit 1
	fi
	echo "wasm: $1 -> $2"
	GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" -o "$2" "$1"
}

build ./widget/cmd/visitor "$dist/widget.wasm"
build ./widget/cmd/agent "$dist/agent.wasm"

exec_js="$(go env GOROOT)/lib/wasm/wasm_exec.js"
if ! cmp -s "$exec_js" "$dist/wasm_exec.js"; then
	cp "$exec_js" "$dist/wasm_exec.js"
	chmod 644 "$dist/wasm_exec.js"
fi

go run ./build/compress
