package function

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPredictLinksNoFittingCode keeps the predict function's image small:
// gonum's linear algebra (BLAS, LAPACK: 2 MB of the binary) serves fitting
// and must not come back into its imports through a shared package.
func TestPredictLinksNoFittingCode(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "../../functions/predict/cmd").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "gonum.org/") || strings.HasSuffix(pkg, "/shared/glm") {
			t.Errorf("the predict function imports %s", pkg)
		}
	}
}
