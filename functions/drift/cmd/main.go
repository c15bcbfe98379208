// Command drift runs the drift function with the Knative Functions runtime.
package main

import (
	function "github.com/claimrisk/claimrisk/functions/drift"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/funcmain"
)

func main() {
	funcmain.RunEvents("drift", "checks the payload log for drift on the cron event and asks for retraining when it finds it", &config.Drift{}, function.New(), function.RequestTimeout)
}
