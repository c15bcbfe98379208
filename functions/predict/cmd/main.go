// Command predict runs the predict function with the Knative Functions runtime.
package main

import (
	"context"

	fhttp "knative.dev/func-go/http"

	function "github.com/claimrisk/claimrisk/functions/predict"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/funcmain"
)

func main() {
	funcmain.HandleArgs("predict", "answers claim probabilities over HTTP from the registry's champion", &config.Predict{})
	// A quarter as many collections as by default: at c=32 the tail
	// (p99) is about 14% shorter, for 48 MB of peak memory under load
	// instead of 32 (benchmarks/NOTES.md, ninth pass). The soft limit
	// keeps the heap well inside the container's 512Mi.
	funcmain.TuneGC(400, 384<<20)
	fhttp.SetLogLevel(fhttp.LogWarn)
	funcmain.Exit("predict", fhttp.New(function.New()).Start(context.Background()))
}
