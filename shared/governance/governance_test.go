package governance

import (
	"math"
	"strings"
	"testing"

	"github.com/claimrisk/claimrisk/shared/features"
	"github.com/claimrisk/claimrisk/shared/glm"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/schema"
)

func TestFairnessByHand(t *testing.T) {
	t.Parallel()
	rows := []Row{
		{Group: "F", Probability: 0.30, Claim: 1}, {Group: "F", Probability: 0.05, Claim: 0}, {Group: "F", Probability: 0.16, Claim: 0},
		{Group: "M", Probability: 0.10, Claim: 0}, {Group: "M", Probability: 0.20, Claim: 1},
		{Group: "", Probability: 0.9},
	}
	f := DefaultPolicy().Measure("sex", rows, true)
	// F: mean (0.30+0.05+0.16)/3 = 0.17; M: 0.15; ratio 0.17/0.15 = 1.1333.
	if math.Abs(f.DisparateImpact-0.17/0.15) > 1e-12 || f.Flagged || f.Unknown != 1 {
		t.Fatalf("fairness = %+v; want disparate impact 1.1333, not flagged, one unknown", f)
	}
	fem := f.Groups[0]
	// F at threshold 0.10: flagged 0.30 (claim) and 0.16 (no claim); negatives 0.05, 0.16 -> FPR 1/2; TPR 1/1.
	if *fem.FalsePositiveRate != 0.5 || *fem.TruePositiveRate != 1 || math.Abs(*fem.ObservedRate-1.0/3) > 1e-12 {
		t.Errorf("F rates = FPR %v TPR %v observed %v", *fem.FalsePositiveRate, *fem.TruePositiveRate, *fem.ObservedRate)
	}
	rows[1].Probability = 0.60 // F mean 0.3533, ratio 2.36
	if f := DefaultPolicy().Measure("sex", rows, false); !f.Flagged || f.Groups[0].ObservedRate != nil || !strings.Contains(f.Reason(), "outside [0.80, 1.25]") {
		t.Errorf("fairness = %+v; want flagged without outcome figures", f)
	}
	if f := DefaultPolicy().Measure("sex", []Row{{Group: "F", Probability: 0.1}}, false); f.DisparateImpact != 0 || f.Flagged || f.Note == "" {
		t.Errorf("one group only: %+v; want no ratio and a note", f)
	}
}

func TestSlicesAndChecks(t *testing.T) {
	t.Parallel()
	if AgeBand(24.9) != "under 25" || AgeBand(25) != "25-39" || AgeBand(59.99) != "40-59" || AgeBand(60) != "60 and over" {
		t.Error("age bands")
	}
	lv := NewAccidentLevels([]float64{1, 2, 3, 4, 5, 6})
	if lv.Level(1) != "low" || lv.Level(3) != "medium" || lv.Level(6) != "high" {
		t.Errorf("levels cut at %v", lv)
	}
	model := []Slice{{Dimension: "age band", Slice: "under 25", N: 2000, Gini: 0.05, Scored: true}, {Dimension: "vehicle usage", Slice: "business", N: 1500, Gini: 0.2, Scored: true}, {Dimension: "age band", Slice: "25-39", N: 100, Gini: 0.01, Scored: true}}
	legacy := []Slice{{Dimension: "vehicle usage", Slice: "business", N: 1500, Gini: 0.25, Scored: true}}
	fails := SliceCheck{MinRows: 500, MinGini: 0.1, LargeRows: 1000}.Failures(model, legacy)
	if len(fails) != 2 || !strings.Contains(fails[0], "under 25: Gini 0.0500 on 2000 policies is below the floor") || !strings.Contains(fails[1], "below the legacy formula's 0.2500") {
		t.Errorf("failures = %q", fails)
	}
}

func TestExplanationIsExact(t *testing.T) {
	t.Parallel()
	spec := features.Spec{Set: features.SetBase, Names: nil}
	// A base model with unit scales and made-up coefficients.
	for _, n := range []string{"age", "age_under_25", "age_over_70", "novice", "log_mileage", "vehicle_age", "vehicle_suv", "vehicle_pickup", "vehicle_van", "vehicle_sports", "usage_commute", "usage_business", "coverage_standard", "coverage_comprehensive", "log_deductible"} {
		spec.Names = append(spec.Names, n)
		spec.Center = append(spec.Center, 0.5)
		spec.Scale = append(spec.Scale, 2)
	}
	coef := []float64{0.01, 0.5, 0.2, 0.3, 0.4, 0.02, 0.05, 0.1, -0.05, 0.45, 0.15, 0.35, 0.05, 0.2, -0.2}
	m, err := model.New(model.KindBase, spec, &glm.Fit{Intercept: -2.2, Coef: coef}, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := schema.PolicyRecord{PolicyID: "Q1", Driver: schema.Driver{Age: 22, YearsLicensed: 2, HomeArea: 11}, Cover: schema.Cover{VehicleType: "sports", VehicleAge: 3, Usage: "commute", AnnualMileage: 18000, Coverage: "comprehensive", Deductible: 250}}
	e := Explain(m, r)
	sum := e.ReferenceLogit
	for _, c := range e.Contributions {
		sum += c.Contribution
	}
	if math.Abs(sum-e.Logit) > 1e-12 || math.Abs(e.Probability-m.Predict(r)) > 1e-15 || e.ReferenceLogit != -2.2 {
		t.Fatalf("reference %v + contributions %v != logit %v, or probability %v != %v", e.ReferenceLogit, sum, e.Logit, e.Probability, m.Predict(r))
	}
	// vehicle_type sums its four indicators: sports is 1 -> (1-0.5)/2*0.45; the others are 0 -> (0-0.5)/2*coef.
	want := 0.25*0.45 - 0.25*(0.05+0.1-0.05)
	for _, c := range e.Contributions {
		if c.Field == "vehicle_type" && math.Abs(c.Contribution-want) > 1e-12 {
			t.Errorf("vehicle_type contribution %v, want %v", c.Contribution, want)
		}
	}
	for i := 1; i < len(e.Contributions); i++ {
		if math.Abs(e.Contributions[i].Contribution) > math.Abs(e.Contributions[i-1].Contribution) {
			t.Fatal("contributions are not ordered by size")
		}
	}
}

func BenchmarkExplain(b *testing.B) {
	spec := features.Spec{Set: features.SetLegacy, Names: []string{"log_legacy_factor"}, Center: []float64{0}, Scale: []float64{1}}
	m, _ := model.New(model.KindLegacy, spec, &glm.Fit{Intercept: -2, Coef: []float64{1}}, 1)
	r := schema.PolicyRecord{Driver: schema.Driver{Age: 30, YearsLicensed: 10}, Cover: schema.Cover{Usage: "commute", AnnualMileage: 9000}}
	for b.Loop() {
		Explain(m, r)
	}
}
