// Command predict runs the predict function with the Knative Functions runtime.
package main

import (
	"context"
	"os"

	fhttp "knative.dev/func-go/http"

	function "github.com/claimrisk/claimrisk/functions/predict"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/funcmain"
)

func main() {
	funcmain.HandleArgs("predict", "answers claim probabilities over HTTP from the registry's champion", &config.Predict{})
	fhttp.SetLogLevel(fhttp.LogWarn)
	if err := fhttp.New(function.New()).Start(context.Background()); err != nil {
		os.Exit(1)
	}
}
