package promotion

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/cbpe"
	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/governance"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/tooling/synth"
	"github.com/claimrisk/claimrisk/shared/training"
)

type fixture struct {
	b       *blobstore.Bucket
	trainer *training.Trainer
	gate    *Gate
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	b, err := blobstore.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	runs := runstore.New(b)
	return &fixture{
		b:       b,
		trainer: &training.Trainer{Bucket: b, Runs: runs, L2: 1, CodeVersion: "test", Pseudonymise: func(s string) string { return s }, Log: quiet},
		gate:    &Gate{Registry: registry.Open(b, model.Name), Runs: runs, Policy: DefaultPolicy(), Actor: "test", Log: quiet},
	}
}

// train uploads a generated dataset, trains on it and returns the best
// run's id.
func (f *fixture) train(t *testing.T, cfg synth.Config) string {
	t.Helper()
	d, err := synth.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	objs, m, _ := d.Encode("test")
	if err := dataset.Upload(context.Background(), f.b, objs, m, nil); err != nil {
		t.Fatal(err)
	}
	out, err := f.trainer.TrainDataset(context.Background(), m.ID(), "test")
	if err != nil {
		t.Fatal(err)
	}
	return out.Best.ID
}

func config(seed uint64, first, last int) synth.Config {
	return synth.Config{Seed: seed, Policies: 12000, FirstYear: first, LastYear: last}
}

func TestFirstModelBecomesChampionOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	trained := f.train(t, config(42, 2021, 2024))
	d, err := f.gate.Judge(ctx, trained)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Promoted || d.Version != 1 || !strings.HasPrefix(d.Reason, "first champion") {
		t.Fatalf("decision = %+v, want v1 promoted as the first champion", d)
	}
	// The same event again: the same decision, no second version.
	again, err := f.gate.Judge(ctx, trained)
	if err != nil || again.Version != 1 || !again.Promoted || again.Reason != d.Reason {
		t.Fatalf("redelivery = %+v, %v", again, err)
	}
	if nums, _ := f.gate.Registry.Versions(ctx); len(nums) != 1 {
		t.Fatalf("versions %v after a repeated event, want one", nums)
	}
	state, _ := f.gate.Registry.Aliases(ctx)
	if state.Aliases[registry.Champion] != 1 {
		t.Fatalf("aliases %v; want champion v1", state.Aliases)
	}
	if _, ok := state.Aliases[registry.Challenger]; ok {
		t.Errorf("the challenger alias should be cleared once it became the champion: %v", state.Aliases)
	}
}

func TestChallengerMustBeatTheChampionByTheMargin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	first := f.train(t, config(42, 2021, 2024))
	if _, err := f.gate.Judge(ctx, first); err != nil {
		t.Fatal(err)
	}
	second := f.train(t, config(43, 2021, 2024))

	// Impossible margins: rejected, and the reason says why with both models' figures.
	f.gate.Policy.Margin, f.gate.Policy.LogLossMargin = 0.5, 0.5
	d, err := f.gate.Judge(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	if d.Promoted || d.ChampionVersion != 1 || d.ChampionMetrics == nil || !strings.Contains(d.Reason, "neither ranks better") {
		t.Fatalf("decision = %+v, want a rejection against v1 with both metrics", d)
	}
	if d.ChallengerMetrics.N != d.ChampionMetrics.N {
		t.Errorf("challenger scored on %d rows, champion on %d: not the same data", d.ChallengerMetrics.N, d.ChampionMetrics.N)
	}
	state, _ := f.gate.Registry.Aliases(ctx)
	if state.Aliases[registry.Champion] != 1 || state.Aliases[registry.Challenger] != 2 {
		t.Fatalf("aliases %v; want champion v1 and challenger v2", state.Aliases)
	}
}

func TestFloorsRejectAWeakModel(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.gate.Policy.MinGini = 0.9
	d, err := f.gate.Judge(context.Background(), f.train(t, config(42, 2021, 2024)))
	if err != nil {
		t.Fatal(err)
	}
	if d.Promoted || !strings.Contains(d.Reason, "below the floor 0.9000") {
		t.Fatalf("decision = %+v, want a rejection by the Gini floor", d)
	}
}

func TestALateEventFromOlderDataDoesNotReplaceTheChampion(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	older := f.train(t, config(42, 2020, 2023))
	newer := f.train(t, config(42, 2021, 2024))
	// The newer training's event arrives first.
	if d, err := f.gate.Judge(ctx, newer); err != nil || !d.Promoted {
		t.Fatalf("newer: %+v %v", d, err)
	}
	d, err := f.gate.Judge(ctx, older)
	if err != nil {
		t.Fatal(err)
	}
	if d.Promoted || d.Version != 2 || !strings.Contains(d.Reason, "older than champion v1") {
		t.Fatalf("late older event: %+v; want v2 registered and rejected as older", d)
	}
}

func TestConcurrentJudgementsLeaveOneConsistentChampion(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	var trained []string
	for seed := uint64(50); seed < 53; seed++ {
		trained = append(trained, f.train(t, config(seed, 2021, 2024)))
	}
	f.gate.Policy.Margin = 0
	var wg sync.WaitGroup
	decisions := make([]Outcome, len(trained))
	for i, tr := range trained {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := f.gate.Judge(ctx, tr)
			if err != nil {
				t.Error(err)
			}
			decisions[i] = d
		}()
	}
	wg.Wait()
	state, _ := f.gate.Registry.Aliases(ctx)
	champ := state.Aliases[registry.Champion]
	log, _ := f.gate.Registry.Log(ctx)
	promoted := 0
	for _, d := range decisions {
		if d.Promoted {
			promoted++
		}
	}
	// Every promotion is an audit entry; the last champion move is the champion.
	last := 0
	for _, m := range log {
		if m.Alias == registry.Champion {
			last = m.Version
		}
	}
	if champ == 0 || last != champ || promoted == 0 {
		t.Fatalf("champion v%d, last champion move v%d, %d promoted; decisions %+v", champ, last, promoted, decisions)
	}
}

func TestMissingRunIsInvalid(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, err := f.gate.Judge(context.Background(), "run-000000000000")
	if err == nil || !strings.Contains(err.Error(), "not in the bucket") {
		t.Fatalf("Judge of a missing run = %v", err)
	}
}

func TestAChallengerThatFailsTheFairnessCheckIsNotPromoted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Bounds no real model meets: any disparate impact is outside them.
	f.gate.Policy.Fairness = governance.Policy{Lower: 1.5, Upper: 2, Threshold: 0.1, Protected: "F", Reference: "M"}
	d, err := f.gate.Judge(context.Background(), f.train(t, config(42, 2021, 2024)))
	if err != nil {
		t.Fatal(err)
	}
	if d.Promoted || !strings.Contains(d.Reason, "fails the fairness check: disparate impact") {
		t.Fatalf("decision = %+v, want a fairness rejection", d)
	}
}

func TestFactsheetTellsTheVersionsStory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.gate.Judge(ctx, f.train(t, config(42, 2021, 2024))); err != nil {
		t.Fatal(err)
	}
	md, err := f.gate.Registry.Factsheet(ctx, 1, "md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Factsheet: claim-risk v1", "serving (champion)", "## Purpose and intended use", "## Known limitations",
		"accident data | test", "trained on | 9000 policies", "## Validation (out of time)", "| age band | under 25 |",
		"| area accident level | high |", "| vehicle usage | business |", "Disparate impact (mean predicted probability of F over M)",
		"became champion by test: first champion", "promoted by the promotion gate", "log_crash_rate"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("the factsheet lacks %q", want)
		}
	}
	html, err := f.gate.Registry.Factsheet(ctx, 1, "html")
	if err != nil || !strings.Contains(string(html), "<h2>Fairness</h2>") {
		t.Errorf("HTML factsheet: %v", err)
	}
}

// TestTheReferenceIsStoredWithTheVersion: registration copies the run's
// sample of its training data beside the version and names it in the
// lineage; the drift check and the Evidently job read it from there.
func TestTheReferenceIsStoredWithTheVersion(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	trained := f.train(t, config(42, 2021, 2024))
	d, err := f.gate.Judge(ctx, trained)
	if err != nil {
		t.Fatal(err)
	}
	ver, err := f.gate.Registry.Get(ctx, d.Version)
	if err != nil {
		t.Fatal(err)
	}
	if want := f.gate.Registry.ReferenceKey(d.Version); ver.Lineage.Reference != want {
		t.Fatalf("lineage names reference %q, want %q", ver.Lineage.Reference, want)
	}
	stored, err := f.b.Read(ctx, ver.Lineage.Reference)
	if err != nil {
		t.Fatal(err)
	}
	run, _ := f.b.Read(ctx, runstore.Key(trained, runstore.ReferenceObject))
	if string(stored) != string(run) {
		t.Error("the version's reference differs from its run's sample")
	}
	// A registration that stopped before the reference was written is
	// completed by the redelivery.
	if err := f.b.Delete(ctx, ver.Lineage.Reference); err != nil {
		t.Fatal(err)
	}
	if _, err := f.gate.Judge(ctx, trained); err != nil {
		t.Fatal(err)
	}
	if ok, _ := f.b.Exists(ctx, ver.Lineage.Reference); !ok {
		t.Error("the redelivered event did not restore the missing reference")
	}
}

// TestFactsheetPlotsThePerformanceInProduction: the drift checks' window
// records of a version appear in its factsheet, estimate beside realised,
// with the plot in the HTML.
func TestFactsheetPlotsThePerformanceInProduction(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.gate.Judge(ctx, f.train(t, config(42, 2021, 2024))); err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	auc := 0.612
	for i, w := range []driftcheck.WindowPerformance{
		{ReportID: "w1", WindowTo: end, ChampionVersion: 1, Rows: 1000, Estimate: &driftcheck.Estimated{Estimate: cbpe.Estimate{AUC: 0.6543, AUCLower: 0.6, AUCUpper: 0.7}}, LabelledRows: 1000, Realised: &driftcheck.Quality{AUC: &auc}},
		{ReportID: "w2", WindowTo: end.Add(time.Hour), ChampionVersion: 1, Rows: 1000, Estimate: &driftcheck.Estimated{Estimate: cbpe.Estimate{AUC: 0.5876, AUCLower: 0.53, AUCUpper: 0.64}, Alarm: true}},
		{ReportID: "w3", WindowTo: end, ChampionVersion: 2, Rows: 10},
	} {
		if err := f.b.WriteJSON(ctx, driftcheck.PerformanceKey(w.ReportID), w); err != nil {
			t.Fatal(i, err)
		}
	}
	fs, err := Factsheet(ctx, f.gate.Registry, f.gate.Runs, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs.Production) != 2 || *fs.Production[0].RealisedAUC != auc || fs.Production[1].RealisedAUC != nil || !fs.Production[1].Alarm {
		t.Fatalf("production = %+v", fs.Production)
	}
	md, _ := fs.Markdown()
	html, _ := fs.HTML()
	if !strings.Contains(md, "| 0.6543 | 0.6000 to 0.7000 | 1000 | 0.6120 |") || !strings.Contains(md, "0.5876 **alarm**") {
		t.Errorf("the Markdown factsheet lacks the production table:\n%s", md)
	}
	if !strings.Contains(html, `src="data:image/png;base64,`) {
		t.Error("the HTML factsheet has no plot of the performance in production")
	}
}
