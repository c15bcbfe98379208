package testenv

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/promotion"
	"github.com/claimrisk/claimrisk/shared/pseudonym"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/synth"
	"github.com/claimrisk/claimrisk/shared/training"
)

// Train generates a small dataset with the given seed into the bucket,
// trains on it in-process and registers the best candidate through the
// promotion gate with a negative margin, so that a new candidate replaces
// the champion whenever it passes the floors. It returns the decision.
func Train(t testing.TB, bucketURL string, seed uint64, policies int) promotion.Outcome {
	t.Helper()
	ctx := context.Background()
	out := Trained(t, bucketURL, seed, policies)
	b, err := blobstore.Open(ctx, bucketURL)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	policy := promotion.DefaultPolicy()
	policy.Margin = -1 // any candidate past the floors replaces the champion
	gate := &promotion.Gate{Registry: registry.Open(b, model.Name), Runs: runstore.New(b), Policy: policy, Actor: "test", Log: quiet}
	dec, err := gate.Judge(ctx, out.Best.ID)
	if err != nil {
		t.Fatal(err)
	}
	return dec
}

// Trained generates a dataset as Train does and trains on it in-process,
// registering nothing: it returns the training's result, which the train
// function would announce as model.trained.
func Trained(t testing.TB, bucketURL string, seed uint64, policies int) training.Result {
	t.Helper()
	ctx := context.Background()
	b, err := blobstore.Open(ctx, bucketURL)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Policies = seed, policies
	d, err := synth.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	objs, m, err := d.Encode("test")
	if err != nil {
		t.Fatal(err)
	}
	if err := dataset.Upload(ctx, b, objs, m, nil); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, _ := pseudonym.New(pseudonym.DevKey)
	runs := runstore.New(b)
	tr := &training.Trainer{Bucket: b, Runs: runs, L2: 1, CodeVersion: "test", Pseudonymise: p.Of, Log: quiet}
	out, err := tr.TrainDataset(ctx, m.ID(), "test")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Champion trains as Train does and loads the champion it registered.
func Champion(t testing.TB, bucketURL string, seed uint64, policies int) *model.Model {
	t.Helper()
	Train(t, bucketURL, seed, policies)
	b, err := blobstore.Open(context.Background(), bucketURL)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ver, err := registry.Open(b, model.Name).Resolve(context.Background(), registry.Champion)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ver.LoadModel()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// PolicyRecords are n records of a portfolio generated with seed, as the
// prediction API receives them; past the portfolio's size they repeat.
func PolicyRecords(t testing.TB, seed uint64, n int) []schema.PolicyRecord {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Policies = seed, max(n, 100)
	d, err := synth.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	customers := map[string]schema.Customer{}
	for _, c := range d.Customers {
		customers[c.CustomerID] = c
	}
	recs := make([]schema.PolicyRecord, n)
	for i := range recs {
		p := d.Policies[i%len(d.Policies)]
		recs[i] = schema.RecordFor(customers[p.CustomerID], p)
	}
	return recs
}

// WriteParquet writes rows to a Parquet file at path.
func WriteParquet[T any](t testing.TB, path string, rows []T) {
	t.Helper()
	data, err := parquetio.Encode(rows)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
