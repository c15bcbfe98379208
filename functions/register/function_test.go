package function

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/funcmain"
	"github.com/claimrisk/claimrisk/shared/mlflow"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

func TestBadEventsGetAClearNon2xx(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CLAIMRISK_BUCKET", "file://"+dir)
	// A bucket that holds runs: a run id too long for a file name then
	// fails as an I/O error, not as a missing run.
	if err := os.MkdirAll(filepath.Join(dir, "runs", "run-000000000001"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := New()
	if err := f.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	defer f.Stop(context.Background())
	srv := httptest.NewServer(funcmain.NewEventService("register", f, 0).Handler)
	defer srv.Close()
	s, _ := events.NewSender()
	s.Retries = 0
	for _, tt := range []struct {
		name, typ string
		data      any
		status    int
		msg       string
	}{
		{"unknown type", events.DatasetUploaded, map[string]string{}, 400, "unsupported event type"},
		{"no run id", events.ModelTrained, map[string]string{}, 400, "run_id is missing"},
		{"a run that does not exist", events.ModelTrained, events.ModelTrainedData{RunID: "run-000000000000"}, 422, "not in the bucket"},
		// Ids and keys no bucket can hold are refused before storage is touched.
		{"run id too long for a file name", events.ModelTrained, events.ModelTrainedData{RunID: "run-" + strings.Repeat("d", 300)}, 400, "run_id is 304 characters long; at most 64"},
		{"run id out of the bucket", events.ModelTrained, events.ModelTrainedData{RunID: "../registry"}, 400, "run_id"},
		{"run id with a slash", events.ModelTrained, events.ModelTrainedData{RunID: "run-1/../../x"}, 400, "run_id"},
		{"model key with ..", events.ModelTrained, events.ModelTrainedData{RunID: "run-1", ModelKey: "runs/../x"}, 400, "model_key"},
		{"another bucket", events.ModelTrained, events.ModelTrainedData{RunID: "run-1", Bucket: "file:///elsewhere"}, 422, "names bucket file:///elsewhere"},
		{"data is not JSON", events.ModelTrained, "not json", 400, "cannot unmarshal"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := events.New("id", tt.typ, "/test", "", tt.data)
			_, err := s.Send(context.Background(), srv.URL, e)
			if events.StatusOf(err) != tt.status || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("send = %v; want %d mentioning %q", err, tt.status, tt.msg)
			}
		})
	}
}

type registryView struct {
	Aliases  map[string]int `json:"aliases"`
	Versions []struct {
		Version   int    `json:"version"`
		DatasetID string `json:"dataset_id"`
		Metrics   struct {
			Gini float64 `json:"gini"`
		} `json:"metrics"`
		Decision *struct {
			Promoted bool   `json:"promoted"`
			Reason   string `json:"reason"`
		} `json:"decision"`
	} `json:"versions"`
}

func registryList(t *testing.T, bucket string) registryView {
	var v registryView
	if err := json.Unmarshal([]byte(testenv.CLI(t, nil, "registry", "list", "--json", "--bucket", bucket)), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// The train and register binaries on real ports, wired by the local broker
// from config/knative's Triggers: an upload ends with a champion.
func TestUploadEndsWithAChampion(t *testing.T) {
	sys, bucket := testenv.System(t, "", "train", "register")
	dir := t.TempDir()
	testenv.CLI(t, nil, "data", "generate", "--policies", "10000", "--out", filepath.Join(dir, "a"))
	out := testenv.CLI(t, nil, "data", "upload", "--dir", filepath.Join(dir, "a"), "--bucket", bucket, "--sink", sys.URL("broker"), "--wait", "3m")
	if !strings.Contains(out, "promoted to champion") {
		t.Fatalf("upload --wait printed %q", out)
	}
	v := registryList(t, bucket)
	if v.Aliases["champion"] != 1 || len(v.Versions) != 1 {
		t.Fatalf("registry = %+v; want v1 as champion", v)
	}
	runs := map[string]float64{}
	var list []struct {
		Kind    string `json:"kind"`
		Metrics struct {
			Gini float64 `json:"gini"`
		} `json:"metrics"`
	}
	json.Unmarshal([]byte(testenv.CLI(t, nil, "runs", "list", "--json", "--bucket", bucket)), &list)
	for _, r := range list {
		runs[r.Kind] = r.Metrics.Gini
	}
	if v.Versions[0].Metrics.Gini <= runs["legacy"] {
		t.Errorf("champion Gini %.4f does not beat the legacy baseline's %.4f", v.Versions[0].Metrics.Gini, runs["legacy"])
	}

	// Slightly changed data: a challenger that is promoted or rejected, with its reason.
	testenv.CLI(t, nil, "data", "generate", "--policies", "10000", "--seed", "43", "--out", filepath.Join(dir, "b"))
	testenv.CLI(t, nil, "data", "upload", "--dir", filepath.Join(dir, "b"), "--bucket", bucket, "--sink", sys.URL("broker"), "--wait", "3m")
	v = registryList(t, bucket)
	if len(v.Versions) != 2 || v.Versions[1].Decision == nil || v.Versions[1].Decision.Reason == "" {
		t.Fatalf("after the second upload: %+v; want v2 with a recorded decision", v)
	}
	want := 1
	if v.Versions[1].Decision.Promoted {
		want = 2
	}
	if v.Aliases["champion"] != want {
		t.Errorf("champion v%d, but v2's decision says promoted=%v", v.Aliases["champion"], v.Versions[1].Decision.Promoted)
	}
}

// MLflow's registry mirrors the bucket's, and a sync heals it after an outage.
func TestMLflowMirrorFollowsAndHeals(t *testing.T) {
	for _, backend := range testenv.MLflowBackends() {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			mirrorFollowsAndHeals(t, backend)
		})
	}
}

// mirrorFollowsAndHeals runs on each backend store of MLflow's (SQLite, and
// PostgreSQL as in production).
func mirrorFollowsAndHeals(t *testing.T, backend string) {
	mlflowAddr := testenv.FreeAddr(t) // MLflow is down at first
	uri := "http://" + mlflowAddr
	sys, bucket := testenv.System(t, uri, "train", "register")
	data := filepath.Join(t.TempDir(), "data")
	testenv.CLI(t, nil, "data", "generate", "--policies", "8000", "--out", data)
	testenv.CLI(t, nil, "data", "upload", "--dir", data, "--bucket", bucket, "--sink", sys.URL("broker"), "--wait", "3m")
	if registryList(t, bucket).Aliases["champion"] != 1 {
		t.Fatal("no champion while MLflow was down: the bucket must not depend on MLflow")
	}

	testenv.MLflowOn(t, testenv.MLflowOptions{Backend: backend, Addr: mlflowAddr})
	syncMLflow(t, bucket, uri, "1 version(s) created")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _ := mlflow.New(uri)
	versions, err := c.SearchModelVersions(ctx, "claim-risk")
	if err != nil || len(versions) != 1 {
		t.Fatalf("MLflow versions = %+v, %v", versions, err)
	}
	tags := map[string]string{}
	for _, tg := range versions[0].Tags {
		tags[tg.Key] = tg.Value
	}
	if tags["claimrisk.version"] != "1" || tags["claimrisk.decision"] != "promoted" || tags["data_fingerprint"] == "" {
		t.Errorf("MLflow version tags = %v", tags)
	}
	// The factsheet is attached to the version: an artifact of its run, named by a tag.
	if !strings.HasSuffix(tags["claimrisk.factsheet"], "factsheets/claim-risk-v1.md") || tags["claimrisk.factsheet_sha256"] == "" {
		t.Errorf("MLflow version has no factsheet tag: %v", tags)
	}
	files, err := c.ListArtifacts(ctx, versions[0].RunID, "factsheets")
	if err != nil || len(files) != 2 {
		t.Errorf("factsheet artifacts of run %s: %+v, %v", versions[0].RunID, files, err)
	}
	champ, err := c.GetByAlias(ctx, "claim-risk", "champion")
	if err != nil || champ.Version != versions[0].Version {
		t.Fatalf("MLflow champion = %+v, %v", champ, err)
	}
	// A human promotion is mirrored at once; syncing again changes nothing.
	testenv.CLI(t, nil, "data", "generate", "--policies", "8000", "--seed", "7", "--out", data)
	testenv.CLI(t, []string{"MLFLOW_TRACKING_URI=" + uri}, "data", "upload", "--dir", data, "--bucket", bucket, "--sink", sys.URL("broker"), "--wait", "3m")
	out := testenv.CLI(t, nil, "registry", "promote", "2", "--reason", "pricing committee decision", "--bucket", bucket, "--mlflow", uri)
	if !strings.Contains(out, "mirrored to") && !strings.Contains(out, "already the champion") {
		t.Fatalf("promote printed %q", out)
	}
	// The upload above may outlast ctx on a busy machine.
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	champ, err = c.GetByAlias(ctx, "claim-risk", "champion")
	if err != nil {
		t.Fatalf("MLflow champion after the promotion: %v", err)
	}
	if tagValue(champ.Tags, "claimrisk.version") != "2" {
		t.Fatalf("MLflow champion is bucket version %s after the promotion, want 2", tagValue(champ.Tags, "claimrisk.version"))
	}
	syncMLflow(t, bucket, uri, "0 version(s) created, aliases set map[]") // nothing left to change
}

// A new MLflow store (a database replaced, a server reset) holds none of
// the runs the bucket names. The bucket is the source of truth: a sync logs
// the registered versions' runs again and rebuilds the registry from them.
func TestMLflowMirrorRebuildsALostStore(t *testing.T) {
	mlflowAddr := testenv.FreeAddr(t)
	uri, stop := testenv.MLflowStoppable(t, testenv.MLflowOptions{Addr: mlflowAddr})
	sys, bucket := testenv.System(t, uri, "train", "register")
	data := filepath.Join(t.TempDir(), "data")
	testenv.CLI(t, nil, "data", "generate", "--policies", "8000", "--out", data)
	testenv.CLI(t, []string{"MLFLOW_TRACKING_URI=" + uri}, "data", "upload", "--dir", data, "--bucket", bucket, "--sink", sys.URL("broker"), "--wait", "3m")
	if registryList(t, bucket).Aliases["champion"] != 1 {
		t.Fatal("no champion after the upload")
	}

	stop()
	testenv.MLflowOn(t, testenv.MLflowOptions{Addr: mlflowAddr})
	syncMLflow(t, bucket, uri, "1 version(s) created")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _ := mlflow.New(uri)
	champ, err := c.GetByAlias(ctx, "claim-risk", "champion")
	if err != nil || tagValue(champ.Tags, "claimrisk.version") != "1" {
		t.Fatalf("MLflow champion in the new store = %+v, %v; want bucket version 1", champ, err)
	}
	files, err := c.ListArtifacts(ctx, champ.RunID, "model")
	if err != nil || len(files) == 0 {
		t.Fatalf("the champion's run %s in the new store has no model: %+v, %v", champ.RunID, files, err)
	}
	syncMLflow(t, bucket, uri, "0 version(s) created, aliases set map[]") // nothing left to change
}

// syncMLflow runs `claimrisk registry sync-mlflow` and fails unless it
// prints want.
func syncMLflow(t *testing.T, bucket, uri, want string) {
	t.Helper()
	out := testenv.CLI(t, nil, "registry", "sync-mlflow", "--bucket", bucket, "--mlflow", uri)
	if !strings.Contains(out, want) {
		t.Fatalf("sync-mlflow printed %q; want %q", out, want)
	}
}

func tagValue(tags []mlflow.Tag, key string) string {
	for _, t := range tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

// With a shared event key, the chain runs on signed events only: an
// unsigned event is refused with 401, which the broker sends to the dead
// letters without retrying.
func TestSignedEventsOnly(t *testing.T) {
	const key = "shared-event-key-for-tests"
	sys, bucket := testenv.SystemWith(t, []string{"CLAIMRISK_EVENT_KEY=" + key}, "train", "register")
	s, _ := events.NewSender()
	s.Retries = 0
	forged, _ := events.New("forged", events.ModelTrained, events.SourceTrain, "", events.ModelTrainedData{RunID: "run-000000000000"})
	for _, fn := range []string{"train", "register"} {
		if _, err := s.Send(context.Background(), sys.URL(fn), forged); events.StatusOf(err) != 401 {
			t.Errorf("%s took an unsigned event: %v", fn, err)
		}
	}
	data := filepath.Join(t.TempDir(), "data")
	testenv.CLI(t, nil, "data", "generate", "--policies", "8000", "--out", data)
	out := testenv.CLI(t, []string{"CLAIMRISK_EVENT_KEY=" + key}, "data", "upload", "--dir", data, "--bucket", bucket, "--sink", sys.URL("broker"), "--wait", "3m")
	if !strings.Contains(out, "promoted to champion") {
		t.Fatalf("the signed chain did not end with a champion: %s", out)
	}
}
