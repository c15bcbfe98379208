package labcheck

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/fnspec"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
	"github.com/claimrisk/claimrisk/shared/training"
)

// labChecks are the checks of each lab.
var labChecks = []func(context.Context, *Env) []Result{
	1: checkLab1, 2: checkLab2, 3: checkLab3, 4: checkLab4, 5: checkLab5, 6: checkLab6,
}

func checkLab1(ctx context.Context, env *Env) []Result {
	var out []Result
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

// candidateKinds are the models every training fits.
var candidateKinds = []string{"legacy", "glm-base", "glm-accident"}

func checkLab2(ctx context.Context, env *Env) []Result {
	ids := env.datasets(ctx)
	if len(ids) == 0 {
		return []Result{todo("no dataset in the bucket %s: generate the data and upload it (%s, then %s)", env.bucket.URL, step(2, 1), step(2, 4))}
	}
	out := []Result{done("%d dataset(s) in the bucket", len(ids))}
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

func checkLab3(ctx context.Context, env *Env) []Result {
	if env.mlflow == nil {
		return []Result{todo("no MLflow server: claimrisk up starts one unless given --no-mlflow (%s)", step(1, 3))}
	}
	if err := env.mlflow.Ping(ctx); err != nil {
		return []Result{todo("MLflow does not answer at %s: read %s (%s)", env.mlflow.URI(), filepath.Join(env.home, "logs", "mlflow.log"), step(1, 3))}
	}
	out := []Result{done("MLflow answers at %s", env.mlflow.URI())}
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

func checkLab4(ctx context.Context, env *Env) []Result {
	url := env.component("predict")
	if url == "" {
		return []Result{todo("no prediction API: claimrisk up is not running (%s)", step(1, 3))}
	}
	var out []Result
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

func checkLab5(ctx context.Context, env *Env) []Result {
	reports := env.reports(ctx)
	if len(reports) == 0 {
		return []Result{todo("no drift report in the bucket: send traffic and run a drift check (%s)", step(5, 1))}
	}
	out := []Result{done("%d drift report(s), the latest %s", len(reports), reports[len(reports)-1].ID)}
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

func checkLab6(ctx context.Context, env *Env) []Result {
	var out []Result
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
