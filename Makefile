# Siegel. Each target is a thin wrapper; the work is done in build/.
.DEFAULT_GOAL := help
.PHONY: help run build test size bench generate clean

help:
	@echo "make run       build, then start the demo relay on http://127.0.0.1:8080 (data in ./data)"
	@echo "make build     generate templ pages, build the wasm, precompress assets, build bin/relay"
	@echo "make test      the whole test suite (static checks, unit, wasm, size budgets, browser)"
	@echo "make size      asset sizes (raw, gzip, brotli) against their budgets"
	@echo "make bench     the performance report (sizes and benchmarks)"
	@echo "make generate  regenerate the templ pages (*_templ.go)"
	@echo "make clean     remove bin/ and the built files in web/dist/ (keeps ./data)"

run: build
	./bin/relay demo --addr 127.0.0.1:8080 --data ./data

build:
	bash build/build.sh

test:
	bash build/test.sh

size:
	go run ./build/size

bench:
	bash build/bench.sh

generate:
	go tool templ generate

clean:
	rm -rf bin
	find web/dist -mindepth 1 ! -name README -delete
	@echo "kept ./data (the demo database): remove it by hand for a fresh start"
