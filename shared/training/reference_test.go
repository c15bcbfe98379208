package training

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/features"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/tooling/synth"
)

// yearCounts counts examples by policy year.
func yearCounts(exs []features.Example) map[int]int {
	out := map[int]int{}
	for _, ex := range exs {
		out[ex.Start.Year()]++
	}
	return out
}

// checkStratified fails unless each year's count in the sample is its
// proportional share of n, to within the one row that rounding moves.
func checkStratified(t *testing.T, population, sample map[int]int, n int) {
	t.Helper()
	total := 0
	for _, c := range population {
		total += c
	}
	got := 0
	for y, c := range population {
		want := float64(n) * float64(c) / float64(total)
		if math.Abs(float64(sample[y])-want) >= 1 {
			t.Errorf("year %d: %d rows in the sample, want %.1f of %d (its share of the training data)", y, sample[y], want, n)
		}
		got += sample[y]
	}
	if got != n {
		t.Errorf("sample of %d rows, want %d", got, n)
	}
}

func TestReferenceSampleIsStratifiedByYear(t *testing.T) {
	t.Parallel()
	var exs []features.Example
	// 1,000 examples of 2021, 3,000 of 2022, 6,001 of 2023.
	for y, n := range map[int]int{2021: 1000, 2022: 3000, 2023: 6001} {
		for i := range n {
			ex := features.Example{Start: time.Date(y, 1, 1+i%28, 0, 0, 0, 0, time.UTC)}
			ex.Record.PolicyID = fmt.Sprintf("P%d-%d", y, i)
			exs = append(exs, ex)
		}
	}
	s := ReferenceSample(exs, 5000, 1)
	checkStratified(t, yearCounts(exs), yearCounts(s), 5000)
	if again := ReferenceSample(exs, 5000, 1); !slices.EqualFunc(s, again, func(a, b features.Example) bool { return a.Record.PolicyID == b.Record.PolicyID }) {
		t.Error("the same seed drew another sample")
	}
	other := ReferenceSample(exs, 5000, 2)
	if slices.EqualFunc(s, other, func(a, b features.Example) bool { return a.Record.PolicyID == b.Record.PolicyID }) {
		t.Error("another seed drew the same sample")
	}
	seen := map[string]bool{}
	for _, ex := range s {
		if seen[ex.Record.PolicyID] {
			t.Fatalf("%s drawn twice", ex.Record.PolicyID)
		}
		seen[ex.Record.PolicyID] = true
	}
	if got := ReferenceSample(exs[:300], 5000, 1); len(got) != 300 {
		t.Errorf("a sample larger than the data has %d rows, want all 300", len(got))
	}
}

// TestReferenceIsASampleOfTheTrainingData: a training stores 5,000 rows of
// its own training years, stratified; a retraining on the dataset plus the
// relabelled traffic stores 5,000 rows of that training data, the traffic's
// year with its share.
func TestReferenceIsASampleOfTheTrainingData(t *testing.T) {
	t.Parallel()
	cfg := synth.DefaultConfig()
	cfg.Policies = 24000
	d, err := synth.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, m, _ := d.Encode("test")
	in, err := InputFor(d, m)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Fit(in, "glm-accident", 1, identity)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Reference) != DefaultReferenceRows {
		t.Fatalf("reference of %d rows, want %d", len(f.Reference), DefaultReferenceRows)
	}
	checkStratified(t, yearCounts(in.Train), rowYears(f.Reference), DefaultReferenceRows)
	if _, ok := rowYears(f.Reference)[cfg.LastYear]; ok {
		t.Errorf("the reference holds rows of the validation year %d", cfg.LastYear)
	}

	// The retraining: the dataset and 1,500 labelled predictions of 2026.
	draws, err := synth.Traffic(cfg, 9, 1500, synth.Scenarios[0])
	if err != nil {
		t.Fatal(err)
	}
	labelled := make([]predlog.ReferenceRow, len(draws))
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, dr := range draws {
		labelled[i] = predlog.ReferenceRow{Row: predlog.Row{Time: at.Add(time.Duration(i) * time.Minute), PolicyRecord: dr.Reported}}
		if dr.Claim {
			labelled[i].Claim = 1
		}
	}
	re, err := DriftInput(d, dataset.Manifest{}, labelled)
	if err != nil {
		t.Fatal(err)
	}
	re.Fingerprint = "retrain"
	fr, err := Fit(re, "glm-accident", 1, identity)
	if err != nil {
		t.Fatal(err)
	}
	years := rowYears(fr.Reference)
	checkStratified(t, yearCounts(re.Train), years, DefaultReferenceRows)
	if years[2026] == 0 {
		t.Errorf("the retrained reference has no row of the relabelled traffic: %v", years)
	}
	t.Logf("retrained reference by year: %v", years)
}

func rowYears(rows []predlog.ReferenceRow) map[int]int {
	out := map[int]int{}
	for _, r := range rows {
		out[r.StartDate.Time().Year()]++
	}
	return out
}
