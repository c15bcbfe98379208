package reliability

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// truncate cuts a file to its first half.
func truncate(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
}

// A truncated input file, for each command that reads one, and a truncated
// event body, for each function that takes events: a one-line error (a 4xx
// for an event, which the broker does not retry) and no partial output.
// claimrisk score's truncated input is cmd/claimrisk's
// TestScoreBadInputLeavesNoOutput; malformed events are the functions'
// TestBadEventsGetAClearNon2xx and their fuzz targets.
func TestTruncatedInputsGetOneLineAndNoOutput(t *testing.T) {
	t.Parallel()
	bin := func(args ...string) (stdout, stderr string, err error) {
		cmd := exec.Command(testenv.Binary(t, "claimrisk"), args...)
		cmd.Env = append(os.Environ(), "CLAIMRISK_HOME="+t.TempDir())
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err = cmd.Run()
		return out.String(), errOut.String(), err
	}
	oneLine := func(name, stdout, stderr string, err error) {
		t.Helper()
		msg := strings.TrimSuffix(stderr, "\n")
		if err == nil || msg == "" || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "claimrisk: ") {
			t.Errorf("%s: %v, stderr %q; want a failure with one line", name, err, stderr)
		}
		if stdout != "" {
			t.Errorf("%s printed %q besides the error", name, stdout)
		}
		t.Logf("%s: %s", name, msg)
	}

	data := filepath.Join(t.TempDir(), "data")
	if _, stderr, err := bin("data", "generate", "--policies", "500", "--out", data); err != nil {
		t.Fatalf("generate: %v %s", err, stderr)
	}
	for _, table := range []string{dataset.PoliciesObject, dataset.ManifestObject} {
		broken := filepath.Join(t.TempDir(), "data")
		if err := os.CopyFS(broken, os.DirFS(data)); err != nil {
			t.Fatal(err)
		}
		truncate(t, filepath.Join(broken, table))
		stdout, stderr, err := bin("data", "validate", "--dir", broken)
		oneLine("data validate with "+table+" truncated", stdout, stderr, err)
		bucket := t.TempDir()
		stdout, stderr, err = bin("data", "upload", "--dir", broken, "--bucket", bucket, "--sink", "")
		oneLine("data upload with "+table+" truncated", stdout, stderr, err)
		if entries, _ := os.ReadDir(bucket); len(entries) != 0 {
			t.Errorf("data upload with %s truncated wrote %d entries into the bucket", table, len(entries))
		}
	}

	csv := filepath.Join(t.TempDir(), "crashes.csv")
	os.WriteFile(csv, []byte("crash_record_id,crash_date,injuries_total,beat_of_occurrence\nx1,2024-01-05T08:30:00.000,1,1834\nx2,2024-02-06T08:3"), 0o644)
	out := filepath.Join(t.TempDir(), "accidents.parquet")
	stdout, stderr, err := bin("data", "fetch-crashes", "--file", csv, "--from", "2024-01-01", "--to", "2024-02-29", "--out", out)
	oneLine("data fetch-crashes with a truncated CSV", stdout, stderr, err)
	if _, err := os.Stat(out); err == nil {
		t.Errorf("data fetch-crashes with a truncated CSV wrote %s", out)
	}

	records := filepath.Join(t.TempDir(), "records.json")
	os.WriteFile(records, []byte(`[{"policy_id":"P1","customer_id":"C1","age":40,"years_lic`), 0o644)
	stdout, stderr, err = bin("predict", "--file", records, "--url", "http://127.0.0.1:1")
	oneLine("predict with a truncated records file", stdout, stderr, err)

	for _, c := range []struct{ fn, typ, body string }{
		{"train", events.DatasetUploaded, `{"dataset_id":"00000000dead`},
		{"register", events.ModelTrained, `{"run_id":"run-1","candidates":[{"run_id"`},
	} {
		fn := testenv.StartFunction(t, c.fn, "CLAIMRISK_BUCKET=file://"+t.TempDir(), "LOG_LEVEL=error").URL
		req, _ := http.NewRequest(http.MethodPost, fn, strings.NewReader(c.body))
		for k, v := range map[string]string{"Ce-Specversion": "1.0", "Ce-Id": "truncated-1", "Ce-Type": c.typ, "Ce-Source": "/test", "Content-Type": "application/json"} {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.fn, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		msg := strings.TrimSpace(string(body))
		if resp.StatusCode/100 != 4 || msg == "" || strings.Contains(msg, "\n") {
			t.Errorf("%s given a truncated %s: %d %q; want a 4xx with one line", c.fn, c.typ, resp.StatusCode, body)
		}
		t.Logf("%s given a truncated %s: %d %s", c.fn, c.typ, resp.StatusCode, msg)
	}
}
