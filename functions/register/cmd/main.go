// Command register runs the register function with the Knative Functions runtime.
package main

import (
	function "github.com/claimrisk/claimrisk/functions/register"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/funcmain"
)

func main() {
	funcmain.RunEvents("register", "registers trained models and promotes a challenger only when it beats the champion", &config.Register{}, function.New(), 0)
}
