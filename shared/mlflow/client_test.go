package mlflow

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recorder is a stand-in server that records the JSON bodies it receives
// and answers with canned replies; the behaviour of a real server is
// covered by the MLflow integration tests.
type recorder struct {
	mu     sync.Mutex
	bodies map[string][]map[string]any
	reply  func(path string) (int, string)
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	data, _ := io.ReadAll(req.Body)
	var body map[string]any
	_ = json.Unmarshal(data, &body)
	r.mu.Lock()
	r.bodies[req.URL.Path] = append(r.bodies[req.URL.Path], body)
	r.mu.Unlock()
	status, out := 200, "{}"
	if r.reply != nil {
		status, out = r.reply(req.URL.Path)
	}
	w.WriteHeader(status)
	io.WriteString(w, out)
}

func newRecorder(t *testing.T, reply func(string) (int, string)) (*Client, *recorder) {
	rec := &recorder{bodies: map[string][]map[string]any{}, reply: reply}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, WithBasicAuth("u", "p"))
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

func TestLogBatchSplitsAtTheLimitsAndNeverSendsNull(t *testing.T) {
	t.Parallel()
	c, rec := newRecorder(t, nil)
	metrics := make([]Metric, 2500)
	for i := range metrics {
		metrics[i] = Metric{Key: "m", Value: float64(i), Step: int64(i)}
	}
	if err := c.LogBatch(context.Background(), "r1", metrics, []Param{{"a", "1"}}, nil); err != nil {
		t.Fatal(err)
	}
	calls := rec.bodies["/api/2.0/mlflow/runs/log-batch"]
	if len(calls) != 3 {
		t.Fatalf("%d calls for 2,500 metrics, want 3", len(calls))
	}
	for i, b := range calls {
		for _, k := range []string{"metrics", "params", "tags"} {
			if _, ok := b[k].([]any); !ok {
				t.Errorf("call %d: %s is %v, want a list (MLflow refuses null)", i, k, b[k])
			}
		}
	}
}

func TestErrorsCarryMLflowsCode(t *testing.T) {
	t.Parallel()
	c, _ := newRecorder(t, func(path string) (int, string) {
		if strings.HasSuffix(path, "get-by-name") {
			return 404, `{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no experiment"}`
		}
		if strings.HasSuffix(path, "experiments/create") {
			return 200, `{"experiment_id":"7"}`
		}
		return 500, "<html>oops</html>"
	})
	id, err := c.EnsureExperiment(context.Background(), "claim-risk")
	if err != nil || id != "7" {
		t.Fatalf("EnsureExperiment = %q, %v; want 7 after creating it", id, err)
	}
	_, err = c.GetRun(context.Background(), "x")
	if err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "oops") {
		t.Fatalf("GetRun = %v, want the status and body", err)
	}
}

func TestLogArtifactNeedsTheProxy(t *testing.T) {
	t.Parallel()
	c, rec := newRecorder(t, nil)
	run := RunInfo{RunID: "r", ArtifactURI: "mlflow-artifacts:/1/r/artifacts"}
	if err := c.LogArtifact(context.Background(), run, "plots/roc.png", []byte("png")); err != nil {
		t.Fatal(err)
	}
	if len(rec.bodies["/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/plots/roc.png"]) != 1 {
		t.Errorf("upload went to %v", rec.bodies)
	}
	run.ArtifactURI = "s3://bucket/r/artifacts"
	if err := c.LogArtifact(context.Background(), run, "x", nil); err == nil || !strings.Contains(err.Error(), "--artifacts-destination") {
		t.Errorf("LogArtifact to s3 = %v, want advice", err)
	}
}

func TestNewRejectsNonHTTP(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "file:///tmp/mlruns", "localhost:5000", "http://"} {
		if _, err := New(u); err == nil {
			t.Errorf("New(%q) succeeded", u)
		}
	}
}

// TestATagSetByTwoWritersAtOnceIsSetOnceMore: MLflow answers the loser of
// two concurrent inserts of one version tag with SQLite's uniqueness error
// (seen in the lab test: the register function and 'registry promote'
// mirroring v2 together); the tag exists then, and a second call updates it.
func TestATagSetByTwoWritersAtOnceIsSetOnceMore(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := 0
	c, rec := newRecorder(t, func(path string) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return 400, `{"error_code":"BAD_REQUEST","message":"(sqlite3.IntegrityError) UNIQUE constraint failed: model_version_tags.workspace, model_version_tags.key, model_version_tags.name, model_version_tags.version"}`
		}
		return 200, "{}"
	})
	if err := c.SetModelVersionTag(context.Background(), "claim-risk", "2", "claimrisk.reason", "better"); err != nil {
		t.Fatalf("SetModelVersionTag = %v, want nil after a second try", err)
	}
	if n := len(rec.bodies["/api/2.0/mlflow/model-versions/set-tag"]); n != 2 {
		t.Errorf("set-tag sent %d times, want 2", n)
	}
	// Another refusal is not retried.
	c2, rec2 := newRecorder(t, func(string) (int, string) {
		return 400, `{"error_code":"INVALID_PARAMETER_VALUE","message":"bad key"}`
	})
	if err := c2.SetModelVersionTag(context.Background(), "claim-risk", "2", "k", "v"); err == nil {
		t.Fatal("a refused tag came back nil")
	}
	if n := len(rec2.bodies["/api/2.0/mlflow/model-versions/set-tag"]); n != 1 {
		t.Errorf("a refused tag was sent %d times, want 1", n)
	}
}

// LookupRun tells a run the server does not hold (a replaced store) from
// one it could not be asked about: only the first may be logged again.
func TestLookupRunTellsAMissingRunFromAFailure(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, id     string
		status       int
		body         string
		held, failed bool
	}{
		{"held", "r1", 200, `{"run":{"info":{"run_id":"r1"}}}`, true, false},
		{"not held", "r1", 404, `{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Run 'r1' not found"}`, false, false},
		{"server failing", "r1", 500, "<html>oops</html>", false, true},
		{"no id", "", 500, "never asked", false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newRecorder(t, func(string) (int, string) { return tt.status, tt.body })
			run, held, err := c.LookupRun(context.Background(), tt.id)
			if held != tt.held || (err != nil) != tt.failed || (held && run.Info.RunID != tt.id) {
				t.Errorf("LookupRun(%q) = %+v, %v, %v; want held %v, failed %v", tt.id, run.Info, held, err, tt.held, tt.failed)
			}
		})
	}
}
