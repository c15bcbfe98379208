package mlflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Tag is a key-value tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Param is a run parameter.
type Param struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Metric is one metric value.
type Metric struct {
	Key       string  `json:"key"`
	Value     float64 `json:"value"`
	Timestamp int64   `json:"timestamp"`
	Step      int64   `json:"step"`
}

// Experiment is an MLflow experiment.
type Experiment struct {
	ID             string `json:"experiment_id"`
	Name           string `json:"name"`
	LifecycleStage string `json:"lifecycle_stage"`
}

// GetExperimentByName returns the named experiment.
func (c *Client) GetExperimentByName(ctx context.Context, name string) (Experiment, error) {
	var out struct {
		Experiment Experiment `json:"experiment"`
	}
	err := c.call(ctx, http.MethodGet, "experiments/get-by-name", url.Values{"experiment_name": {name}}, nil, &out)
	return out.Experiment, err
}

// EnsureExperiment returns the id of the named active experiment, creating
// it when missing.
func (c *Client) EnsureExperiment(ctx context.Context, name string) (string, error) {
	exp, err := c.GetExperimentByName(ctx, name)
	if err == nil {
		if exp.LifecycleStage == "deleted" {
			return "", fmt.Errorf("mlflow: experiment %q is deleted; restore it in the MLflow UI or pick another name", name)
		}
		return exp.ID, nil
	}
	if !IsNotFound(err) {
		return "", err
	}
	var out struct {
		ID string `json:"experiment_id"`
	}
	err = c.call(ctx, http.MethodPost, "experiments/create", nil, map[string]string{"name": name}, &out)
	if HasCode(err, CodeAlreadyExists) { // another writer won the race
		exp, err := c.GetExperimentByName(ctx, name)
		return exp.ID, err
	}
	return out.ID, err
}

// RunInfo identifies a run.
type RunInfo struct {
	RunID        string `json:"run_id"`
	RunName      string `json:"run_name"`
	ExperimentID string `json:"experiment_id"`
	Status       string `json:"status"`
	ArtifactURI  string `json:"artifact_uri"`
	// StartTime and EndTime are epoch milliseconds (0 while unset).
	StartTime Millis `json:"start_time,omitempty"`
	EndTime   Millis `json:"end_time,omitempty"`
}

// Millis is an epoch time in milliseconds, as MLflow sends it: a JSON
// number, or a string (protobuf's JSON form of int64).
type Millis int64

// UnmarshalJSON accepts a number or a quoted number.
func (m *Millis) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*m = 0
		return nil
	}
	n, err := strconv.ParseInt(strings.Trim(string(data), `"`), 10, 64)
	if err != nil {
		return fmt.Errorf("mlflow: time %s: %w", data, err)
	}
	*m = Millis(n)
	return nil
}

// Run is a run with its data.
type Run struct {
	Info RunInfo `json:"info"`
	Data struct {
		Metrics []Metric `json:"metrics"`
		Params  []Param  `json:"params"`
		Tags    []Tag    `json:"tags"`
	} `json:"data"`
	Inputs struct {
		DatasetInputs []struct {
			Tags    []Tag   `json:"tags"`
			Dataset Dataset `json:"dataset"`
		} `json:"dataset_inputs"`
	} `json:"inputs"`
}

// CreateRun starts a run in an experiment.
func (c *Client) CreateRun(ctx context.Context, experimentID, name string, tags []Tag) (RunInfo, error) {
	in := map[string]any{"experiment_id": experimentID, "run_name": name, "start_time": time.Now().UnixMilli(), "tags": tags}
	var out struct {
		Run Run `json:"run"`
	}
	err := c.call(ctx, http.MethodPost, "runs/create", nil, in, &out)
	return out.Run.Info, err
}

// GetRun returns a run.
func (c *Client) GetRun(ctx context.Context, runID string) (Run, error) {
	var out struct {
		Run Run `json:"run"`
	}
	err := c.call(ctx, http.MethodGet, "runs/get", url.Values{"run_id": {runID}}, nil, &out)
	return out.Run, err
}

// LookupRun returns a run and true, or false when the server does not hold
// it (an empty id, or a store replaced since the id was recorded); any
// other failure is an error.
func (c *Client) LookupRun(ctx context.Context, runID string) (Run, bool, error) {
	if runID == "" {
		return Run{}, false, nil
	}
	run, err := c.GetRun(ctx, runID)
	if IsNotFound(err) {
		return Run{}, false, nil
	}
	return run, err == nil, err
}

// SearchRuns returns up to max runs of the experiments that match filter
// (MLflow's search syntax; empty for all).
func (c *Client) SearchRuns(ctx context.Context, experimentIDs []string, filter string, max int) ([]Run, error) {
	in := map[string]any{"experiment_ids": experimentIDs, "filter": filter, "max_results": max}
	var out struct {
		Runs []Run `json:"runs"`
	}
	err := c.call(ctx, http.MethodPost, "runs/search", nil, in, &out)
	return out.Runs, err
}

// LogBatch logs metrics, parameters and tags, in as many calls as MLflow's
// per-call limits need (1000 metrics, 100 parameters, 100 tags).
func (c *Client) LogBatch(ctx context.Context, runID string, metrics []Metric, params []Param, tags []Tag) error {
	for len(metrics) > 0 || len(params) > 0 || len(tags) > 0 {
		nm, np, nt := min(len(metrics), 1000), min(len(params), 100), min(len(tags), 100)
		// The server rejects null lists, so every list is sent, empty or not.
		in := map[string]any{"run_id": runID,
			"metrics": append([]Metric{}, metrics[:nm]...),
			"params":  append([]Param{}, params[:np]...),
			"tags":    append([]Tag{}, tags[:nt]...)}
		if err := c.call(ctx, http.MethodPost, "runs/log-batch", nil, in, nil); err != nil {
			return err
		}
		metrics, params, tags = metrics[nm:], params[np:], tags[nt:]
	}
	return nil
}

// Dataset describes a logged input dataset.
type Dataset struct {
	Name       string `json:"name"`
	Digest     string `json:"digest"`
	SourceType string `json:"source_type"`
	Source     string `json:"source"`
	Schema     string `json:"schema,omitempty"`
	Profile    string `json:"profile,omitempty"`
}

// LogInput records a dataset as an input of the run, with a context tag
// such as "training" or "validation".
func (c *Client) LogInput(ctx context.Context, runID string, ds Dataset, context string) error {
	if len(ds.Digest) > 36 {
		ds.Digest = ds.Digest[:36]
	}
	in := map[string]any{"run_id": runID, "datasets": []map[string]any{{
		"tags":    []Tag{{Key: "mlflow.data.context", Value: context}},
		"dataset": ds,
	}}}
	err := c.call(ctx, http.MethodPost, "runs/log-inputs", nil, in, nil)
	// MLflow looks a dataset up and inserts it if missing, without a lock:
	// two runs logging the same new dataset at once can both insert, and
	// the second gets a database uniqueness error. The dataset exists by
	// then, so once more links it.
	if isUniqueViolation(err) {
		err = c.call(ctx, http.MethodPost, "runs/log-inputs", nil, in, nil)
	}
	return err
}

// isUniqueViolation reports whether err is MLflow passing on a database
// uniqueness error (SQLite's "UNIQUE constraint failed", PostgreSQL's
// "duplicate key value violates unique constraint").
func isUniqueViolation(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	m := ae.Message
	return strings.Contains(m, "UNIQUE constraint failed") || strings.Contains(m, "duplicate key value violates unique constraint")
}

// DeleteRun marks a run deleted; searches no longer return it.
func (c *Client) DeleteRun(ctx context.Context, runID string) error {
	return c.call(ctx, http.MethodPost, "runs/delete", nil, map[string]string{"run_id": runID}, nil)
}

// EndRun sets the run's final status: FINISHED or FAILED.
func (c *Client) EndRun(ctx context.Context, runID, status string) error {
	in := map[string]any{"run_id": runID, "status": status, "end_time": time.Now().UnixMilli()}
	return c.call(ctx, http.MethodPost, "runs/update", nil, in, nil)
}

// LogArtifact uploads data as the run artifact at relPath through the
// server's artifact proxy (runs whose artifact URI is mlflow-artifacts:/).
func (c *Client) LogArtifact(ctx context.Context, run RunInfo, relPath string, data []byte) error {
	const scheme = "mlflow-artifacts:"
	if !strings.HasPrefix(run.ArtifactURI, scheme) {
		return fmt.Errorf("mlflow: run %s stores artifacts at %q, not through the server's proxy; start the server with --artifacts-destination", run.RunID, run.ArtifactURI)
	}
	root := strings.TrimLeft(strings.TrimPrefix(run.ArtifactURI, scheme), "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodPut,
		c.base+"/api/2.0/mlflow-artifacts/artifacts/"+root+"/"+strings.TrimLeft(relPath, "/"), bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("mlflow: artifact %s: %w", relPath, err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	return c.do(req, "artifacts/"+relPath, nil)
}

// ArtifactSource is the URI of a run's artifact path, as a model version's
// source.
func ArtifactSource(run RunInfo, relPath string) string {
	return strings.TrimRight(run.ArtifactURI, "/") + "/" + strings.TrimLeft(relPath, "/")
}

// FileInfo is one entry of a run's artifact listing.
type FileInfo struct {
	Path  string `json:"path"`
	IsDir bool   `json:"is_dir"`
	Size  int64  `json:"file_size"`
}

// ListArtifacts lists a run's artifacts under path ("" for the root).
func (c *Client) ListArtifacts(ctx context.Context, runID, path string) ([]FileInfo, error) {
	q := url.Values{"run_id": {runID}}
	if path != "" {
		q.Set("path", path)
	}
	var out struct {
		Files []FileInfo `json:"files"`
	}
	err := c.call(ctx, http.MethodGet, "artifacts/list", q, nil, &out)
	return out.Files, err
}
