//go:build cluster

package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/deadletter"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/fnspec"
	"github.com/claimrisk/claimrisk/shared/mlflow"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
	"github.com/claimrisk/claimrisk/shared/training"
)

// The ingress both clusters publish, and predict's name behind it
// (config/knative/cluster: traefik.yaml, serving-domain.yaml).
var (
	ingress     = envOr("CLAIMRISK_INGRESS", "http://127.0.0.1:31080")
	predictHost = "predict." + ns + ".127.0.0.1.sslip.io"
)

// story is what the steps hand on to each other.
type story struct {
	t         *testing.T
	bucketDir string
	bucket    *blobstore.Bucket
	broker    string // the Broker's URL through a port-forward
	mlflow    string // MLflow's URL through a port-forward
	token     string
	eventKey  string
	data      string
	lastUse   map[string]time.Time // when each function last had work
	timings   [][2]string
	colds     []coldStart
}

type coldStart struct {
	answer, idleToZero time.Duration
	podCreated         time.Duration // request to the pod object's creation (1 s resolution)
	processToReady     time.Duration // predict's own log: started to champion loaded
	// From containerd's log (the source-built cluster): the request to the
	// sandbox asked for (the activator, autoscaler, scheduler and kubelet),
	// the sandbox (network namespace, CNI), and the sandbox to predict's
	// container started (two containers made and started).
	toSandbox, sandbox, toContainers time.Duration
}

// TestCluster is `make smoke`: the whole story through Knative on the
// cluster of `make cluster-up`, deployed by `make deploy`.
func TestCluster(t *testing.T) {
	if os.Getenv("CLAIMRISK_CLUSTER_SMOKE") == "" {
		t.Fatal("run through make smoke: it checks the cluster and builds bin/ first")
	}
	ctx := context.Background()
	// The functions run as 65532 and write beside what the CLI writes.
	syscall.Umask(0)
	s := &story{t: t, bucketDir: envOr("CLAIMRISK_CLUSTER_BUCKET", "/var/tmp/claimrisk-bucket"), lastUse: map[string]time.Time{}}
	b, err := blobstore.Open(ctx, "file://"+s.bucketDir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s.bucket = b
	// The story starts from an empty bucket, so make smoke can run again on
	// the same deployment: the local overlay's bucket is a scratch directory.
	if err := emptyDir(s.bucketDir); err != nil {
		t.Fatal(err)
	}
	s.token = secret(t, "claimrisk-api-token", "CLAIMRISK_API_TOKEN")
	s.eventKey = secret(t, "claimrisk-event-key", "CLAIMRISK_EVENT_KEY")
	s.broker = portForward(t, "knative-eventing", "broker-ingress", 80) + "/" + ns + "/claimrisk"
	s.mlflow = portForward(t, ns, "mlflow", 5000)
	s.data = filepath.Join(t.TempDir(), "data")

	steps := []struct {
		name string
		run  func(*story)
	}{
		{"1 upload: the dataset is announced to the Broker; the train Trigger trains", (*story).upload},
		{"2 register promotes a champion and mirrors it to MLflow", (*story).mirrored},
		{"3 predictions through the ingress", (*story).predictThroughIngress},
		{"4 a PingSource fires the drift check", (*story).driftFromPingSource},
		{"5 an accident spike: drift.detected, retrain, promotion, predict serves v2", (*story).retrainOnDrift},
		{"6 the Evidently CronJob writes its report", (*story).evidentlyJob},
		{"7 a refused event is dead-lettered to the bucket", (*story).deadLetter},
		{"8 predict refuses to start without its token", (*story).predictNeedsToken},
		{"9 scale to zero: no pod of any function once idle", (*story).scaleToZero},
		{"10 cold starts through the activator", (*story).coldStarts},
	}
	for _, step := range steps {
		start := time.Now()
		ok := t.Run(step.name, func(t *testing.T) {
			s.t = t
			step.run(s)
		})
		took := time.Since(start).Round(100 * time.Millisecond)
		verdict := "passed"
		if !ok {
			verdict = "FAILED"
		}
		s.timings = append(s.timings, [2]string{step.name, fmt.Sprintf("%s in %v", verdict, took)})
		fmt.Printf("== smoke step %s: %s in %v\n", step.name, verdict, took)
		if !ok {
			s.dump()
			break
		}
	}
	s.t = t
	s.report()
}

// cli runs bin/claimrisk with the event key, so what it sends is signed.
func (s *story) cli(args ...string) string {
	s.t.Helper()
	cmd := exec.Command(testenv.Binary(s.t, "claimrisk"), args...)
	cmd.Env = append(os.Environ(), "CLAIMRISK_EVENT_KEY="+s.eventKey, "CLAIMRISK_API_TOKEN="+s.token, "CLAIMRISK_HOME="+s.t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("claimrisk %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (s *story) registry() *registry.Registry { return registry.Open(s.bucket, model.Name) }

func (s *story) champion(ctx context.Context) (registry.Version, error) {
	return s.registry().Resolve(ctx, "champion")
}

func (s *story) upload() {
	ctx := context.Background()
	s.cli("data", "generate", "--out", s.data)
	out := s.cli("data", "upload", "--dir", s.data, "--bucket", "file://"+s.bucketDir, "--sink", s.broker, "--wait", "10m")
	if !strings.Contains(out, "promoted to champion") {
		s.t.Fatalf("the upload's wait saw no promotion:\n%s", out)
	}
	runs, err := runstore.New(s.bucket).List(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, r := range runs {
		kinds[r.Kind] = true
	}
	if len(runs) != 3 || len(kinds) != 3 {
		s.t.Fatalf("the bucket holds %d runs of kinds %v, want the legacy formula and two GLMs", len(runs), kinds)
	}
	s.lastUse["train"] = time.Now()
}

func (s *story) mirrored() {
	ctx := context.Background()
	v, err := s.champion(ctx)
	if err != nil || v.Version != 1 {
		s.t.Fatalf("champion: v%d, %v; want v1", v.Version, err)
	}
	s.lastUse["register"] = time.Now()
	c, err := mlflow.New(s.mlflow)
	if err != nil {
		s.t.Fatal(err)
	}
	// The mirror follows the registry's decision.
	err = eventually(2*time.Minute, 2*time.Second, func() error {
		mv, err := c.GetByAlias(ctx, model.Name, "champion")
		if err != nil {
			return err
		}
		if mv.RunID == "" {
			return fmt.Errorf("MLflow's champion has no run: %+v", mv)
		}
		if mv.RunID != v.Lineage.MLflowRunID {
			return fmt.Errorf("MLflow's champion is the model of run %s, the registry's v1 that of run %s", mv.RunID, v.Lineage.MLflowRunID)
		}
		return nil
	})
	if err != nil {
		s.t.Fatalf("MLflow at %s: %v", s.mlflow, err)
	}
	exp, err := c.GetExperimentByName(ctx, training.Experiment)
	if err != nil {
		s.t.Fatalf("MLflow experiment: %v", err)
	}
	runs, err := c.SearchRuns(ctx, []string{exp.ID}, "", 100)
	if err != nil || len(runs) < 3 {
		s.t.Fatalf("MLflow holds %d runs (%v), want the three trained", len(runs), err)
	}
}

// ingressClient reaches predict through the ingress by its Host header.
func (s *story) ingressClient(token string) *predictapi.Client {
	c := predictapi.NewClient(ingress, token)
	c.Host = predictHost
	return c
}

// serving waits until predict answers through the ingress with version.
func (s *story) serving(version int, limit time.Duration) {
	s.t.Helper()
	c := s.ingressClient(s.token)
	err := eventually(limit, time.Second, func() error {
		resp, err := c.Predict(context.Background(), exampleRecords())
		if err != nil {
			return err
		}
		if resp.Model.Version != version {
			return fmt.Errorf("answered by v%d", resp.Model.Version)
		}
		return nil
	})
	if err != nil {
		s.t.Fatalf("predict through %s (Host %s) does not serve v%d: %v", ingress, predictHost, version, err)
	}
	s.lastUse["predict"] = time.Now()
}

func exampleRecords() []schema.PolicyRecord { return predictapi.ExampleRecords }

func (s *story) predictThroughIngress() {
	s.serving(1, 3*time.Minute)
	// The CLI as a participant types it in lab 4.
	out := s.cli("predict", "--example", "--url", ingress, "--host", predictHost)
	if !strings.Contains(out, "claimrisk v1") && !strings.Contains(out, " v1 ") {
		s.t.Errorf("claimrisk predict through the ingress:\n%s", out)
	}
	// Without the token: 401. The internal functions are not published.
	_, err := s.ingressClient("").Predict(context.Background(), exampleRecords())
	var apiErr *predictapi.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		s.t.Errorf("predict without the token: %v, want 401", err)
	}
	for _, fn := range []string{"train", "register", "drift"} {
		req, _ := http.NewRequest(http.MethodPost, ingress, strings.NewReader("{}"))
		req.Host = fn + "." + ns + ".127.0.0.1.sslip.io"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			s.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			s.t.Errorf("%s through the public ingress: %d, want 404 (it is cluster-local)", fn, resp.StatusCode)
		}
	}
	s.lastUse["predict"] = time.Now()
}

// reportIDs lists the drift reports in the bucket.
func (s *story) reportIDs(ctx context.Context) map[string]bool {
	dirs, err := s.bucket.Dirs(ctx, driftcheck.Prefix)
	if err != nil && !errors.Is(err, blobstore.ErrNotFound) {
		s.t.Fatal(err)
	}
	out := map[string]bool{}
	for _, d := range dirs {
		out[strings.TrimSuffix(strings.TrimPrefix(d, driftcheck.Prefix), "/")] = true
	}
	return out
}

// pingCheck turns on the smoke overlay's every-minute drift schedule, waits
// for the report of the check it fires, and turns it off again.
func (s *story) pingCheck() driftcheck.Report {
	s.t.Helper()
	ctx := context.Background()
	before := s.reportIDs(ctx)
	root := testenv.RepoRoot(s.t)
	mustKubectl(s.t, "apply", "-k", filepath.Join(root, "config", "knative", "overlays", "smoke"))
	defer kubectl(ctx, "delete", "-k", filepath.Join(root, "config", "knative", "overlays", "smoke"), "--ignore-not-found")
	var rep driftcheck.Report
	err := eventually(4*time.Minute, 2*time.Second, func() error {
		for id := range s.reportIDs(ctx) {
			if before[id] {
				continue
			}
			if err := s.bucket.ReadJSON(ctx, driftcheck.Key(id, "report.json"), &rep); err != nil {
				return err
			}
			return nil
		}
		return errors.New("no new drift report")
	})
	if err != nil {
		s.t.Fatalf("the PingSource drift-every-minute fired no check: %v", err)
	}
	s.lastUse["drift"] = time.Now()
	return rep
}

// simulate sends a scenario through the ingress and waits for predict's
// payload log to be written (CLAIMRISK_LOG_MAX_AGE is 10 s on the cluster).
func (s *story) simulate(scenario, seed string, extra ...string) {
	s.cli(append([]string{"simulate", "--scenario", scenario, "--url", ingress, "--host", predictHost,
		"--bucket", "file://" + s.bucketDir, "--seed", seed}, extra...)...)
	s.lastUse["predict"] = time.Now()
	time.Sleep(15 * time.Second)
}

func (s *story) driftFromPingSource() {
	s.simulate("none", "7")
	rep := s.pingCheck()
	if rep.Rows == 0 || rep.ChampionVersion != 1 {
		s.t.Fatalf("report %s: %d rows against v%d, want the traffic against v1", rep.ID, rep.Rows, rep.ChampionVersion)
	}
	if rep.DriftDetected {
		s.t.Errorf("report %s: drift detected on traffic like the training data: %v", rep.ID, rep.Reasons)
	}
}

func (s *story) retrainOnDrift() {
	ctx := context.Background()
	s.simulate("accident-spike", "8", "--policies", "3000")
	rep := s.pingCheck()
	if !rep.DriftDetected {
		s.t.Fatalf("report %s: the accident spike was not detected (rows %d, reasons %v)", rep.ID, rep.Rows, rep.Reasons)
	}
	reg := s.registry()
	var d registry.Decision
	err := eventually(8*time.Minute, 2*time.Second, func() error {
		var err error
		d, err = reg.Decision(ctx, 2)
		return err
	})
	if err != nil {
		s.t.Fatalf("no decision on a retrained v2: %v", err)
	}
	s.lastUse["train"], s.lastUse["register"] = time.Now(), time.Now()
	if !d.Promoted {
		s.t.Fatalf("v2 rejected: %s", d.Reason)
	}
	s.serving(2, 3*time.Minute)
}

func (s *story) evidentlyJob() {
	ctx := context.Background()
	v, err := s.champion(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	var cron map[string]any
	if err := json.Unmarshal(mustKubectl(s.t, "-n", ns, "get", "cronjob", "evidently-report", "-o", "json"), &cron); err != nil {
		s.t.Fatal(err)
	}
	// The CronJob's job, once, now: its window ends now and its reference
	// is the champion's validation rows.
	name := fmt.Sprintf("smoke-evidently-%d", time.Now().Unix())
	spec := cron["spec"].(map[string]any)["jobTemplate"].(map[string]any)["spec"].(map[string]any)
	container := spec["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	env, _ := container["env"].([]any)
	container["env"] = append(env,
		map[string]any{"name": "CLAIMRISK_REFERENCE_KEY", "value": v.Lineage.Validation},
		map[string]any{"name": "CLAIMRISK_REPORT_UNTIL", "value": strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10)})
	job := map[string]any{"apiVersion": "batch/v1", "kind": "Job",
		"metadata": map[string]any{"name": name, "namespace": ns}, "spec": spec}
	manifest, _ := json.Marshal(job)
	applyStdin(s.t, "create", manifest)
	defer kubectl(ctx, "-n", ns, "delete", "job", name, "--ignore-not-found")
	if _, err := kubectl(ctx, "-n", ns, "wait", "--for=condition=Complete", "--timeout=8m", "job/"+name); err != nil {
		logs, _ := kubectl(ctx, "-n", ns, "logs", "job/"+name)
		s.t.Fatalf("the Evidently job did not complete: %v\n%s", err, logs)
	}
	logs, _ := kubectl(ctx, "-n", ns, "logs", "job/"+name)
	// Where the job writes (monitoring/contract.py's DEFAULT_OUT_PREFIX).
	keys, err := s.bucket.Keys(ctx, "drift/evidently/")
	if err != nil {
		s.t.Fatalf("no Evidently output in the bucket: %v\n%s", err, logs)
	}
	if !slices.ContainsFunc(keys, func(k string) bool { return strings.HasSuffix(k, "summary.json") }) ||
		!slices.ContainsFunc(keys, func(k string) bool { return strings.HasSuffix(k, "report.html") }) {
		s.t.Fatalf("no report.html and summary.json under drift/evidently/ after the job: %v\n%s", keys, logs)
	}
	// It ran beside the UI, on the node that has the workspace attached.
	jobPods, _ := pods(ctx, "job-name="+name)
	ui, _ := pods(ctx, "app.kubernetes.io/name=evidently-ui")
	if len(jobPods) == 0 || len(ui) == 0 || jobPods[0].Spec.NodeName != ui[0].Spec.NodeName {
		s.t.Errorf("the job's pod and the UI's are not on one node")
	}
}

func (s *story) deadLetter() {
	ctx := context.Background()
	// An upload event without the signature: train refuses it (401), which
	// no retry can change, so the Broker gives it to the dead-letter sink.
	id := fmt.Sprintf("smoke-unsigned-%d", time.Now().UnixNano())
	e, err := events.New(id, events.DatasetUploaded, events.SourceCLI, "smoke", map[string]string{"bucket": "file://" + s.bucketDir, "dataset_id": "0000000000000000"})
	if err != nil {
		s.t.Fatal(err)
	}
	sender, err := events.NewSender()
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := sender.Send(ctx, s.broker, e); err != nil {
		s.t.Fatalf("the Broker refused the event: %v", err)
	}
	var got deadletter.Letter
	err = eventually(2*time.Minute, time.Second, func() error {
		letters, err := deadletter.List(ctx, s.bucket)
		if err != nil {
			return err
		}
		for _, l := range letters {
			if l.Event.ID() == id {
				got = l
				return nil
			}
		}
		return errors.New("not in deadletter/ yet")
	})
	if err != nil {
		s.t.Fatalf("event %s was not dead-lettered: %v", id, err)
	}
	s.lastUse["drift"] = time.Now()
	if got.Status != http.StatusUnauthorized {
		s.t.Errorf("dead letter %s: status %d, want 401 from train", id, got.Status)
	}
	out := s.cli("deadletter", "list", "--bucket", "file://"+s.bucketDir)
	if !strings.Contains(out, id) || !strings.Contains(out, "401") {
		s.t.Errorf("claimrisk deadletter list does not show %s with 401:\n%s", id, out)
	}
}

func (s *story) predictNeedsToken() {
	ctx := context.Background()
	image := strings.TrimSpace(string(mustKubectl(s.t, "-n", ns, "get", "ksvc", "predict", "-o", "jsonpath={.spec.template.spec.containers[0].image}")))
	manifest := fmt.Sprintf(`{"apiVersion": "serving.knative.dev/v1", "kind": "Service",
 "metadata": {"name": "predict-notoken", "namespace": %q, "labels": {"networking.knative.dev/visibility": "cluster-local"}},
 "spec": {"template": {"metadata": {"annotations": {"autoscaling.knative.dev/min-scale": "1"}},
  "spec": {"containers": [{"image": %q, "env": [
    {"name": "CLAIMRISK_BUCKET", "value": "mem://"},
    {"name": "CLAIMRISK_REQUIRE_API_TOKEN", "value": "true"}],
   "securityContext": {"runAsNonRoot": true, "runAsUser": 65532, "allowPrivilegeEscalation": false,
    "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}}]}}}}`, ns, image)
	applyStdin(s.t, "apply", []byte(manifest))
	defer kubectl(ctx, "-n", ns, "delete", "ksvc", "predict-notoken", "--ignore-not-found")
	var logs string
	err := eventually(3*time.Minute, 2*time.Second, func() error {
		out, _ := kubectl(ctx, "-n", ns, "logs", "-l", "serving.knative.dev/service=predict-notoken", "-c", "user-container", "--tail", "20")
		if len(out) == 0 {
			out, _ = kubectl(ctx, "-n", ns, "logs", "-l", "serving.knative.dev/service=predict-notoken", "-c", "user-container", "--previous", "--tail", "20")
		}
		logs = string(out)
		if !strings.Contains(logs, "CLAIMRISK_API_TOKEN is empty") {
			return errors.New("no refusal in its log yet")
		}
		return nil
	})
	if err != nil {
		s.t.Fatalf("predict without a token: %v\n%s", err, logs)
	}
	ready, _ := kubectl(ctx, "-n", ns, "get", "ksvc", "predict-notoken", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
	if string(ready) == "True" {
		s.t.Errorf("predict without a token became Ready")
	}
}

func (s *story) scaleToZero() {
	ctx := context.Background()
	zeroAt := map[string]time.Time{}
	err := eventually(6*time.Minute, time.Second, func() error {
		var busy []string
		// Every function scales to zero here (min-scale 0 outside production).
		for _, fn := range fnspec.Names() {
			if _, done := zeroAt[fn]; done {
				continue
			}
			ps, err := functionPods(ctx, fn)
			if err != nil {
				return err
			}
			if len(ps) == 0 {
				zeroAt[fn] = time.Now()
				continue
			}
			busy = append(busy, fmt.Sprintf("%s (%d)", fn, len(ps)))
		}
		if len(busy) > 0 {
			return fmt.Errorf("pods left: %s", strings.Join(busy, ", "))
		}
		return nil
	})
	out, _ := kubectl(ctx, "-n", ns, "get", "pods", "-l", "app.kubernetes.io/component=function")
	fmt.Printf("== kubectl -n %s get pods -l app.kubernetes.io/component=function\n%s", ns, out)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, fn := range fnspec.Names() {
		took := zeroAt[fn].Sub(s.lastUse[fn]).Round(time.Second)
		s.timings = append(s.timings, [2]string{"idle to zero pods: " + fn, took.String()})
		fmt.Printf("== %s: zero pods %v after its last work\n", fn, took)
	}
}

func (s *story) coldStarts() {
	ctx := context.Background()
	n, _ := strconv.Atoi(envOr("CLAIMRISK_COLD_STARTS", "10"))
	c := s.ingressClient(s.token)
	c.HTTP.Timeout = 30 * time.Second
	for i := 0; i < n; i++ {
		var zero time.Time
		err := eventually(5*time.Minute, 250*time.Millisecond, func() error {
			ps, err := functionPods(ctx, "predict")
			if err != nil {
				return err
			}
			if len(ps) > 0 {
				return fmt.Errorf("%d predict pods", len(ps))
			}
			zero = time.Now()
			return nil
		})
		if err != nil {
			s.t.Fatalf("cold start %d: predict never reached zero pods: %v", i+1, err)
		}
		idle := zero.Sub(s.lastUse["predict"])
		t0 := time.Now()
		resp, err := c.Predict(ctx, exampleRecords())
		answer := time.Since(t0)
		if err != nil {
			s.t.Fatalf("cold start %d: %v", i+1, err)
		}
		s.lastUse["predict"] = time.Now()
		cs := coldStart{answer: answer, idleToZero: idle}
		if ps, err := functionPods(ctx, "predict"); err == nil && len(ps) > 0 {
			cs.podCreated = ps[0].Metadata.CreationTimestamp.Sub(t0.Truncate(time.Second))
			cs.processToReady = s.processToReady(ctx, ps[0].Metadata.Name)
			if ph, ok := containerdPhases(ps[0].Metadata.Name); ok && !ph.Started["predict"].IsZero() {
				cs.toSandbox = ph.SandboxAsked.Sub(t0)
				cs.sandbox = ph.SandboxReady.Sub(ph.SandboxAsked)
				cs.toContainers = ph.Started["predict"].Sub(ph.SandboxReady)
			}
		}
		s.colds = append(s.colds, cs)
		phases := ""
		if cs.sandbox > 0 {
			phases = fmt.Sprintf("; request to sandbox asked for %v, sandbox %v, to predict's container started %v",
				cs.toSandbox.Round(time.Millisecond), cs.sandbox.Round(time.Millisecond), cs.toContainers.Round(time.Millisecond))
		}
		fmt.Printf("== cold start %d: answered by v%d in %v (idle to zero %v, predict started to ready %v%s)\n",
			i+1, resp.Model.Version, answer.Round(time.Millisecond), cs.idleToZero.Round(time.Second), cs.processToReady.Round(time.Millisecond), phases)
		if answer > slowColdStart {
			s.explainSlow(ctx)
		}
	}
}

// slowColdStart is a cold start worth explaining in the log: five times the
// usual (about a second on the 2-core node).
const slowColdStart = 5 * time.Second

// explainSlow prints what may say where a slow cold start's time went: the
// events of predict's pods and of Knative Serving, while they are recent.
func (s *story) explainSlow(ctx context.Context) {
	for _, args := range [][]string{
		{"-n", ns, "get", "events", "--sort-by=.lastTimestamp", "--field-selector", "involvedObject.kind=Pod"},
		{"-n", "knative-serving", "get", "events", "--sort-by=.lastTimestamp"},
	} {
		out, err := kubectl(ctx, args...)
		fmt.Printf("== slow cold start: kubectl %s\n%s%v\n", strings.Join(args, " "), out, errOrEmpty(err))
	}
}

// processToReady reads predict's own log: from its first line (Start) to
// "champion loaded; ready".
func (s *story) processToReady(ctx context.Context, podName string) time.Duration {
	out, err := kubectl(ctx, "-n", ns, "logs", podName, "-c", "predict")
	if err != nil {
		return 0
	}
	var first, ready time.Time
	for _, line := range strings.Split(string(out), "\n") {
		var rec struct {
			Time time.Time `json:"time"`
			Msg  string    `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Time.IsZero() {
			continue
		}
		if first.IsZero() {
			first = rec.Time
		}
		if strings.HasPrefix(rec.Msg, "champion loaded") {
			ready = rec.Time
			break
		}
	}
	if first.IsZero() || ready.IsZero() {
		return 0
	}
	return ready.Sub(first)
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	// Nearest rank.
	rank := int(p*float64(len(s))+0.999999) - 1
	return s[max(0, min(rank, len(s)-1))]
}

// report prints the step times and the cold-start figures, and writes them
// beside the test binary's output for the CI log.
func (s *story) report() {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tRESULT")
	for _, row := range s.timings {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	tw.Flush()
	if len(s.colds) > 0 {
		var answers, zeros, created, ready, toSandbox, sandbox, toContainers []time.Duration
		for _, c := range s.colds {
			answers = append(answers, c.answer)
			zeros = append(zeros, c.idleToZero)
			created = append(created, c.podCreated)
			ready = append(ready, c.processToReady)
			toSandbox, sandbox, toContainers = append(toSandbox, c.toSandbox), append(sandbox, c.sandbox), append(toContainers, c.toContainers)
		}
		fmt.Fprintf(&b, "\ncold starts of predict through the ingress and the activator: %d\n", len(s.colds))
		fmt.Fprintf(&b, "  request to answer:           p50 %v  p95 %v  max %v\n", percentile(answers, .5).Round(time.Millisecond), percentile(answers, .95).Round(time.Millisecond), slices.Max(answers).Round(time.Millisecond))
		fmt.Fprintf(&b, "  predict process to ready:    p50 %v  p95 %v (its own log: start to champion loaded)\n", percentile(ready, .5).Round(time.Millisecond), percentile(ready, .95).Round(time.Millisecond))
		fmt.Fprintf(&b, "  request to pod created:      p50 %v (1 s resolution)\n", percentile(created, .5))
		if percentile(sandbox, .5) > 0 {
			fmt.Fprintf(&b, "  from containerd's log, p50:  request to sandbox asked for %v (activator, autoscaler, scheduler, kubelet); "+
				"sandbox with its network %v; sandbox to predict's container started %v; then predict to ready, above; the rest is readiness probing and the activator's forwarding\n",
				percentile(toSandbox, .5).Round(time.Millisecond), percentile(sandbox, .5).Round(time.Millisecond), percentile(toContainers, .5).Round(time.Millisecond))
		}
		fmt.Fprintf(&b, "  idle to zero pods:           p50 %v  p95 %v\n", percentile(zeros, .5).Round(time.Second), percentile(zeros, .95).Round(time.Second))
	}
	fmt.Printf("\n== smoke summary\n%s", b.String())
	if dir := os.Getenv("CLAIMRISK_SMOKE_REPORT"); dir != "" {
		_ = os.WriteFile(dir, []byte(b.String()), 0o644)
	}
}

// dump prints what explains a failure: the pods and the recent events.
func (s *story) dump() {
	ctx := context.Background()
	for _, args := range [][]string{
		{"-n", ns, "get", "ksvc,broker,trigger,pingsource,pods"},
		{"-n", ns, "get", "events", "--sort-by=.lastTimestamp"},
	} {
		out, err := kubectl(ctx, args...)
		fmt.Printf("== kubectl %s\n%s%v\n", strings.Join(args, " "), out, errOrEmpty(err))
	}
}

func errOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// emptyDir removes what a directory holds, not the directory: the pods
// have it mounted.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
