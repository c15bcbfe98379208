// Package labcheck tells whether a workshop lab's outcome exists in this
// environment: the bucket, a running `claimrisk up`, the MLflow server it
// started and the files the exercises write under $CLAIMRISK_HOME. Each
// item is done, to do (naming the step or exercise to revisit) or skipped
// (its outcome lives on a cluster this machine does not reach).
//
// `claimrisk lab check N` prints what Check returns; the command owns the
// arguments, the output and the exit status.
package labcheck

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/mlflow"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
)

// titles are the workshop's labs (docs/labs/lab-N.md).
var titles = []string{
	1: "The use case and the running system",
	2: "Data and a baseline model",
	3: "Experiment tracking and the model registry",
	4: "Serving and deployment",
	5: "Monitoring",
	6: "Automating the lifecycle",
}

// Count is the number of labs; they are numbered from 1.
func Count() int { return len(titles) - 1 }

// Title is lab n's title, or "" when there is no lab n.
func Title(n int) string {
	if n < 1 || n >= len(titles) {
		return ""
	}
	return titles[n]
}

// A heading is a step ("## N. title") or an exercise ("### Exercise L.N:
// title") of a lab page.
type heading struct {
	lab      int
	exercise bool
	n        int
}

// headings are the steps a failed check sends participants back to, and
// every exercise, by lab and number. Tests keep them equal to the headings
// of the lab pages.
var headings = map[heading]string{
	{1, false, 3}: "Start the system",
	{1, true, 1}:  "The routing table",
	{1, true, 2}:  "Ask every part for its health",

	{2, false, 1}: "Generate the insurer's data",
	{2, false, 4}: "Upload the data and watch the training",
	{2, true, 1}:  "Fit the claim model in Python",
	{2, true, 2}:  "What the crash rate adds",

	{3, false, 6}: "Mirror the registry by hand",
	{3, true, 1}:  "Log your run to MLflow",
	{3, true, 2}:  "Register it, with an alias and tags",

	{4, false, 2}: "Ask for predictions",
	{4, false, 3}: "Break the contract on purpose",
	{4, true, 1}:  "Add a field to a request",
	{4, true, 2}:  "A Python client for the API",
	{4, true, 3}:  "Change the autoscaling target on the cluster",

	{5, false, 1}: "Send ordinary traffic and check it",
	{5, false, 3}: "Simulate an accident spike",
	{5, false, 4}: "Open the Evidently dashboard",
	{5, true, 1}:  "A drift scenario of your own",
	{5, true, 2}:  "A fairness question",

	{6, false, 3}: "Let the dataset scan find a dataset",
	{6, false, 4}: "Roll back by hand",
	{6, true, 1}:  "Tighten the promotion gate",
	{6, true, 2}:  "Notify on a rejection",
}

// StepTitle is the title of lab's step n, when a check names it.
func StepTitle(lab, n int) (string, bool) {
	t, ok := headings[heading{lab, false, n}]
	return t, ok
}

// ExerciseTitle is the title of lab's exercise n.
func ExerciseTitle(lab, n int) (string, bool) {
	t, ok := headings[heading{lab, true, n}]
	return t, ok
}

// titleOf is the title of a heading; a check that names one the labs do
// not have is a bug in the checker.
func titleOf(h heading) string {
	title, ok := headings[h]
	if !ok {
		panic(fmt.Sprintf("lab %d has no heading %+v", h.lab, h))
	}
	return title
}

// step names a step of a lab for a hint.
func step(lab, n int) string {
	return fmt.Sprintf("lab %d, step %d: %s", lab, n, titleOf(heading{lab, false, n}))
}

// exercise names an exercise for a check line.
func exercise(lab, n int) string {
	return fmt.Sprintf("exercise %d.%d (%s)", lab, n, titleOf(heading{lab, true, n}))
}

// Result is the state of one item a lab leaves behind: what is there, or
// what to do. A skipped item cannot be checked here and counts as neither.
type Result struct {
	OK, Skip bool
	Text     string
}

func done(format string, args ...any) Result {
	return Result{OK: true, Text: fmt.Sprintf(format, args...)}
}
func todo(format string, args ...any) Result {
	return Result{Text: fmt.Sprintf(format, args...)}
}
func skipped(format string, args ...any) Result {
	return Result{Skip: true, Text: fmt.Sprintf(format, args...)}
}

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

// Check lists lab n's items, its steps' outcomes first and then one or
// more per exercise. It panics when there is no lab n.
func (e *Env) Check(ctx context.Context, n int) []Result {
	if Title(n) == "" {
		panic(fmt.Sprintf("labcheck: no lab %d", n))
	}
	return append(labChecks[n](ctx, e), exerciseChecks[n](ctx, e)...)
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
