// Command register runs the register function with the Knative Functions runtime.
package main

import (
	"context"
	"os"

	fce "knative.dev/func-go/cloudevents"

	function "github.com/claimrisk/claimrisk/functions/register"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/funcmain"
)

func main() {
	funcmain.HandleArgs("register", "registers trained models and promotes a challenger only when it beats the champion", &config.Register{})
	fce.SetLogLevel(fce.LogWarn)
	// Guarded: a malformed event gets a 4xx with its reason, not the
	// SDK's empty 500.
	svc := funcmain.NewEventService("register", function.New(), 0)
	if err := svc.Start(context.Background()); err != nil {
		os.Exit(1)
	}
}
