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
	if err := fce.New(function.New()).Start(context.Background()); err != nil {
		os.Exit(1)
	}
}
