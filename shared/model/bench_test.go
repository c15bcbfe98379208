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
		benchRecord("Q-1", 45, 27, 8, "sedan", 6, "pleasure", 8000, "standard", 1000),
		benchRecord("Q-2", 21, 2, 11, "sports", 3, "commute", 18000, "comprehensive", 250),
		benchRecord("Q-3", 73, 54, 16, "suv", 9, "business", 22000, "liability", 500),
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

func benchRecord(id string, age, licensed float64, area int, vehicle string, vehicleAge int, usage string, mileage float64, coverage string, deductible int) schema.PolicyRecord {
	// Field by field, not one composite literal: make bench compiles this
	// file against its baseline commit too, whose PolicyRecord held these
	// fields itself rather than in Driver and Cover.
	var r schema.PolicyRecord
	r.PolicyID, r.CustomerID = id, "C"+id[1:]
	r.Age, r.YearsLicensed, r.HomeArea = age, licensed, area
	r.VehicleType, r.VehicleAge, r.Usage = vehicle, vehicleAge, usage
	r.AnnualMileage, r.Coverage, r.Deductible = mileage, coverage, deductible
	return r
}
