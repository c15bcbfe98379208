package model

import (
	"testing"

	"github.com/claimrisk/claimrisk/shared/features"
	"github.com/claimrisk/claimrisk/shared/glm"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// accidentModel is a model of the accident kind with made-up coefficients:
// the width and the feature computations of the champion the API serves.
func accidentModel(b *testing.B) *Model {
	b.Helper()
	names := []string{"age", "age_under_25", "age_over_70", "novice", "log_mileage", "vehicle_age", "vehicle_suv", "vehicle_pickup",
		"vehicle_van", "vehicle_sports", "usage_commute", "usage_business", "coverage_standard", "coverage_comprehensive",
		"log_deductible", "log_crash_rate", "injury_share"}
	spec := features.Spec{Set: features.SetAccident, Names: names, Areas: map[string]features.Accident{}}
	coef := make([]float64, len(names))
	for i := range names {
		spec.Center = append(spec.Center, 0.1*float64(i))
		spec.Scale = append(spec.Scale, 1+0.05*float64(i))
		coef[i] = 0.02 * float64(i%5-2)
	}
	for _, a := range schema.Areas {
		spec.Areas[itoa(a)] = features.Accident{CrashRate: 2 + float64(a%7), InjuryShare: 0.1 + 0.01*float64(a%5)}
	}
	m, err := New(KindAccident, spec, &glm.Fit{Intercept: -2.3, Coef: coef}, 1)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// BenchmarkPredict is the in-process limit of the serving benchmark: one
// record's features, the linear predictor, the probability and its band.
func BenchmarkPredict(b *testing.B) {
	m := accidentModel(b)
	recs := []schema.PolicyRecord{
		{PolicyID: "Q-1", CustomerID: "C-1", Driver: schema.Driver{Age: 45, YearsLicensed: 27, HomeArea: 8}, Cover: schema.Cover{VehicleType: "sedan", VehicleAge: 6, Usage: "pleasure", AnnualMileage: 8000, Coverage: "standard", Deductible: 1000}},
		{PolicyID: "Q-2", CustomerID: "C-2", Driver: schema.Driver{Age: 21, YearsLicensed: 2, HomeArea: 11}, Cover: schema.Cover{VehicleType: "sports", VehicleAge: 3, Usage: "commute", AnnualMileage: 18000, Coverage: "comprehensive", Deductible: 250}},
		{PolicyID: "Q-3", CustomerID: "C-3", Driver: schema.Driver{Age: 73, YearsLicensed: 54, HomeArea: 16}, Cover: schema.Cover{VehicleType: "suv", VehicleAge: 9, Usage: "business", AnnualMileage: 22000, Coverage: "liability", Deductible: 500}},
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := m.Predict(recs[i%len(recs)])
		if Band(p) == "" {
			b.Fatal("no band")
		}
		i++
	}
}
