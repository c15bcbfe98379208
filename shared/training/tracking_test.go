package training_test

import (
	"context"
	"fmt"
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
	bucket := "file://" + filepath.Join(t.TempDir(), "bucket")
	d := testenv.Train(t, bucket, 42, 3000)
	b, err := blobstore.Open(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	run, err := runstore.New(b).Get(ctx, d.RunID)
	if err != nil {
		t.Fatal(err)
	}
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
	exp, err := c.GetExperimentByName(ctx, training.Experiment)
	if err != nil {
		t.Fatal(err)
	}
	found, err := c.SearchRuns(ctx, []string{exp.ID}, fmt.Sprintf("tags.`claimrisk.run_id` = '%s'", run.ID), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Info.RunID != ids[0] {
		t.Fatalf("MLflow holds %d active runs for %s; want only %s", len(found), run.ID, ids[0])
	}
}
