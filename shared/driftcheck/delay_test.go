package driftcheck_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/governance"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/tooling/synth"
	"github.com/claimrisk/claimrisk/shared/training"
)

// TestEstimateLeadsTheRealisedAUC runs the label-delay scenario through
// real checks on a mem:// bucket: 14 hourly windows of 1,000 predictions,
// the broker's book from window 3 on, and each window's outcomes arriving
// 6 windows later. The estimate raises its alarm at the first shifted
// window's own check; the realised AUC can only say so once that window's
// outcomes arrive, 6 windows later. It logs the lead.
func TestEstimateLeadsTheRealisedAUC(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model and runs 14 checks")
	}
	const windows, rows, shiftFrom, delay = 14, 1000, 3, 6
	ctx := context.Background()
	b, err := blobstore.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cfg := synth.DefaultConfig()
	d, err := synth.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, man, _ := d.Encode("test")
	in, _ := training.InputFor(d, man)
	in.Fingerprint = man.Fingerprint
	f, err := training.Fit(in, model.KindAccident, 1, func(s string) string { return s })
	if err != nil {
		t.Fatal(err)
	}
	obj, _ := f.Model.Encode()
	refData, _ := parquetio.Encode(f.Reference)
	reg := registry.Open(b, model.Name)
	ver, _, err := reg.Register(ctx, registry.Candidate{Kind: f.Model.Kind, Lineage: registry.Lineage{RunID: "run-test"}, Metrics: f.Metrics.Validation, ModelObject: obj, Reference: refData, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.SetAlias(ctx, 0, registry.Champion, ver.Version, "test", "test"); err != nil {
		t.Fatal(err)
	}
	var dc config.Drift
	if err := config.Load(&dc); err != nil {
		t.Fatal(err)
	}
	policy, _ := driftcheck.ParsePolicy(dc.WeightFloor, nil, nil)
	c := &driftcheck.Checker{Bucket: b, Registry: reg, Policy: policy, LabelHorizon: dc.LabelHorizon, Fairness: governance.DefaultPolicy(),
		Thresholds: driftcheck.Thresholds{MinRows: dc.MinRows, MinLabels: dc.MinLabels, DriftShare: dc.DriftShare, MaxAUCDrop: dc.MaxAUCDrop, MaxCalibrationGap: dc.MaxCalibrationGap}}

	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	outcomes := make([][]predlog.Feedback, windows)
	estimatedAt, realisedAt := -1, -1
	for k := range windows {
		sc := synth.Scenarios[0]
		if k >= shiftFrom {
			sc, _ = synth.ScenarioNamed("broker")
		}
		draws, err := synth.Traffic(cfg, uint64(500+k), rows, sc)
		if err != nil {
			t.Fatal(err)
		}
		at := t0.Add(time.Duration(k)*time.Hour + time.Minute)
		logged := make([]predlog.Row, len(draws))
		for i, dr := range draws {
			p := f.Model.Predict(dr.Reported)
			logged[i] = predlog.Row{Time: at, RequestID: fmt.Sprintf("req-%d", k), ModelVersion: int32(ver.Version), PolicyRecord: dr.Reported, Probability: p, Band: model.Band(p)}
			claim := int32(0)
			if dr.Claim {
				claim = 1
			}
			outcomes[k] = append(outcomes[k], predlog.Feedback{RequestID: logged[i].RequestID, PolicyID: dr.Reported.PolicyID, Claim: claim})
		}
		writeLog(t, b, predlog.PredictionsPrefix, at, k, logged)
		end := t0.Add(time.Duration(k+1) * time.Hour)
		// The outcomes of the window delay windows back arrive now.
		if j := k - delay; j >= 0 {
			for i := range outcomes[j] {
				outcomes[j][i].Time = end.Add(-time.Minute)
			}
			writeLog(t, b, predlog.FeedbackPrefix, end.Add(-time.Minute), k, outcomes[j])
		}
		rep, err := c.Check(ctx, end, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		est := rep.Estimate
		t.Logf("check %2d: estimated AUC %.4f [%.4f, %.4f]%s; rules %v; late windows %d", k, est.AUC, est.AUCLower, est.AUCUpper, map[bool]string{true: " ALARM", false: ""}[est.Alarm], rep.RulesFired, len(rep.LateQuality))
		for _, l := range rep.LateQuality {
			t.Logf("          window %s: realised AUC %.4f on %d labels (estimated %.4f)", l.ReportID, *l.Quality.AUC, l.Quality.LabelledRows, *l.EstimatedAUC)
		}
		if estimatedAt < 0 && slices.Contains(rep.RulesFired, driftcheck.FiredEstimate) {
			estimatedAt = k
		}
		if realisedAt < 0 && slices.Contains(rep.RulesFired, driftcheck.FiredDelayed) {
			realisedAt = k
		}
	}
	t.Logf("the estimate raised the alarm at window %d, the realised AUC at window %d: a lead of %d windows", estimatedAt, realisedAt, realisedAt-estimatedAt)
	if estimatedAt != shiftFrom {
		t.Errorf("the estimate's alarm came at window %d; the shift began at %d", estimatedAt, shiftFrom)
	}
	if realisedAt != shiftFrom+delay {
		t.Errorf("the realised AUC's alarm came at window %d, want %d (the shifted window's outcomes arrive %d windows later)", realisedAt, shiftFrom+delay, delay)
	}
	perf, err := driftcheck.Performance(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	realised := 0
	for _, w := range perf {
		if w.Realised != nil {
			realised++
			if w.RealisedAt.Sub(w.WindowTo) != delay*time.Hour {
				t.Errorf("window %s realised %s after it ended, want %d hours", w.ReportID, w.RealisedAt.Sub(w.WindowTo), delay)
			}
		}
	}
	if realised != windows-delay || len(perf) != windows {
		t.Errorf("%d performance records, %d realised; want %d and %d", len(perf), realised, windows, windows-delay)
	}
}

// writeLog writes rows as a payload-log object of the day of at.
func writeLog[T any](t *testing.T, b *blobstore.Bucket, prefix string, at time.Time, seq int, rows []T) {
	t.Helper()
	data, err := parquetio.Encode(rows)
	if err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("%s%s/%d-test-%06d.parquet", prefix, at.Format("2006/01/02"), at.UnixMilli(), seq)
	if err := b.Write(context.Background(), key, data, "application/vnd.apache.parquet"); err != nil {
		t.Fatal(err)
	}
}
