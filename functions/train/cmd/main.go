// Command train runs the train function with the Knative Functions runtime.
package main

import (
	"context"
	"os"

	fce "knative.dev/func-go/cloudevents"

	function "github.com/claimrisk/claimrisk/functions/train"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/funcmain"
)

func main() {
	funcmain.HandleArgs("train", "trains claim models on dataset events (CloudEvents over HTTP)", &config.Train{})
	fce.SetLogLevel(fce.LogWarn)
	svc := fce.New(function.New())
	// Training can outlast the runtime's 30 s default; match the Service.
	svc.ReadTimeout, svc.WriteTimeout = function.RequestTimeout, function.RequestTimeout
	if err := svc.Start(context.Background()); err != nil {
		os.Exit(1)
	}
}
