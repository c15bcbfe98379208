package labcheck

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// checkLab4 checks what lab 4's steps leave behind (Serving and deployment).
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

// lab4Answer is what exercise 4.2's client writes to exercises/lab4.json:
// the records it sent and the API's answer, as it came.
type lab4Answer struct {
	Records []schema.PolicyRecord      `json:"records"`
	Answer  predictapi.PredictResponse `json:"answer"`
}

// refusalsBeforeExercises are the requests lab 4, step 3 sends that the API
// refuses; exercise 4.1 adds at least one.
const refusalsBeforeExercises = 2

// exercisesLab4 checks each of lab 4's exercises.
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
