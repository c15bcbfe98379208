package reliability

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// ExamplesEnv sets schemathesis's examples per operation (make fuzz: 500).
const ExamplesEnv = "CLAIMRISK_SCHEMATHESIS_EXAMPLES"

// checks are the schemathesis checks that hold the API to its document: no
// 5xx, only documented status codes and content types, and bodies that match
// the documented schemas.
const checks = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"

// TestSchemathesis runs schemathesis against the OpenAPI document the
// predict binary serves, with the bearer token, then checks the binary is
// still ready. make test runs a few examples per operation; scripts/fuzz.sh
// with SCHEMATHESIS=1 (make fuzz) runs many.
func TestSchemathesis(t *testing.T) {
	examples := 15
	if v := os.Getenv(ExamplesEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", ExamplesEnv, v)
		}
		examples = n
	}
	st := filepath.Join(filepath.Dir(testenv.Python(t)), "schemathesis")
	if _, err := os.Stat(st); err != nil {
		testenv.Require(t, "schemathesis is not installed beside %s: run make venv", testenv.Python(t))
	}
	bucket := "file://" + filepath.Join(t.TempDir(), "bucket")
	if d := testenv.Train(t, bucket, 42, 8000); !d.Promoted {
		t.Fatalf("no champion to serve: %s", d.Reason)
	}
	token := "fuzz-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	fn := testenv.StartFunction(t, "predict", "CLAIMRISK_BUCKET="+bucket, "CLAIMRISK_API_TOKEN="+token, "LOG_LEVEL=error")

	report := filepath.Join(t.TempDir(), "report")
	cmd := exec.Command(st, "run", fn.URL+"/openapi.json",
		"--checks", checks, "--max-examples", strconv.Itoa(examples), "--seed", "9",
		"--header", "Authorization: Bearer "+token, "--phases", "examples,coverage,fuzzing",
		"--suppress-health-check", "all", "--report", "junit", "--report-dir", report)
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "SCHEMATHESIS_TELEMETRY=false")
	cmd.Dir = t.TempDir() // schemathesis keeps a .schemathesis/ cache in its working directory
	start := time.Now()
	out, err := cmd.CombinedOutput()
	// The summary's "Test cases:" line is followed by the counts.
	cases := "no test-case count in the output"
	lines := strings.Split(string(out), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == "Test cases:" && i+1 < len(lines) {
			cases = strings.TrimSpace(lines[i+1])
		}
	}
	t.Logf("schemathesis: %d examples per operation, checks %s: %s in %s", examples, checks, cases, time.Since(start).Round(time.Second))
	if err != nil {
		t.Fatalf("schemathesis found failures (%v):\n%s", err, lastLines(string(out), 80))
	}

	resp, err := http.Get(fn.URL + "/health/readiness")
	if err != nil {
		t.Fatalf("readiness after schemathesis: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("readiness after schemathesis: %d, want 200", resp.StatusCode)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
