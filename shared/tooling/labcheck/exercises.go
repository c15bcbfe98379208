package labcheck

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/claimrisk/claimrisk/config/knative"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/mlflow"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
	"github.com/claimrisk/claimrisk/shared/training"
)

// exerciseChecks are the checks of each lab's exercises, run after the
// lab's own: each item says whether the exercise's outcome exists.
var exerciseChecks = []func(context.Context, *Env) []Result{
	1: exercisesLab1, 2: exercisesLab2, 3: exercisesLab3, 4: exercisesLab4, 5: exercisesLab5, 6: exercisesLab6,
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

func exercisesLab1(ctx context.Context, env *Env) []Result {
	var out []Result
	by := exercise(1, 1)
	if data, r, ok := env.exerciseFile("routes.txt", by); !ok {
		out = append(out, r)
	} else if triggers, err := localrun.LoadTriggers(knative.Base, "base"); err != nil {
		out = append(out, todo("%s: cannot read the Triggers: %v", by, err))
	} else {
		lines := strings.Split(string(data), "\n")
		var missing []string
		for _, t := range triggers {
			want := []string{t.Attributes["type"], t.Subscriber}
			if c := t.Attributes["check"]; c != "" {
				want = append(want, c)
			}
			if !slices.ContainsFunc(lines, func(l string) bool { return containsWords(l, want) }) {
				missing = append(missing, fmt.Sprintf("%s (%s to %s)", t.Name, strings.Join(want[:1], ""), t.Subscriber))
			}
		}
		if len(missing) == 0 {
			out = append(out, done("%s: routes.txt routes all %d Triggers' events to their functions", by, len(triggers)))
		} else {
			out = append(out, todo("%s: routes.txt has no line with the event type and the subscriber of %s", by, strings.Join(missing, ", ")))
		}
	}
	by = exercise(1, 2)
	if data, r, ok := env.exerciseFile("health.txt", by); !ok {
		out = append(out, r)
	} else if env.state == nil {
		out = append(out, todo("%s: claimrisk up is not running, so there is nothing to compare health.txt with (%s)", by, step(1, 3)))
	} else {
		lines := strings.Split(string(data), "\n")
		var missing []string
		for _, name := range systemComponents() {
			url := env.component(name)
			if url == "" {
				continue
			}
			if !slices.ContainsFunc(lines, func(l string) bool { return containsWords(l, []string{name}) && statusCode.MatchString(l) }) {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			out = append(out, done("%s: health.txt gives an HTTP status for every part of the running system", by))
		} else {
			out = append(out, todo("%s: health.txt has no line with the name and an HTTP status of %s", by, strings.Join(missing, ", ")))
		}
	}
	return out
}

var statusCode = regexp.MustCompile(`\b[1-5]\d\d\b`)

// containsWords reports whether line holds every word, each as a whole
// word (so "train" is not found in "trained").
func containsWords(line string, words []string) bool {
	for _, w := range words {
		re := regexp.MustCompile(`(^|[^A-Za-z0-9_.-])` + regexp.QuoteMeta(w) + `($|[^A-Za-z0-9_.-])`)
		if !re.MatchString(line) {
			return false
		}
	}
	return true
}

// lab2Answer is what exercises 2.1 and 2.2 write to exercises/lab2.json.
type lab2Answer struct {
	DatasetID        string `json:"dataset_id"`
	Library          string `json:"library"`
	WithAccidents    *fit   `json:"with_accidents"`
	WithoutAccidents *fit   `json:"without_accidents"`
}

type fit struct {
	Gini float64 `json:"gini"`
	AUC  float64 `json:"auc"`
}

// giniTolerance is how close a Python GLM's out-of-time Gini comes to the
// Go GLM's on the same data: the solution's statsmodels and scikit-learn
// fits land within 0.002 of it (docs/labs/lab-2.md); other reasonable
// feature choices within 0.02.
const giniTolerance = 0.02

func exercisesLab2(ctx context.Context, env *Env) []Result {
	var a lab2Answer
	if r, ok := env.exerciseJSON("lab2.json", exercise(2, 1), &a); !ok {
		return []Result{r, todo("%s: it adds without_accidents to the same lab2.json", exercise(2, 2))}
	}
	goRun := func(kind string) (float64, bool) {
		for _, r := range env.runs {
			if r.DatasetID == a.DatasetID && r.Kind == kind && r.Trigger != events.DriftDetected {
				return r.Metrics.Gini, true
			}
		}
		return 0, false
	}
	compare := func(by, key string, f *fit, kind, hint string) Result {
		switch gini, ok := goRun(kind); {
		case f == nil:
			return todo("%s: lab2.json has no %s", by, key)
		case a.DatasetID == "":
			return todo("%s: lab2.json has no dataset_id: say which dataset you fitted on", by)
		case !ok:
			return todo("%s: the bucket has no %s run on dataset %q: fit on a dataset that lab 2 uploaded (%s)", by, kind, a.DatasetID, step(2, 4))
		case math.Abs(f.Gini-gini) > giniTolerance:
			return todo("%s: your out-of-time Gini %.4f is %.4f away from %s's %.4f on the same data: %s", by, f.Gini, math.Abs(f.Gini-gini), kind, gini, hint)
		default:
			return done("%s: out-of-time Gini %.4f with %s, against %s's %.4f", by, f.Gini, orWord(a.Library, "Python"), kind, gini)
		}
	}
	return []Result{
		compare(exercise(2, 1), "with_accidents", a.WithAccidents, "glm-accident",
			"fit on the policy years before the last, judge on the last only, and include the log of the district's crash rate"),
		compare(exercise(2, 2), "without_accidents", a.WithoutAccidents, "glm-base",
			"the same fit without the crash rate and the injury share"),
	}
}

func orWord(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// The names exercises 3.1 and 3.2 give their run and registered model.
const (
	exerciseRunName   = "python-glm"
	exerciseModelName = "claim-risk-python"
	exerciseAlias     = "candidate"
)

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

// lab4Answer is what exercise 4.2's client writes to exercises/lab4.json:
// the records it sent and the API's answer, as it came.
type lab4Answer struct {
	Records []schema.PolicyRecord      `json:"records"`
	Answer  predictapi.PredictResponse `json:"answer"`
}

// refusalsBeforeExercises are the requests lab 4, step 3 sends that the API
// refuses; exercise 4.1 adds at least one.
const refusalsBeforeExercises = 2

func exercisesLab4(ctx context.Context, env *Env) []Result {
	var out []Result
	url := env.component("predict")
	by := exercise(4, 1)
	if url == "" {
		out = append(out, todo("%s: no prediction API: claimrisk up is not running (%s)", by, step(1, 3)))
	} else if refused, err := env.refusals(ctx, url); err != nil {
		out = append(out, todo("%s: cannot read %s/metrics: %v", by, url, err))
	} else if refused <= refusalsBeforeExercises {
		out = append(out, todo("%s: the API has refused %d request(s); %s sends %d, and this exercise one more: send the quote with a field added",
			by, refused, step(4, 3), refusalsBeforeExercises))
	} else {
		out = append(out, done("%s: the API refused %d requests with a 4xx status, %d more than %s sends", by, refused, refused-refusalsBeforeExercises, step(4, 3)))
	}

	by = exercise(4, 2)
	var a lab4Answer
	if r, ok := env.exerciseJSON("lab4.json", by, &a); !ok {
		out = append(out, r)
	} else {
		out = append(out, env.checkClient(ctx, by, url, a))
	}
	return append(out, clusterExercise(ctx))
}

// refusals counts the prediction requests the API answered with a 4xx
// status, from its Prometheus metrics.
func (e *Env) refusals(ctx context.Context, url string) (int, error) {
	status, body, err := e.get(ctx, url+"/metrics")
	if err != nil {
		return 0, err
	}
	if status != 200 {
		return 0, fmt.Errorf("status %d", status)
	}
	n := 0
	for _, line := range strings.Split(string(body), "\n") {
		m := refusedLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[1], 64)
		if err == nil {
			n += int(v)
		}
	}
	return n, nil
}

var refusedLine = regexp.MustCompile(`^claimrisk_http_requests_total\{route="/v1/predict",status="4\d\d"\} (\S+)$`)

// checkClient asks the API again for exercise 4.2's records: while the same
// model serves, its answer must be the one the client saved.
func (e *Env) checkClient(ctx context.Context, by, url string, a lab4Answer) Result {
	switch {
	case len(a.Records) == 0 || len(a.Answer.Predictions) != len(a.Records):
		return todo("%s: lab4.json needs the records sent and the API's answer, one prediction per record", by)
	case !strings.HasPrefix(a.Answer.RequestID, "req-"):
		return todo("%s: the answer in lab4.json has no request_id from the API", by)
	case url == "":
		return todo("%s: no prediction API to compare with: claimrisk up is not running (%s)", by, step(1, 3))
	}
	again, err := predictapi.NewClient(url, os.Getenv("CLAIMRISK_API_TOKEN")).Predict(ctx, a.Records)
	if err != nil {
		return todo("%s: the API refuses the records in lab4.json: %v", by, err)
	}
	if again.Model.Version != a.Answer.Model.Version {
		return todo("%s: lab4.json was answered by v%d, and v%d serves now: run your client again to compare", by, a.Answer.Model.Version, again.Model.Version)
	}
	for i, p := range again.Predictions {
		if math.Abs(p.ClaimProbability-a.Answer.Predictions[i].ClaimProbability) > 1e-9 {
			return todo("%s: the API gives %s a probability of %.6f, lab4.json says %.6f: save the API's answer as it came", by,
				p.PolicyID, p.ClaimProbability, a.Answer.Predictions[i].ClaimProbability)
		}
	}
	return done("%s: lab4.json holds the API's answer %s for %d records, as v%d still gives it", by, a.Answer.RequestID, len(a.Records), a.Answer.Model.Version)
}

// clusterExercise looks at the predict Service on a Knative cluster when
// kubectl reaches one, and says it is skipped otherwise.
func clusterExercise(ctx context.Context) Result {
	by := exercise(4, 3)
	if _, err := exec.LookPath("kubectl"); err != nil {
		return skipped("%s: no kubectl here; it is checked where the cluster runs", by)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "kubectl", "get", "ksvc", "predict", "-n", "claimrisk",
		"-o", `jsonpath={.spec.template.metadata.annotations.autoscaling\.knative\.dev/target}`).Output()
	if err != nil {
		return skipped("%s: kubectl finds no Knative Service predict in the namespace claimrisk; it is checked where the cluster runs", by)
	}
	target := strings.TrimSpace(string(out))
	if target == "" || target == knativeBaseTarget {
		return todo("%s: the predict Service's autoscaling target is still %s", by, orWord(target, "Knative's default"))
	}
	return done("%s: the predict Service's autoscaling target is %s (config/knative/base says %s)", by, target, knativeBaseTarget)
}

// knativeBaseTarget is the autoscaling target of config/knative/base/predict.yaml.
const knativeBaseTarget = "50"

// lab5Answer is what exercise 5.2 writes to exercises/lab5.json.
type lab5Answer struct {
	Report          string  `json:"report"`
	DisparateImpact float64 `json:"disparate_impact"`
	FavourableF     float64 `json:"favourable_rate_F"`
	FavourableM     float64 `json:"favourable_rate_M"`
	FourFifths      float64 `json:"four_fifths_ratio"`
}

// stepColumns are the columns lab 5's steps make drift (the unit bug, the
// broker's book of step 6 and the gender proxy); exercise 5.1's scenario
// drifts another.
var stepColumns = []string{"annual_mileage", "vehicle_type", "home_area", "usage", "coverage"}

func exercisesLab5(ctx context.Context, env *Env) []Result {
	var out []Result
	reports := env.reports(ctx)
	by := exercise(5, 1)
	var own []string
	for _, r := range reports {
		for _, c := range r.DriftedColumns {
			if !slices.Contains(stepColumns, c.Column) && !slices.Contains(own, c.Column) {
				own = append(own, c.Column)
			}
		}
	}
	if len(own) == 0 {
		out = append(out, todo("%s: no drift report has found drift in a column other than %s, which the lab's steps move: send your scenario's traffic and run a drift check",
			by, strings.Join(stepColumns[:len(stepColumns)-1], ", ")+" or "+stepColumns[len(stepColumns)-1]))
	} else {
		out = append(out, done("%s: a drift check found your scenario's drift in %s", by, strings.Join(own, ", ")))
	}

	by = exercise(5, 2)
	var a lab5Answer
	if r, ok := env.exerciseJSON("lab5.json", by, &a); !ok {
		return append(out, r)
	}
	i := slices.IndexFunc(reports, func(r driftcheck.Report) bool { return r.ID == a.Report })
	switch {
	case i < 0:
		out = append(out, todo("%s: lab5.json names report %q, which is not in the bucket", by, a.Report))
	case reports[i].Fairness == nil:
		out = append(out, todo("%s: report %s has no fairness figures to compare with", by, a.Report))
	case math.Abs(a.DisparateImpact-reports[i].Fairness.DisparateImpact) > 0.005:
		out = append(out, todo("%s: your disparate impact %.3f is not the report's %.3f: join the window's predictions to the customers' sex and divide the mean probabilities (F over M)",
			by, a.DisparateImpact, reports[i].Fairness.DisparateImpact))
	case a.FavourableF <= 0 || a.FavourableF > 1 || a.FavourableM <= 0 || a.FavourableM > 1:
		out = append(out, todo("%s: the favourable rates must be shares between 0 and 1", by))
	case math.Abs(a.FourFifths-math.Min(a.FavourableF, a.FavourableM)/math.Max(a.FavourableF, a.FavourableM)) > 0.005:
		out = append(out, todo("%s: four_fifths_ratio %.3f is not the lower favourable rate over the higher (%.3f over %.3f)", by, a.FourFifths,
			math.Min(a.FavourableF, a.FavourableM), math.Max(a.FavourableF, a.FavourableM)))
	default:
		verdict := "passes"
		if a.FourFifths < 0.8 {
			verdict = "fails"
		}
		out = append(out, done("%s: report %s: mean-probability ratio %.3f; favourable rates F %.3f, M %.3f, ratio %.3f %s the four-fifths rule",
			by, a.Report, a.DisparateImpact, a.FavourableF, a.FavourableM, a.FourFifths, verdict))
	}
	return out
}

// notifications is the file exercise 6.2's notifier appends each event to.
const notifications = "notifications.jsonl"

func exercisesLab6(ctx context.Context, env *Env) []Result {
	var out []Result
	by := exercise(6, 1)
	defaults := gateDefaults()
	found := false
	for _, v := range env.versionsNewestFirst(ctx) {
		d, err := env.registry.Decision(ctx, v)
		if err != nil || d.Promoted {
			continue
		}
		if name, got, ok := tightened(d.Reason, defaults); ok {
			out = append(out, done("%s: v%d was rejected by a gate whose %s is %s: %s", by, v, name, got, d.Reason))
			found = true
			break
		}
	}
	if !found {
		out = append(out, todo("%s: no rejection names a floor, margin or tolerance other than the defaults: restart claimrisk up with a tighter CLAIMRISK_MIN_GINI (for one) and send a candidate", by))
	}

	by = exercise(6, 2)
	data, r, ok := env.exerciseFile(notifications, by)
	if !ok {
		return append(out, r)
	}
	rejected := 0
	for _, line := range strings.Split(string(data), "\n") {
		var e struct {
			Type string `json:"type"`
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.Type == events.ModelRejected {
			rejected++
		}
	}
	if rejected == 0 {
		out = append(out, todo("%s: %s has no line with \"type\": %q yet: add the Trigger, restart claimrisk up with --triggers, and send a candidate the gate rejects",
			by, filepath.Join(env.exercisesDir(), notifications), events.ModelRejected))
	} else {
		out = append(out, done("%s: your notifier received %d %s event(s)", by, rejected, events.ModelRejected))
	}
	return out
}

// versionsNewestFirst lists the registry's versions, newest first.
func (e *Env) versionsNewestFirst(ctx context.Context) []int {
	vs, err := e.registry.Versions(ctx)
	if err != nil {
		return nil
	}
	slices.Sort(vs)
	slices.Reverse(vs)
	return vs
}

// gateSettings are the numbers a promotion decision's reason quotes, by the
// word that comes before them.
var gateSettings = []struct {
	pattern *regexp.Regexp
	field   string // of config.Register
	percent bool   // quoted as a percentage
}{
	{regexp.MustCompile(`AUC [0-9.]+ is below the floor ([0-9.]+)`), "MinAUC", false},
	{regexp.MustCompile(`Gini [0-9.]+ is below the floor ([0-9.]+)`), "MinGini", false},
	{regexp.MustCompile(`\(at most ([0-9.]+) allowed\)`), "MaxCalibrationError", false},
	{regexp.MustCompile(`, margin ([0-9.]+)\)`), "Margin", false},
	{regexp.MustCompile(`margin ([0-9.]+)%\)`), "LogLossMargin", true},
	{regexp.MustCompile(`\(tolerance ([0-9.]+)\)`), "GiniTolerance", false},
}

// gateDefaults are the register function's defaults, from the struct tags
// of its configuration.
func gateDefaults() map[string]float64 {
	out := map[string]float64{}
	t := reflect.TypeOf(config.Register{})
	for i := range t.NumField() {
		f := t.Field(i)
		if v, err := strconv.ParseFloat(f.Tag.Get("default"), 64); err == nil {
			out[f.Name] = v
		}
	}
	return out
}

// tightened finds a setting in a decision's reason that differs from its
// default, and returns its name and the value quoted.
func tightened(reason string, defaults map[string]float64) (string, string, bool) {
	for _, s := range gateSettings {
		m := s.pattern.FindStringSubmatch(reason)
		if m == nil {
			continue
		}
		got, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			continue
		}
		want := defaults[s.field]
		if s.percent {
			want *= 100
		}
		if math.Abs(got-want) > 1e-9 {
			return configKey(s.field), m[1], true
		}
	}
	return "", "", false
}

// configKey is the environment variable of a config.Register field.
func configKey(field string) string {
	f, ok := reflect.TypeOf(config.Register{}).FieldByName(field)
	if !ok {
		return field
	}
	return f.Tag.Get("envconfig")
}
