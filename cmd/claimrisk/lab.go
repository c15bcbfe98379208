package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/fnspec"
	"github.com/claimrisk/claimrisk/shared/mlflow"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
	"github.com/claimrisk/claimrisk/shared/training"
)

// labTitles are the workshop's labs (docs/labs/lab-N.md).
var labTitles = []string{
	1: "The use case and the running system",
	2: "Data and a baseline model",
	3: "Experiment tracking and the model registry",
	4: "Serving and deployment",
	5: "Monitoring",
	6: "Automating the lifecycle",
}

// labSteps are the step headings a failed check sends participants back
// to, by lab and step number. A test keeps them equal to the headings of
// the lab pages.
var labSteps = map[[2]int]string{
	{1, 3}: "Start the system",
	{2, 1}: "Generate the insurer's data",
	{2, 4}: "Upload the data and watch the training",
	{3, 6}: "Mirror the registry by hand",
	{4, 2}: "Ask for predictions",
	{4, 3}: "Break the contract on purpose",
	{5, 1}: "Send ordinary traffic and check it",
	{5, 3}: "Simulate an accident spike",
	{5, 4}: "Open the Evidently dashboard",
	{6, 3}: "Let the dataset scan find a dataset",
	{6, 4}: "Roll back by hand",
}

// step names a step of a lab for a hint.
func step(lab, n int) string {
	return fmt.Sprintf("lab %d, step %d: %s", lab, n, titleOf(labSteps, "step", lab, n))
}

// titleOf is the title of a lab's step or exercise n; a check that names
// one the labs do not have is a bug in the checker.
func titleOf(titles map[[2]int]string, what string, lab, n int) string {
	title, ok := titles[[2]int{lab, n}]
	if !ok {
		panic(fmt.Sprintf("lab %d has no %s %d", lab, what, n))
	}
	return title
}

// labExecutable finds this command; the function binaries are beside it.
// Tests point it at the binaries they built.
var labExecutable = os.Executable

// labResult is the state of one item a lab leaves behind: what is there,
// or what to do. A skipped item cannot be checked here (it needs a
// cluster) and counts as neither.
type labResult struct {
	ok, skip bool
	text     string
}

func done(format string, args ...any) labResult {
	return labResult{ok: true, text: fmt.Sprintf(format, args...)}
}
func todo(format string, args ...any) labResult {
	return labResult{text: fmt.Sprintf(format, args...)}
}
func skipped(format string, args ...any) labResult {
	return labResult{skip: true, text: fmt.Sprintf(format, args...)}
}

// labEnv is what the checks look at: the bucket, a running `claimrisk up`
// and the MLflow server.
type labEnv struct {
	bucket   *blobstore.Bucket
	binDir   string
	home     string
	state    map[string]string // nil when no system is running
	mlflow   *mlflow.Client    // nil when there is no tracking server
	http     *http.Client
	runs     []runstore.Run // newest first
	registry *registry.Registry
}

// component is the URL of a running component, or "".
func (e *labEnv) component(name string) string { return e.state[name] }

// get fetches url and reports the status, or an error when nothing answers.
func (e *labEnv) get(ctx context.Context, url string) (int, []byte, error) {
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

func (a *app) labCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "lab",
		Short: "Check the workshop's labs",
	}
	check := &cobra.Command{
		Use:   "check N",
		Short: "Tell whether lab N's outcome exists here, and which step to revisit if not",
		Long: `Check looks at what lab N leaves behind in this environment: the bucket,
the running 'claimrisk up' (found through $CLAIMRISK_HOME/up.json) and the
MLflow server it started (else MLFLOW_TRACKING_URI). It prints one line per
item, "ok" or "todo" with the step to revisit, then one line per exercise of
the lab (the exercises write their outcomes to $CLAIMRISK_HOME/exercises,
MLflow and the registry; "skip" when the outcome lives on a cluster this
machine does not reach). It exits with status 1 when something is missing
and names the first unfinished step or exercise.

Labs:
` + labList(),
		Example: "  claimrisk lab check 1\n  claimrisk lab check 3",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[0])
			if err != nil || n < 1 || n >= len(labTitles) {
				return usagef("%q is not a lab: give a number from 1 to %d", args[0], len(labTitles)-1)
			}
			ctx := cmd.Context()
			env, err := a.openLabEnv(ctx)
			if err != nil {
				return err
			}
			defer env.bucket.Close()
			fmt.Fprintf(a.stdout, "lab %d: %s\n", n, labTitles[n])
			results := append(labChecks[n](ctx, env), exerciseChecks[n](ctx, env)...)
			var firstStep, firstExercise string
			missing, checked := 0, 0
			for _, r := range results {
				mark := "ok  "
				switch {
				case r.skip:
					mark = "skip"
				case !r.ok:
					mark = "todo"
					missing++
					what, _, _ := strings.Cut(r.text, ":")
					if strings.HasPrefix(what, "exercise ") {
						firstExercise = cmp.Or(firstExercise, what)
					} else {
						firstStep = cmp.Or(firstStep, r.text)
					}
				}
				if !r.skip {
					checked++
				}
				fmt.Fprintf(a.stdout, "%s  %s\n", mark, r.text)
			}
			switch {
			case firstStep != "":
				return fmt.Errorf("lab %d is not done yet: %d of %d items to do (the todo lines say where)", n, missing, checked)
			case firstExercise != "":
				return fmt.Errorf("lab %d's steps are done, but %s is unfinished (%d of %d items to do)", n, firstExercise, missing, checked)
			}
			fmt.Fprintf(a.stdout, "lab %d is done\n", n)
			return nil
		},
	}
	c.AddCommand(check)
	return c
}

func labList() string {
	var b strings.Builder
	for n, t := range labTitles {
		if n > 0 {
			fmt.Fprintf(&b, "  %d  %s\n", n, t)
		}
	}
	return b.String()
}

func (a *app) openLabEnv(ctx context.Context) (*labEnv, error) {
	b, err := a.openBucket(ctx)
	if err != nil {
		return nil, err
	}
	env := &labEnv{bucket: b, home: config.Home(), http: &http.Client{Timeout: 5 * time.Second}, registry: registry.Open(b, model.Name)}
	if exe, err := labExecutable(); err == nil {
		env.binDir = filepath.Dir(exe)
	}
	if state, err := localrun.ReadState(env.home); err == nil {
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
			b.Close()
			return nil, err
		}
		env.mlflow = c
	}
	if env.runs, err = runstore.New(b).List(ctx); err != nil {
		b.Close()
		return nil, err
	}
	return env, nil
}

// labChecks are the checks of each lab.
var labChecks = []func(context.Context, *labEnv) []labResult{
	1: checkLab1, 2: checkLab2, 3: checkLab3, 4: checkLab4, 5: checkLab5, 6: checkLab6,
}

func checkLab1(ctx context.Context, env *labEnv) []labResult {
	var out []labResult
	var missing []string
	for _, f := range fnspec.Names() {
		if _, err := os.Stat(filepath.Join(env.binDir, f)); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		out = append(out, done("the function binaries are built in %s", env.binDir))
	} else {
		out = append(out, todo("no binary of %s in %s: run make build (see Set-up)", strings.Join(missing, ", "), env.binDir))
	}
	_, py := localrun.FindPython(env.binDir)
	_, ml := localrun.FindMLflow(env.binDir)
	if py && ml {
		out = append(out, done("the Python environment has MLflow and the Evidently job"))
	} else {
		out = append(out, todo("no Python environment with MLflow and Evidently: run make venv (see Set-up)"))
	}
	if env.state == nil {
		return append(out, todo("claimrisk up is not running (no %s): start it in a second terminal (%s)", localrun.StateFile(env.home), step(1, 3)))
	}
	out = append(out, done("claimrisk up is running (%s)", localrun.StateFile(env.home)))
	health := map[string]string{"mlflow": "/health", "evidently": "/api/version"}
	for _, f := range fnspec.All() {
		health[f.Name] = f.Ready
	}
	for _, name := range systemComponents() {
		url := env.component(name)
		if url == "" {
			out = append(out, todo("%s is not part of the running system: restart claimrisk up without --no-%s (%s)", name, name, step(1, 3)))
			continue
		}
		status, _, err := env.get(ctx, url+health[name])
		switch {
		case err != nil:
			out = append(out, todo("%s does not answer at %s: read %s and restart claimrisk up (%s)", name, url,
				filepath.Join(env.home, "logs", name+".log"), step(1, 3)))
		case name == "broker" || status == http.StatusOK:
			out = append(out, done("%s answers at %s", name, url))
		default:
			out = append(out, todo("%s answers %d at %s: read %s", name, status, url+health[name], filepath.Join(env.home, "logs", name+".log")))
		}
	}
	return out
}

// systemComponents are the parts of the system `claimrisk up` runs, in the
// order lab 1 checks them: the broker, the functions, MLflow and Evidently.
func systemComponents() []string {
	return slices.Concat([]string{"broker"}, fnspec.Names(), []string{"mlflow", "evidently"})
}

// datasets lists the dataset ids in the bucket.
func (e *labEnv) datasets(ctx context.Context) []string {
	ids, _ := e.bucket.Dirs(ctx, dataset.Prefix)
	var out []string
	for _, id := range ids {
		if ok, _ := e.bucket.Exists(ctx, dataset.KeyOf(id, dataset.ManifestObject)); ok {
			out = append(out, id)
		}
	}
	return out
}

// candidateKinds are the models every training fits.
var candidateKinds = []string{"legacy", "glm-base", "glm-accident"}

func checkLab2(ctx context.Context, env *labEnv) []labResult {
	ids := env.datasets(ctx)
	if len(ids) == 0 {
		return []labResult{todo("no dataset in the bucket %s: generate the data and upload it (%s, then %s)", env.bucket.URL, step(2, 1), step(2, 4))}
	}
	out := []labResult{done("%d dataset(s) in the bucket", len(ids))}
	// The first dataset trained with every candidate kind, and its runs.
	var trained string
	byKind := map[string]runstore.Run{}
	for _, id := range ids {
		kinds := map[string]runstore.Run{}
		for _, r := range env.runs {
			if r.DatasetID == id && r.Trigger != events.DriftDetected {
				kinds[r.Kind] = r
			}
		}
		if len(kinds) >= len(candidateKinds) {
			trained, byKind = id, kinds
			break
		}
	}
	if trained == "" {
		out = append(out, todo("no dataset has been trained yet: the upload's event starts training, so claimrisk up must run (%s); read %s",
			step(2, 4), filepath.Join(env.home, "logs", "train.log")))
	} else {
		out = append(out, done("dataset %s trained: %s", trained, strings.Join(candidateKinds, ", ")))
		legacy, glm := byKind["legacy"], byKind["glm-accident"]
		if glm.Metrics.Gini > legacy.Metrics.Gini {
			out = append(out, done("glm-accident ranks better than the legacy formula out of time: Gini %.4f against %.4f", glm.Metrics.Gini, legacy.Metrics.Gini))
		} else {
			out = append(out, todo("glm-accident does not beat the legacy formula on dataset %s (Gini %.4f against %.4f): upload the generated data (%s)",
				trained, glm.Metrics.Gini, legacy.Metrics.Gini, step(2, 4)))
		}
	}
	champ, err := env.registry.Resolve(ctx, registry.Champion)
	if err != nil {
		out = append(out, todo("the registry has no champion: the register function decides after training (%s); read %s",
			step(2, 4), filepath.Join(env.home, "logs", "register.log")))
	} else {
		out = append(out, done("%s v%d (%s) is the champion", model.Name, champ.Version, champ.Kind))
	}
	return out
}

func checkLab3(ctx context.Context, env *labEnv) []labResult {
	if env.mlflow == nil {
		return []labResult{todo("no MLflow server: claimrisk up starts one unless given --no-mlflow (%s)", step(1, 3))}
	}
	if err := env.mlflow.Ping(ctx); err != nil {
		return []labResult{todo("MLflow does not answer at %s: read %s (%s)", env.mlflow.URI(), filepath.Join(env.home, "logs", "mlflow.log"), step(1, 3))}
	}
	out := []labResult{done("MLflow answers at %s", env.mlflow.URI())}
	if len(env.runs) == 0 {
		return append(out, todo("no training runs in the bucket: lab 2 comes first (%s)", step(2, 4)))
	}
	logged := 0
	var notLogged []string
	for _, r := range env.runs {
		if r.MLflowRunID == "" {
			notLogged = append(notLogged, r.ID)
			continue
		}
		if _, err := env.mlflow.GetRun(ctx, r.MLflowRunID); err == nil {
			logged++
		} else {
			notLogged = append(notLogged, r.ID)
		}
	}
	if len(notLogged) == 0 {
		out = append(out, done("all %d training runs are in MLflow's experiment %s", logged, training.Experiment))
	} else {
		out = append(out, todo("%d of %d training runs are not in MLflow (%s): they were trained while MLflow was not running; "+
			"'claimrisk registry sync-mlflow' logs the registered ones (%s)", len(notLogged), len(env.runs), strings.Join(notLogged, ", "), step(3, 6)))
	}
	champ, err := env.registry.Resolve(ctx, registry.Champion)
	if err != nil {
		return append(out, todo("the bucket's registry has no champion: lab 2 comes first (%s)", step(2, 4)))
	}
	mv, err := env.mlflow.GetByAlias(ctx, model.Name, registry.Champion)
	switch {
	case err != nil:
		out = append(out, todo("MLflow has no %s@%s: mirror the registry (%s)", model.Name, registry.Champion, step(3, 6)))
	case mv.Version != strconv.Itoa(champ.Version):
		out = append(out, todo("MLflow's %s@%s is version %s, the bucket's is v%d: mirror the registry (%s)", model.Name, registry.Champion, mv.Version, champ.Version, step(3, 6)))
	default:
		out = append(out, done("MLflow's %s@%s is version %s, as in the bucket's registry", model.Name, registry.Champion, mv.Version))
	}
	return out
}

func checkLab4(ctx context.Context, env *labEnv) []labResult {
	url := env.component("predict")
	if url == "" {
		return []labResult{todo("no prediction API: claimrisk up is not running (%s)", step(1, 3))}
	}
	var out []labResult
	champ, champErr := env.registry.Resolve(ctx, registry.Champion)
	info, err := predictapi.NewClient(url, os.Getenv("CLAIMRISK_API_TOKEN")).Model(ctx)
	switch {
	case champErr != nil:
		out = append(out, todo("the registry has no champion for the API to serve: lab 2 comes first (%s)", step(2, 4)))
	case err != nil:
		out = append(out, todo("the prediction API at %s does not serve a model (%v): read %s", url, err, filepath.Join(env.home, "logs", "predict.log")))
	case info.Version != champ.Version:
		out = append(out, todo("the prediction API serves v%d but the champion is v%d: it checks the alias every 15 s (CLAIMRISK_POLL_INTERVAL); look again", info.Version, champ.Version))
	default:
		out = append(out, done("the prediction API at %s serves %s v%d, the champion", url, info.Name, info.Version))
	}
	status, body, err := env.get(ctx, url+"/openapi.json")
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	switch {
	case err != nil || status != http.StatusOK:
		out = append(out, todo("GET %s/openapi.json failed (status %d, %v): read %s", url, status, err, filepath.Join(env.home, "logs", "predict.log")))
	case json.Unmarshal(body, &doc) != nil || doc.Paths["/v1/predict"] == nil:
		out = append(out, todo("%s/openapi.json does not describe /v1/predict: is something else listening there?", url))
	default:
		out = append(out, done("the API's contract is at %s/openapi.json (%d paths)", url, len(doc.Paths)))
	}
	keys, _ := env.bucket.Keys(ctx, predlog.PredictionsPrefix)
	if len(keys) == 0 {
		out = append(out, todo("no logged predictions in the bucket: ask for some (%s); the log is written within 10 s", step(4, 2)))
	} else {
		out = append(out, done("the payload log holds %d object(s) of answered predictions", len(keys)))
	}
	return out
}

// reports reads every drift report, oldest first.
func (e *labEnv) reports(ctx context.Context) []driftcheck.Report {
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

func checkLab5(ctx context.Context, env *labEnv) []labResult {
	reports := env.reports(ctx)
	if len(reports) == 0 {
		return []labResult{todo("no drift report in the bucket: send traffic and run a drift check (%s)", step(5, 1))}
	}
	out := []labResult{done("%d drift report(s), the latest %s", len(reports), reports[len(reports)-1].ID)}
	labelled := slices.IndexFunc(reports, func(r driftcheck.Report) bool { return r.Quality != nil })
	if labelled < 0 {
		out = append(out, todo("no report has checked quality: send traffic with its outcomes (simulate without --no-feedback) and check again (%s)", step(5, 1)))
	} else {
		out = append(out, done("report %s checked quality on %d labelled predictions", reports[labelled].ID, reports[labelled].Quality.LabelledRows))
	}
	detected := slices.IndexFunc(reports, func(r driftcheck.Report) bool { return r.DriftDetected })
	if detected < 0 {
		out = append(out, todo("no report has detected drift yet: simulate the accident spike and check again (%s)", step(5, 3)))
	} else {
		r := reports[detected]
		reason := "drifted columns"
		if len(r.Reasons) > 0 {
			reason = r.Reasons[0]
		}
		out = append(out, done("report %s detected drift: %s", r.ID, reason))
	}
	keys, _ := env.bucket.Keys(ctx, "drift/evidently/")
	summaries := 0
	for _, k := range keys {
		if strings.HasSuffix(k, "/summary.json") {
			summaries++
		}
	}
	if summaries == 0 {
		out = append(out, todo("no Evidently report in the bucket: the Evidently job runs after each drift check while claimrisk up runs; "+
			"wait a minute, or read %s (%s)", filepath.Join(env.home, "logs", "evidently-job.log"), step(5, 4)))
	} else {
		out = append(out, done("the Evidently job reported on %d window(s)", summaries))
	}
	return out
}

// datasetScanTrigger is what functions/train records as the trigger of a
// training started by the dataset scan.
const datasetScanTrigger = "dataset scan"

func checkLab6(ctx context.Context, env *labEnv) []labResult {
	var out []labResult
	decided := func(r runstore.Run) (registry.Version, registry.Decision, bool) {
		v, ok, err := env.registry.FindRun(ctx, r.ID)
		if err != nil || !ok {
			return v, registry.Decision{}, false
		}
		d, err := env.registry.Decision(ctx, v.Version)
		return v, d, err == nil
	}
	verdict := func(d registry.Decision) string {
		if d.Promoted {
			return "promoted"
		}
		return "rejected"
	}
	retrained := slices.IndexFunc(env.runs, func(r runstore.Run) bool { return r.Trigger == events.DriftDetected })
	if retrained < 0 {
		out = append(out, todo("no training after detected drift: it starts when a drift check detects drift (%s); read %s",
			step(5, 3), filepath.Join(env.home, "logs", "train.log")))
	} else {
		r := env.runs[retrained]
		out = append(out, done("run %s retrained %s after detected drift", r.ID, r.Kind))
		found := false
		for _, r := range env.runs {
			if r.Trigger != events.DriftDetected {
				continue
			}
			if v, d, ok := decided(r); ok {
				out = append(out, done("the promotion gate %s v%d, the retrained model: %s", verdict(d), v.Version, d.Reason))
				found = true
				break
			}
		}
		if !found {
			out = append(out, todo("no decision on a retrained model yet: the register function judges it within seconds; read %s",
				filepath.Join(env.home, "logs", "register.log")))
		}
	}
	scanned := slices.IndexFunc(env.runs, func(r runstore.Run) bool { return r.Trigger == datasetScanTrigger })
	if scanned < 0 {
		out = append(out, todo("no dataset trained by the dataset scan: upload without an event and send the scan's cron event (%s)", step(6, 3)))
	} else {
		out = append(out, done("the dataset scan trained dataset %s", env.runs[scanned].DatasetID))
	}
	moves, err := env.registry.Log(ctx)
	if err != nil {
		return append(out, todo("cannot read the registry's audit log: %v", err))
	}
	human := slices.IndexFunc(moves, func(m registry.Move) bool { return strings.HasPrefix(m.Actor, "user:") })
	if human < 0 {
		out = append(out, todo("no promotion by hand in the audit log: roll back with a reason (%s)", step(6, 4)))
	} else {
		m := moves[human]
		out = append(out, done("%s moved %s to v%d by hand: %s", m.Actor, m.Alias, m.Version, m.Reason))
	}
	dead, err := env.bucket.Keys(ctx, "deadletter/")
	switch {
	case err != nil && !errors.Is(err, blobstore.ErrNotFound):
		out = append(out, todo("cannot list dead letters: %v", err))
	case len(dead) > 0:
		out = append(out, todo("%d event(s) were not delivered: read %s in the bucket", len(dead), dead[len(dead)-1]))
	default:
		out = append(out, done("no dead letters: every event was delivered"))
	}
	return out
}
