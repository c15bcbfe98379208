package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/promotion"
	"github.com/claimrisk/claimrisk/shared/pseudonym"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/training"
)

// e2eFixture writes the portfolio of n policies that the fit benchmark
// trains on (seed 42) as `claimrisk data generate` does: a directory of
// the four Parquet tables and the manifest.
func e2eFixture(cfg *config, n int) (string, error) {
	dir := filepath.Join(cfg.work, fmt.Sprintf("e2e-%d", n))
	err := cached(dir, func() error {
		d, err := generate(42, n)
		if err != nil {
			return err
		}
		objs, m, err := d.Encode("synthetic (bench)")
		if err != nil {
			return err
		}
		return dataset.WriteDir(filepath.Join(dir, "dataset"), objs, m)
	})
	return filepath.Join(dir, "dataset"), err
}

// e2eOutput is what `bench train-e2e` prints: the seconds of each step.
type e2eOutput struct {
	Upload   float64 `json:"upload"`
	Train    float64 `json:"train"`
	Register float64 `json:"register"`
	Total    float64 `json:"total"`
	Version  int     `json:"version"`
	Kind     string  `json:"kind"`
}

// trainE2ECmd is `bench train-e2e -dir DATASET -bucket URL`: a dataset
// from upload to registered, as the system runs it, in one process: the
// tables read from disk and uploaded to an empty bucket (`claimrisk data
// upload`), the train function's work on the dataset-uploaded event
// (Trainer.TrainDataset: load and validate the dataset, the three model
// kinds fitted and evaluated out of time, runs stored with their
// validation data and plots), and the register function's on the
// model-trained event (promotion.Gate.Judge: the best run registered,
// compared with the champion, promoted). MLflow tracking is off: the bench
// runs no MLflow server.
func trainE2ECmd(args []string) error {
	fs := flag.NewFlagSet("train-e2e", flag.ContinueOnError)
	dir := fs.String("dir", "", "dataset directory (the four tables and manifest.json)")
	bucketURL := fs.String("bucket", "", "bucket URL; it should be empty")
	cpu := fs.String("cpuprofile", "", "CPU profile of the whole run")
	mem := fs.String("memprofile", "", "allocation profile of the whole run")
	if err := fs.Parse(args); err != nil || *dir == "" || *bucketURL == "" {
		return fmt.Errorf("usage: train-e2e -dir DATASET -bucket URL [-cpuprofile F] [-memprofile F]")
	}
	ctx := context.Background()
	b, err := blobstore.Open(ctx, *bucketURL)
	if err != nil {
		return err
	}
	defer b.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, _ := pseudonym.New(pseudonym.DevKey)
	runs := runstore.New(b)
	var out e2eOutput
	out.Total, err = profiled(*cpu, *mem, func() error {
		start := time.Now()
		objs, m, err := dataset.ReadDir(*dir)
		if err != nil {
			return err
		}
		if m == nil {
			return fmt.Errorf("%s has no manifest.json", *dir)
		}
		if err := dataset.Upload(ctx, b, objs, *m, nil); err != nil {
			return err
		}
		objs = nil
		uploaded := time.Now()
		out.Upload = uploaded.Sub(start).Seconds()
		tr := &training.Trainer{Bucket: b, Runs: runs, L2: trainL2, CodeVersion: "bench", Pseudonymise: p.Of, Log: quiet}
		trained, err := tr.TrainDataset(ctx, m.ID(), "bench")
		if err != nil {
			return err
		}
		done := time.Now()
		out.Train = done.Sub(uploaded).Seconds()
		gate := &promotion.Gate{Registry: registry.Open(b, model.Name), Runs: runs, Policy: promotion.DefaultPolicy(), Actor: "bench", Log: quiet}
		dec, err := gate.Judge(ctx, trained.Best.ID)
		if err != nil {
			return err
		}
		out.Register = time.Since(done).Seconds()
		out.Version, out.Kind = dec.Version, trained.Best.Kind
		return nil
	})
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}
