package training_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/mlflow"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
	"github.com/claimrisk/claimrisk/shared/training"
)

// Knative delivers at least once: two replicas may log the same run at the
// same moment, and a delivery killed after logging but before recording
// the MLflow id in the bucket is delivered again. MLflow ends with one run.
func TestLogRunTwiceLeavesOneMLflowRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b, run := trainedRun(ctx, t)
	c, err := mlflow.New(testenv.MLflow(t))
	if err != nil {
		t.Fatal(err)
	}
	tr := &training.Tracker{Client: c, Bucket: b}

	ids := make([]string, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range 2 { // two replicas at once
		wg.Add(1)
		go func() { defer wg.Done(); ids[i], errs[i] = tr.LogRun(ctx, run) }()
	}
	wg.Wait()
	ids[2], errs[2] = tr.LogRun(ctx, run) // a later redelivery
	for i, err := range errs {
		if err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Fatalf("deliveries returned MLflow runs %v; want one run", ids)
	}
	assertOneRun(ctx, t, c, run.ID, ids[0])
}

// The replica whose update reaches MLflow last may have stamped the
// earlier end_time (the client's clock). Here replica A's "runs/update" is
// held until replica B has logged, ended and kept its run; both must still
// agree on one run.
func TestLogRunAgreesWhenAnUpdateArrivesLate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b, run := trainedRun(ctx, t)
	target, err := url.Parse(testenv.MLflow(t))
	if err != nil {
		t.Fatal(err)
	}
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/2.0/mlflow/runs/update" {
			first := false
			once.Do(func() { first = true })
			if first { // replica A's end: stamped now, committed after B's
				close(held)
				<-release
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	slow, err := mlflow.New(front.URL)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := mlflow.New(target.String())
	if err != nil {
		t.Fatal(err)
	}

	var idA string
	errA := make(chan error, 1)
	go func() {
		var err error
		idA, err = (&training.Tracker{Client: slow, Bucket: b}).LogRun(ctx, run)
		errA <- err
	}()
	select {
	case <-held:
	case err := <-errA:
		t.Fatalf("replica A finished without ending its run: %v", err)
	}
	idB, err := (&training.Tracker{Client: direct, Bucket: b}).LogRun(ctx, run)
	close(release)
	if err != nil {
		t.Fatalf("replica B: %v", err)
	}
	if err := <-errA; err != nil {
		t.Fatalf("replica A: %v", err)
	}
	if idA != idB {
		t.Fatalf("replicas kept MLflow runs %s and %s; want one", idA, idB)
	}
	assertOneRun(ctx, t, direct, run.ID, idB)
}

// MLflow's store can be replaced while the bucket keeps its claims: a new
// database, or a server reset by hand. The bucket is the source of truth,
// so the run is logged again, and the claim and the stored run then name
// the new MLflow run, not the lost one.
func TestRunsAreLoggedAgainWhenMLflowLostThem(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b, run := trainedRun(ctx, t)
	runs := runstore.New(b)
	addr := testenv.FreeAddr(t)
	uri, stop := testenv.MLflowStoppable(t, testenv.MLflowOptions{Addr: addr})
	c, err := mlflow.New(uri)
	if err != nil {
		t.Fatal(err)
	}
	tr := &training.Tracker{Client: c, Bucket: b}
	lost, err := tr.Ensure(ctx, runs, run.ID)
	if err != nil {
		t.Fatal(err)
	}

	stop()
	testenv.MLflowOn(t, testenv.MLflowOptions{Addr: addr}) // the same address, a new store
	id, err := tr.Ensure(ctx, runs, run.ID)
	if err != nil {
		t.Fatalf("after MLflow lost the run: %v", err)
	}
	if id == lost {
		t.Fatalf("Ensure returned MLflow run %s, which the new store does not hold", lost)
	}
	assertOneRun(ctx, t, c, run.ID, id)
	if stored, err := runs.Get(ctx, run.ID); err != nil || stored.MLflowRunID != id {
		t.Errorf("the stored run names MLflow run %q (%v); want %s", stored.MLflowRunID, err, id)
	}
	again, err := tr.LogRun(ctx, run) // a redelivery finds the new claim
	if err != nil || again != id {
		t.Fatalf("LogRun again = %s, %v; want %s", again, err, id)
	}
	assertOneRun(ctx, t, c, run.ID, id)
}

// trainedRun trains a small model into a fresh bucket and returns its run.
func trainedRun(ctx context.Context, t *testing.T) (*blobstore.Bucket, runstore.Run) {
	t.Helper()
	bucket := "file://" + filepath.Join(t.TempDir(), "bucket")
	d := testenv.Train(t, bucket, 42, 3000)
	b, err := blobstore.Open(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	run, err := runstore.New(b).Get(ctx, d.RunID)
	if err != nil {
		t.Fatal(err)
	}
	return b, run
}

// assertOneRun fails unless MLflow holds exactly one active run tagged
// with runID, and it is want.
func assertOneRun(ctx context.Context, t *testing.T, c *mlflow.Client, runID, want string) {
	t.Helper()
	exp, err := c.GetExperimentByName(ctx, training.Experiment)
	if err != nil {
		t.Fatal(err)
	}
	found, err := c.SearchRuns(ctx, []string{exp.ID}, fmt.Sprintf("tags.`claimrisk.run_id` = '%s'", runID), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Info.RunID != want {
		t.Fatalf("MLflow holds %d active runs for %s; want only %s", len(found), runID, want)
	}
}
