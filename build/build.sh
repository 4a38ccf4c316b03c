#!/usr/bin/env bash
# Builds everything: templ pages, the browser WebAssembly with its
# precompressed assets, and the relay binary (bin/relay).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "generate: templ"
go tool templ generate
bash build/wasm.sh
echo "build: ./relay/cmd/relay -> bin/relay"
mkdir -p bin
go build -trimpath -o bin/relay ./relay/cmd/relay
