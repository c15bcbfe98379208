package function

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPredictLinksNoFittingOrReading keeps the predict function's image
// small: gonum's linear algebra (BLAS, LAPACK: 2 MB of the binary) serves
// fitting, and parquet-go's reader and writer with their codecs (5.7 MB)
// serve reading and the other writers; the payload log is written with
// shared/flatparquet. None of them may come back into its imports through
// a shared package.
func TestPredictLinksNoFittingOrReading(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "../../functions/predict/cmd").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "gonum.org/") || strings.HasSuffix(pkg, "/shared/glm") ||
			pkg == "github.com/parquet-go/parquet-go" || strings.HasSuffix(pkg, "/shared/parquetio") || strings.HasSuffix(pkg, "/shared/dataset") {
			t.Errorf("the predict function imports %s", pkg)
		}
	}
}
