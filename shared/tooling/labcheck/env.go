package labcheck

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/mlflow"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
)

// Env is what the checks look at: the bucket, a running `claimrisk up`
// and the MLflow server.
type Env struct {
	bucket   *blobstore.Bucket
	binDir   string
	home     string
	state    map[string]string // nil when no system is running
	mlflow   *mlflow.Client    // nil when there is no tracking server
	http     *http.Client
	runs     []runstore.Run // newest first
	registry *registry.Registry
}

// Open reads the environment once: the runs in bucket, the state file of
// a `claimrisk up` under home and its MLflow server (else
// MLFLOW_TRACKING_URI, with MLFLOW_TRACKING_USERNAME and _PASSWORD).
// binDir is where the function binaries are looked for. The caller keeps
// the bucket and closes it.
func Open(ctx context.Context, bucket *blobstore.Bucket, binDir, home string) (*Env, error) {
	env := &Env{bucket: bucket, binDir: binDir, home: home, http: &http.Client{Timeout: 5 * time.Second},
		registry: registry.Open(bucket, model.Name)}
	if state, err := localrun.ReadState(home); err == nil {
		env.state = state
	}
	uri := env.component("mlflow")
	if uri == "" {
		uri = os.Getenv("MLFLOW_TRACKING_URI")
	}
	if uri != "" {
		c, err := mlflow.New(uri, mlflow.WithBasicAuth(os.Getenv("MLFLOW_TRACKING_USERNAME"), os.Getenv("MLFLOW_TRACKING_PASSWORD")),
			mlflow.WithHTTPClient(env.http))
		if err != nil {
			return nil, err
		}
		env.mlflow = c
	}
	runs, err := runstore.New(bucket).List(ctx)
	if err != nil {
		return nil, err
	}
	env.runs = runs
	return env, nil
}

// component is the URL of a running component, or "".
func (e *Env) component(name string) string { return e.state[name] }

// get fetches url and reports the status, or an error when nothing answers.
func (e *Env) get(ctx context.Context, url string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, body, nil
}

// datasets lists the dataset ids in the bucket.
func (e *Env) datasets(ctx context.Context) []string {
	ids, _ := e.bucket.Dirs(ctx, dataset.Prefix)
	var out []string
	for _, id := range ids {
		if ok, _ := e.bucket.Exists(ctx, dataset.KeyOf(id, dataset.ManifestObject)); ok {
			out = append(out, id)
		}
	}
	return out
}

// reports reads every drift report, oldest first.
func (e *Env) reports(ctx context.Context) []driftcheck.Report {
	ids, _ := e.bucket.Dirs(ctx, driftcheck.Prefix)
	var out []driftcheck.Report
	for _, id := range ids {
		var r driftcheck.Report
		if err := e.bucket.ReadJSON(ctx, driftcheck.Key(id, "report.json"), &r); err == nil {
			out = append(out, r)
		}
	}
	return out
}

// exercisesDir is where the exercises write what they produce: outside the
// repository, beside the bucket, so that CLAIMRISK_HOME keeps them apart.
func (e *Env) exercisesDir() string { return filepath.Join(e.home, "exercises") }

// exerciseFile reads a file the exercises write; the error says which
// exercise writes it.
func (e *Env) exerciseFile(name, by string) ([]byte, Result, bool) {
	path := filepath.Join(e.exercisesDir(), name)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, todo("%s: no %s yet: the exercise writes it", by, path), false
	}
	return data, Result{}, true
}

// exerciseJSON reads a JSON file the exercises write.
func (e *Env) exerciseJSON(name, by string, v any) (Result, bool) {
	data, r, ok := e.exerciseFile(name, by)
	if !ok {
		return r, false
	}
	if err := json.Unmarshal(data, v); err != nil {
		return todo("%s: %s is not the JSON the exercise describes: %v", by, filepath.Join(e.exercisesDir(), name), err), false
	}
	return Result{}, true
}

func orWord(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
