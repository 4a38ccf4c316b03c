// Package web holds the static browser assets of Siegel: the loader script that
// a site embeds, the boot scripts of the frame and agent pages, their style
// sheets and the built WebAssembly binaries with their precompressed variants.
//
// Everything is embedded into the relay binary. The dist folder holds build
// output; only its README is kept in version control, so that this package
// compiles before any wasm has been built.
package web

import "embed"

// FS contains loader.js, frame.js, agent.js, widget.css, agent.css and dist/*
// (widget.wasm, agent.wasm, wasm_exec.js and the .br/.gz variants of every
// asset, for example dist/loader.js.br).
//
//go:embed loader.js frame.js agent.js widget.css agent.css all:dist
var FS embed.FS
