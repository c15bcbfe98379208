package training

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/customers"
	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/features"
	"github.com/claimrisk/claimrisk/shared/governance"
	"github.com/claimrisk/claimrisk/shared/mlflow"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/synth"
)

func identity(s string) string { return s }

// upload generates a dataset of n policies into a fresh mem:// bucket.
func upload(t *testing.T, n int) (*blobstore.Bucket, dataset.Manifest) {
	t.Helper()
	b, m, _ := uploadTo(t, "mem://", n)
	return b, m
}

// uploadTo generates a dataset of n policies into a fresh bucket at url,
// and returns the dataset too.
func uploadTo(t *testing.T, url string, n int) (*blobstore.Bucket, dataset.Manifest, *dataset.Dataset) {
	t.Helper()
	ctx := context.Background()
	b, err := blobstore.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	cfg := synth.DefaultConfig()
	cfg.Policies = n
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
	return b, m, d
}

func trainer(b *blobstore.Bucket) *Trainer {
	return &Trainer{Bucket: b, Runs: runstore.New(b), L2: 1, CodeVersion: "test", Pseudonymise: identity,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func TestTrainDatasetIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, m := upload(t, 4000)
	tr := trainer(b)
	first, err := tr.TrainDataset(ctx, m.ID(), "test")
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := tr.Runs.List(ctx)
	if len(runs) != 3 {
		t.Fatalf("%d runs after one training, want 3", len(runs))
	}
	second, err := tr.TrainDataset(ctx, m.ID(), "test")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := tr.Runs.List(ctx)
	if len(again) != 3 || first.Best.ID != second.Best.ID {
		t.Fatalf("a repeated training gave %d runs and best %s (was %s); want the same 3 runs", len(again), second.Best.ID, first.Best.ID)
	}
	for i := range runs {
		if !runs[i].Created.Equal(again[i].Created) {
			t.Errorf("run %s was fitted again", runs[i].ID)
		}
	}
	for _, obj := range []string{runstore.ModelObject, runstore.MetricsObject, runstore.FeaturesObject, runstore.ValidationObject,
		runstore.CalibrationObject, runstore.ROCObject, runstore.LorenzObject} {
		if ok, _ := b.Exists(ctx, runstore.Key(first.Best.ID, obj)); !ok {
			t.Errorf("run %s has no %s", first.Best.ID, obj)
		}
	}
}

func TestMissingDatasetIsNoData(t *testing.T) {
	t.Parallel()
	b, _ := upload(t, 400)
	if _, err := trainer(b).TrainDataset(context.Background(), "0000000000000000", "test"); !errors.Is(err, ErrNoData) {
		t.Fatalf("TrainDataset of a missing dataset = %v, want ErrNoData", err)
	}
}

func TestMLflowDownDoesNotFailTraining(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, m := upload(t, 2000)
	tr := trainer(b)
	c, _ := mlflow.New("http://127.0.0.1:1") // nothing listens on port 1
	tr.Tracker = &Tracker{Client: c, Bucket: b}
	out, err := tr.TrainDataset(ctx, m.ID(), "test")
	if err != nil {
		t.Fatalf("training failed because MLflow is down: %v", err)
	}
	r, err := tr.Runs.Get(ctx, out.Best.ID)
	if err != nil || r.MLflowRunID != "" || r.MLflowError == "" {
		t.Fatalf("run = %+v, %v; want no MLflow id and the reason recorded", r, err)
	}
}

// The behaviour the insurer cares about, on the default-sized data.
func TestAccidentDataBeatsTheLegacyFormula(t *testing.T) {
	if testing.Short() {
		t.Skip("fits three models on 40,000 policies")
	}
	t.Parallel()
	b, m := upload(t, synth.DefaultConfig().Policies)
	out, err := trainer(b).TrainDataset(context.Background(), m.ID(), "test")
	if err != nil {
		t.Fatal(err)
	}
	gini := map[string]float64{}
	for _, r := range out.Runs {
		gini[r.Kind] = r.Metrics.Gini
	}
	t.Logf("out-of-time Gini: legacy %.3f, glm-base %.3f, glm-accident %.3f", gini[model.KindLegacy], gini[model.KindBase], gini[model.KindAccident])
	if out.Best.Kind != model.KindAccident {
		t.Errorf("best candidate is %s, want %s", out.Best.Kind, model.KindAccident)
	}
	if gini[model.KindAccident] < gini[model.KindLegacy]+0.1 {
		t.Errorf("accident-aware Gini %.3f does not beat the legacy %.3f clearly (by 0.1)", gini[model.KindAccident], gini[model.KindLegacy])
	}
	if !(gini[model.KindLegacy] < gini[model.KindBase] && gini[model.KindBase] < gini[model.KindAccident]) {
		t.Errorf("the GLM without accident data should sit in between: %v", gini)
	}
}

func TestProbabilityRisesWithRiskDrivers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, m := upload(t, 20000)
	tr := trainer(b)
	out, err := tr.TrainDataset(ctx, m.ID(), "test")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := tr.Runs.Model(ctx, out.Best.ID)
	if err != nil {
		t.Fatal(err)
	}
	base := schema.PolicyRecord{
		Driver: schema.Driver{
			Age:           45,
			YearsLicensed: 25,
			HomeArea:      8,
		},
		Cover: schema.Cover{
			VehicleType:   "sedan",
			VehicleAge:    5,
			Usage:         "commute",
			AnnualMileage: 12000,
			Coverage:      "standard",
			Deductible:    500,
		},
	}
	p0 := mod.Predict(base)
	riskier := map[string]func(r *schema.PolicyRecord){
		"more miles":         func(r *schema.PolicyRecord) { r.AnnualMileage = 30000 },
		"a young driver":     func(r *schema.PolicyRecord) { r.Age, r.YearsLicensed = 19, 1 },
		"business use":       func(r *schema.PolicyRecord) { r.Usage = "business" },
		"a sports car":       func(r *schema.PolicyRecord) { r.VehicleType = "sports" },
		"a lower deductible": func(r *schema.PolicyRecord) { r.Deductible = 250 },
	}
	for name, change := range riskier {
		r := base
		change(&r)
		if p := mod.Predict(r); p <= p0 {
			t.Errorf("%s: probability %.4f, not above the base %.4f", name, p, p0)
		}
	}
	// A district with more crashes per vehicle gives a higher probability.
	d := mod.Design()
	lo, hi := base, base
	for _, area := range schema.Areas {
		if d.AccidentFor(schema.PolicyRecord{Driver: schema.Driver{HomeArea: area}}).CrashRate < d.AccidentFor(lo).CrashRate {
			lo.HomeArea = area
		}
		if d.AccidentFor(schema.PolicyRecord{Driver: schema.Driver{HomeArea: area}}).CrashRate > d.AccidentFor(hi).CrashRate {
			hi.HomeArea = area
		}
	}
	if mod.Predict(hi) <= mod.Predict(lo) {
		t.Errorf("district %d (%.0f crashes per 1,000 vehicles) scores %.4f, district %d (%.0f) %.4f",
			hi.HomeArea, d.AccidentFor(hi).CrashRate, mod.Predict(hi), lo.HomeArea, d.AccidentFor(lo).CrashRate, mod.Predict(lo))
	}
}

func TestRunIDDependsOnEveryInput(t *testing.T) {
	t.Parallel()
	base := RunID("fp", model.KindBase, 1, "v1")
	for _, other := range []string{RunID("fp2", model.KindBase, 1, "v1"), RunID("fp", model.KindLegacy, 1, "v1"),
		RunID("fp", model.KindBase, 2, "v1"), RunID("fp", model.KindBase, 1, "v2")} {
		if other == base {
			t.Errorf("run id %s repeats for different inputs", other)
		}
	}
	if RunID("fp", model.KindBase, 1, "v1") != base {
		t.Error("run id is not deterministic")
	}
}

func TestProtectedAttributeIsNeverAFeature(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, m := upload(t, 4000)
	tr := trainer(b)
	out, err := tr.TrainDataset(ctx, m.ID(), "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range out.Runs {
		mod, err := tr.Runs.Model(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range mod.Features.Names {
			if strings.Contains(n, "sex") || strings.Contains(n, "gender") {
				t.Errorf("%s uses feature %s", c.Kind, n)
			}
		}
		// The same policy scores the same whatever the customer's sex.
		ex := features.Example{Record: schema.PolicyRecord{
			Driver: schema.Driver{
				Age:           30,
				YearsLicensed: 10,
				HomeArea:      8,
			},
			Cover: schema.Cover{
				VehicleType:   "sedan",
				VehicleAge:    4,
				Usage:         "commute",
				AnnualMileage: 9000,
				Coverage:      "standard",
				Deductible:    500,
			},
		}, Accident: features.Accident{CrashRate: 70, InjuryShare: 0.15}}
		f, m := ex, ex
		f.Sex, m.Sex = "F", "M"
		if mod.PredictExample(f) != mod.PredictExample(m) {
			t.Errorf("%s scores women and men differently", c.Kind)
		}
	}
}

// On the default data the accident-aware model clears every slice's floor
// and ranks at least as well as the legacy formula on every large slice,
// and the groups are treated alike.
func TestSlicesAndFairnessOnTheDefaultData(t *testing.T) {
	if testing.Short() {
		t.Skip("fits three models on 40,000 policies")
	}
	t.Parallel()
	ctx := context.Background()
	b, m := upload(t, synth.DefaultConfig().Policies)
	tr := trainer(b)
	out, err := tr.TrainDataset(ctx, m.ID(), "test")
	if err != nil {
		t.Fatal(err)
	}
	figures := map[string]runstore.Metrics{}
	for _, r := range out.Runs {
		figures[r.Kind], _ = tr.Runs.Metrics(ctx, r.ID)
	}
	check := governance.SliceCheck{MinRows: 500, MinGini: 0.1, LargeRows: 1000}
	if fails := check.Failures(figures[model.KindAccident].Slices, figures[model.KindLegacy].Slices); len(fails) > 0 {
		t.Errorf("slice checks fail on the default data: %v", fails)
	}
	if n := len(figures[model.KindAccident].Slices); n != 10 {
		t.Errorf("%d slices, want 10: 4 age bands, 3 accident levels and 3 usages", n)
	}
	f := figures[model.KindAccident].Fairness
	if f == nil || f.Flagged || f.DisparateImpact < 0.95 || f.DisparateImpact > 1.05 || f.Unknown != 0 {
		t.Fatalf("fairness on the default data: %+v; want a disparate impact near 1", f)
	}
	t.Logf("default data: disparate impact %.4f (F %.4f, M %.4f)", f.DisparateImpact, f.Groups[0].MeanPredicted, f.Groups[1].MeanPredicted)
}

// TestTrainingNeedsTheAttributesStored: the customers' attribute is
// written beside the training, and the training fails when it cannot be
// written (the event is then delivered again), and stores it otherwise.
func TestTrainingNeedsTheAttributesStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	b, m, d := uploadTo(t, "file://"+dir, 1000)
	// A file where the attributes' folder must be: their write fails.
	blocker := filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(customers.Prefix, "/")))
	if err := os.MkdirAll(filepath.Dir(blocker), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blocker, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := trainer(b).TrainDataset(ctx, m.ID(), "test"); err == nil || !strings.Contains(err.Error(), "customers: write") {
		t.Fatalf("training with the attributes unwritable: err = %v, want the attributes' write error", err)
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if _, err := trainer(b).TrainDataset(ctx, m.ID(), "test"); err != nil {
		t.Fatal(err)
	}
	attrs, err := customers.Load(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(attrs) != len(d.Customers) {
		t.Errorf("%d customers' attributes stored, want %d", len(attrs), len(d.Customers))
	}
}
