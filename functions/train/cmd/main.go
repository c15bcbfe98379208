// Command train runs the train function with the Knative Functions runtime.
package main

import (
	function "github.com/claimrisk/claimrisk/functions/train"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/funcmain"
)

func main() {
	funcmain.RunEvents("train", "trains claim models on dataset events (CloudEvents over HTTP)", &config.Train{}, function.New(), function.RequestTimeout)
}
