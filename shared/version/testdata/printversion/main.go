// Command printversion prints version.Commit and version.String for
// the package's build tests.
package main

import (
	"fmt"

	"github.com/claimrisk/claimrisk/shared/version"
)

func main() {
	fmt.Println(version.Commit, version.String())
}
