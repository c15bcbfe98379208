package function

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/funcmain"
	"github.com/claimrisk/claimrisk/shared/mlflow"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// startInProcess serves the function through the exact handler of its
// binary (func-go's runtime behind funcmain.Guard), on a file:// bucket in
// dir.
func startInProcess(t *testing.T) (srv *httptest.Server, dir string) {
	t.Helper()
	dir = t.TempDir()
	t.Setenv("CLAIMRISK_BUCKET", "file://"+dir)
	f := New()
	if err := f.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewServer(funcmain.NewEventService("train", f, 0).Handler)
	t.Cleanup(func() { srv.Close(); f.Stop(context.Background()) })
	return srv, dir
}

func TestBadEventsGetAClearNon2xx(t *testing.T) {
	srv, dir := startInProcess(t)
	send := func(typ string, data any) error {
		s, _ := events.NewSender()
		s.Retries = 0
		e, _ := events.New("id-1", typ, "/test", "", data)
		_, err := s.Send(context.Background(), srv.URL, e)
		return err
	}
	// Objects a drift event may point at: a model, and JSON that is no
	// report; and a dataset, so that a dataset id too long for a file name
	// fails as an I/O error, not as a missing dataset.
	for key, body := range map[string]string{
		"datasets/0000000000000001/manifest.json":        `{}`,
		"runs/run-000000000001/model.json":               `{"kind":"glm"}`,
		"drift/reports/20260101T000000.000Z/report.json": `{"kind":"glm","coefficients":[1,2]}`,
		"drift/reports/20260101T000001.000Z/report.json": `PAR1 not json`,
	} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(key)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, key), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	long := strings.Repeat("d", 300)
	tests := []struct {
		name   string
		typ    string
		data   any
		status int
		msg    string
	}{
		{"unknown type", "com.example.other", map[string]string{}, 400, "unsupported event type"},
		{"no dataset id", events.DatasetUploaded, map[string]string{}, 400, "dataset_id is missing"},
		{"data is not an object", events.DatasetUploaded, []int{1, 2}, 400, "cannot unmarshal"},
		{"dataset that does not exist", events.DatasetUploaded, events.DatasetUploadedData{DatasetID: "00000000deadbeef"}, 422, "no such data"},
		{"another bucket", events.DatasetUploaded, events.DatasetUploadedData{DatasetID: "x", Bucket: "file:///elsewhere"}, 422, "names bucket file:///elsewhere"},
		// Ids and keys no bucket can hold are refused before storage is touched.
		{"dataset id too long for a file name", events.DatasetUploaded, events.DatasetUploadedData{DatasetID: long}, 400, "dataset_id is 300 characters long; at most 64"},
		{"dataset id out of the bucket", events.DatasetUploaded, events.DatasetUploadedData{DatasetID: "../../etc"}, 400, "dataset_id"},
		{"dataset id with a NUL", events.DatasetUploaded, events.DatasetUploadedData{DatasetID: "ab\x00cd"}, 400, "dataset_id"},
		{"manifest key with ..", events.DatasetUploaded, events.DatasetUploadedData{DatasetID: "abc", Manifest: "datasets/../x"}, 400, "manifest"},
		{"no report key", events.DriftDetected, map[string]string{}, 400, "report_key is missing"},
		{"report key at a model", events.DriftDetected, events.DriftDetectedData{ReportKey: "runs/run-000000000001/model.json"}, 400, "does not name a drift report"},
		{"report key too long", events.DriftDetected, events.DriftDetectedData{ReportKey: "drift/reports/" + long + "/report.json"}, 400, "report_key"},
		{"report that is not there", events.DriftDetected, events.DriftDetectedData{ReportKey: "drift/reports/20250101T000000.000Z/report.json"}, 422, "object not found"},
		{"report of another kind", events.DriftDetected, events.DriftDetectedData{ReportKey: "drift/reports/20260101T000000.000Z/report.json"}, 422, "not a drift report"},
		{"report that is not JSON", events.DriftDetected, events.DriftDetectedData{ReportKey: "drift/reports/20260101T000001.000Z/report.json"}, 422, "not a drift report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := send(tt.typ, tt.data)
			if events.StatusOf(err) != tt.status || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("send = %v, want status %d mentioning %q", err, tt.status, tt.msg)
			}
		})
	}
	// Not a CloudEvent at all.
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"hello":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Errorf("a plain JSON POST got %d, want a 4xx", resp.StatusCode)
	}
	// The function is still ready.
	resp, err = http.Get(srv.URL + "/health/readiness")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readiness after bad events: %v, %v", resp, err)
	}
}

func runCLI(t *testing.T, args ...string) string { return testenv.CLI(t, nil, args...) }

func TestUploadTrainsThroughTheBinary(t *testing.T) {
	bucket := "file://" + t.TempDir()
	fn := testenv.StartFunction(t, "train", "CLAIMRISK_BUCKET="+bucket)
	data := filepath.Join(t.TempDir(), "data")
	runCLI(t, "data", "generate", "--policies", "8000", "--out", data)
	out := runCLI(t, "data", "upload", "--dir", data, "--bucket", bucket, "--sink", fn.URL)
	if !strings.Contains(out, "trained: best candidate") {
		t.Fatalf("upload printed %q, want the train function's reply", out)
	}
	var runs []runstore.Run
	if err := json.Unmarshal([]byte(runCLI(t, "runs", "list", "--json", "--bucket", bucket)), &runs); err != nil {
		t.Fatal(err)
	}
	gini := map[string]float64{}
	for _, r := range runs {
		gini[r.Kind] = r.Metrics.Gini
	}
	if len(runs) != 3 || gini["glm-accident"] <= gini["legacy"] {
		t.Fatalf("runs = %v; want three, the accident GLM ahead of the legacy formula", gini)
	}
}

func TestTrainingIsLoggedToMLflowAndHealsAfterAnOutage(t *testing.T) {
	for _, backend := range testenv.MLflowBackends() {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			trainingIsLoggedToMLflow(t, backend)
		})
	}
}

// trainingIsLoggedToMLflow runs on each backend store of MLflow's (SQLite,
// and PostgreSQL as in production).
func trainingIsLoggedToMLflow(t *testing.T, backend string) {
	mlflowAddr := testenv.FreeAddr(t) // nothing listens here yet
	uri := "http://" + mlflowAddr
	bucket := "file://" + t.TempDir()
	fn := testenv.StartFunction(t, "train", "CLAIMRISK_BUCKET="+bucket, "MLFLOW_TRACKING_URI="+uri)
	data := filepath.Join(t.TempDir(), "data")
	runCLI(t, "data", "generate", "--policies", "6000", "--out", data)

	// MLflow is down: training completes and says so.
	runCLI(t, "data", "upload", "--dir", data, "--bucket", bucket, "--sink", fn.URL)
	var runs []runstore.Run
	_ = json.Unmarshal([]byte(runCLI(t, "runs", "list", "--json", "--bucket", bucket)), &runs)
	if len(runs) != 3 || runs[0].MLflowRunID != "" || runs[0].MLflowError == "" {
		t.Fatalf("with MLflow down: %+v; want three runs, each with the reason it was not logged", runs)
	}

	// MLflow comes back; the next delivery of the same event logs the runs.
	url := testenv.MLflowOn(t, testenv.MLflowOptions{Backend: backend, Addr: mlflowAddr})
	runCLI(t, "data", "upload", "--dir", data, "--bucket", bucket, "--sink", fn.URL)
	_ = json.Unmarshal([]byte(runCLI(t, "runs", "list", "--json", "--bucket", bucket)), &runs)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _ := mlflow.New(url)
	exp, err := c.GetExperimentByName(ctx, "claim-risk")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.MLflowRunID == "" {
			t.Fatalf("run %s was not logged after MLflow returned: %s", r.ID, r.MLflowError)
		}
		mr, err := c.GetRun(ctx, r.MLflowRunID)
		if err != nil {
			t.Fatal(err)
		}
		if mr.Info.Status != "FINISHED" || mr.Info.ExperimentID != exp.ID {
			t.Errorf("MLflow run %s: status %s in experiment %s", r.MLflowRunID, mr.Info.Status, mr.Info.ExperimentID)
		}
		metric := map[string]float64{}
		for _, m := range mr.Data.Metrics {
			metric[m.Key] = m.Value
		}
		if metric["valid_gini"] != r.Metrics.Gini || metric["valid_auc"] != r.Metrics.AUC {
			t.Errorf("MLflow metrics %v do not match the run's Gini %v and AUC %v", metric, r.Metrics.Gini, r.Metrics.AUC)
		}
		tags := map[string]string{}
		for _, tg := range mr.Data.Tags {
			tags[tg.Key] = tg.Value
		}
		if tags["data_fingerprint"] != r.Fingerprint || tags["claimrisk.run_id"] != r.ID {
			t.Errorf("MLflow tags %v lack the fingerprint %s or run id %s", tags, r.Fingerprint, r.ID)
		}
		params := map[string]string{}
		for _, p := range mr.Data.Params {
			params[p.Key] = p.Value
		}
		if params["model_kind"] != r.Kind || params["dataset_id"] != r.DatasetID {
			t.Errorf("MLflow params %v", params)
		}
		files := map[string]bool{}
		for _, dir := range []string{"", "model", "plots"} {
			list, err := c.ListArtifacts(ctx, r.MLflowRunID, dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range list {
				files[f.Path] = f.IsDir || f.Size > 0
			}
		}
		for _, want := range []string{"model/model.json", "model/features.json", "metrics.json", "plots/calibration.png", "plots/roc.png", "plots/lorenz.png"} {
			if !files[want] {
				t.Errorf("MLflow run %s has no artifact %s (has %v)", r.MLflowRunID, want, files)
			}
		}
	}
	found, err := c.SearchRuns(ctx, []string{exp.ID}, "", 10)
	if err != nil || len(found) != 3 {
		t.Fatalf("MLflow holds %d runs (%v), want 3: the outage must not leave duplicates", len(found), err)
	}
	// The dataset is a logged input of the run.
	mr, _ := c.GetRun(ctx, runs[0].MLflowRunID)
	if len(mr.Inputs.DatasetInputs) != 1 || mr.Inputs.DatasetInputs[0].Dataset.Name != "claimrisk-"+runs[0].DatasetID {
		t.Errorf("run %s inputs = %+v, want the dataset claimrisk-%s", runs[0].MLflowRunID, mr.Inputs, runs[0].DatasetID)
	}
}
