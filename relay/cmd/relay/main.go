// Command relay is Siegel's server: it stores and forwards only ciphertext.
// See `relay help` and docs/OPERATIONS.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"siegel/relay/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
