// Command claimrisk is the command line for people: it generates and
// uploads data, inspects runs and the registry, calls the prediction API,
// simulates drift, runs the whole system locally and checks the labs.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
