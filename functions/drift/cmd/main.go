// Command drift runs the drift function with the Knative Functions runtime.
package main

import (
	"context"
	"os"

	fce "knative.dev/func-go/cloudevents"

	function "github.com/claimrisk/claimrisk/functions/drift"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/funcmain"
)

func main() {
	funcmain.HandleArgs("drift", "checks the payload log for drift on the cron event and asks for retraining when it finds it", &config.Drift{})
	fce.SetLogLevel(fce.LogWarn)
	// Guarded: a malformed event gets a 4xx with its reason, not the
	// SDK's empty 500.
	svc := funcmain.NewEventService("drift", function.New(), function.RequestTimeout)
	if err := svc.Start(context.Background()); err != nil {
		os.Exit(1)
	}
}
