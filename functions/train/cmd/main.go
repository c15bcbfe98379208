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
	// Guarded: a malformed event gets a 4xx with its reason, not the
	// SDK's empty 500.
	svc := funcmain.NewEventService("train", function.New(), function.RequestTimeout)
	if err := svc.Start(context.Background()); err != nil {
		os.Exit(1)
	}
}
