package labcheck

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/mlflow"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/training"
)

// checkLab3 checks what lab 3's steps leave behind (Experiment tracking and the model registry).
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

// The names exercises 3.1 and 3.2 give their run and registered model.
const (
	exerciseRunName   = "python-glm"
	exerciseModelName = "claim-risk-python"
	exerciseAlias     = "candidate"
)

// exercisesLab3 checks each of lab 3's exercises.
func exercisesLab3(ctx context.Context, env *Env) []Result {
	by1, by2 := exercise(3, 1), exercise(3, 2)
	if env.mlflow == nil || env.mlflow.Ping(ctx) != nil {
		return []Result{todo("%s: no MLflow server answers (%s)", by1, step(1, 3)), todo("%s: no MLflow server answers", by2)}
	}
	var out []Result
	exp, err := env.mlflow.GetExperimentByName(ctx, training.Experiment)
	var runs []mlflow.Run
	if err == nil {
		runs, err = env.mlflow.SearchRuns(ctx, []string{exp.ID}, fmt.Sprintf("tags.mlflow.runName = '%s'", exerciseRunName), 100)
	}
	switch {
	case err != nil:
		out = append(out, todo("%s: cannot search MLflow's experiment %s: %v", by1, training.Experiment, err))
	case len(runs) == 0:
		out = append(out, todo("%s: no run named %s in MLflow's experiment %s yet", by1, exerciseRunName, training.Experiment))
	default:
		r := runs[0] // the newest
		var missing []string
		if len(r.Data.Params) == 0 {
			missing = append(missing, "parameters (mlflow.log_params)")
		}
		if !slices.ContainsFunc(r.Data.Metrics, func(m mlflow.Metric) bool { return m.Key == "valid_gini" }) {
			missing = append(missing, "the metric valid_gini")
		}
		if len(r.Inputs.DatasetInputs) == 0 {
			missing = append(missing, "a dataset (mlflow.log_input)")
		}
		if !env.runHasModel(ctx, r.Info.RunID) {
			missing = append(missing, "a model (mlflow.statsmodels.log_model or mlflow.sklearn.log_model)")
		}
		if len(missing) == 0 {
			out = append(out, done("%s: run %s has parameters, valid_gini, a dataset and a model", by1, r.Info.RunID))
		} else {
			out = append(out, todo("%s: run %s (%s) has no %s", by1, exerciseRunName, r.Info.RunID, strings.Join(missing, ", no ")))
		}
	}
	mv, err := env.mlflow.GetByAlias(ctx, exerciseModelName, exerciseAlias)
	if err != nil {
		return append(out, todo("%s: MLflow has no %s@%s yet: register the run as %s and set the alias", by2, exerciseModelName, exerciseAlias, exerciseModelName))
	}
	if !slices.ContainsFunc(runs, func(r mlflow.Run) bool { return r.Info.RunID == mv.RunID }) {
		return append(out, todo("%s: %s@%s is version %s, which does not come from a run named %s", by2, exerciseModelName, exerciseAlias, mv.Version, exerciseRunName))
	}
	tags := map[string]string{}
	for _, t := range mv.Tags {
		tags[t.Key] = t.Value
	}
	fingerprints := env.fingerprints(ctx)
	switch fp := tags["data_fingerprint"]; {
	case fp == "":
		out = append(out, todo("%s: version %s has no tag data_fingerprint: tag it with the full fingerprint of the dataset it learned from", by2, mv.Version))
	case !slices.Contains(fingerprints, fp):
		out = append(out, todo("%s: version %s's data_fingerprint %.16s... is not the fingerprint of a dataset in the bucket (the manifest's \"fingerprint\")", by2, mv.Version, fp))
	case tags["library"] == "":
		out = append(out, todo("%s: version %s has no tag library: say which library fitted it", by2, mv.Version))
	default:
		out = append(out, done("%s: %s@%s is version %s, tagged with its dataset and library (%s)", by2, exerciseModelName, exerciseAlias, mv.Version, tags["library"]))
	}
	return out
}

// runHasModel reports whether a run logged a model: in MLflow 3 a logged
// model is an output of the run; before, an artifact directory.
func (e *Env) runHasModel(ctx context.Context, runID string) bool {
	status, body, err := e.get(ctx, e.mlflow.URI()+"/api/2.0/mlflow/runs/get?run_id="+runID)
	if err == nil && status == 200 {
		var got struct {
			Run struct {
				Outputs struct {
					ModelOutputs []json.RawMessage `json:"model_outputs"`
				} `json:"outputs"`
			} `json:"run"`
		}
		if json.Unmarshal(body, &got) == nil && len(got.Run.Outputs.ModelOutputs) > 0 {
			return true
		}
	}
	files, err := e.mlflow.ListArtifacts(ctx, runID, "")
	return err == nil && len(files) > 0
}

// fingerprints are the full fingerprints of the bucket's datasets.
func (e *Env) fingerprints(ctx context.Context) []string {
	var out []string
	for _, id := range e.datasets(ctx) {
		var m dataset.Manifest
		if err := e.bucket.ReadJSON(ctx, dataset.KeyOf(id, dataset.ManifestObject), &m); err == nil {
			out = append(out, m.Fingerprint)
		}
	}
	return out
}
