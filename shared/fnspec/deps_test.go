package fnspec_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/claimrisk/claimrisk/shared/fnspec"
)

// TestFunctionsImportNoTooling keeps the rooms apart: what a function
// runs never reaches the packages under shared/tooling, which only the CLI,
// the tests and the benchmarks use.
func TestFunctionsImportNoTooling(t *testing.T) {
	t.Parallel()
	for _, f := range fnspec.All() {
		out, err := exec.Command("go", "list", "-deps", "../../functions/"+f.Name+"/cmd").Output()
		if err != nil {
			t.Fatalf("go list %s: %v", f.Name, err)
		}
		for _, pkg := range strings.Fields(string(out)) {
			if strings.Contains(pkg, "/claimrisk/shared/tooling/") {
				t.Errorf("the %s function imports %s", f.Name, pkg)
			}
		}
	}
}
