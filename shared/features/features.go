package features

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/claimrisk/claimrisk/shared/legacy"
	"github.com/claimrisk/claimrisk/shared/parallel"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// Example is one labelled policy: its record, when it starts, whether it
// had a claim in its year, and the accident figures of its area.
type Example struct {
	Record   schema.PolicyRecord
	Start    time.Time
	Claim    bool
	Accident Accident
	// Sex is the customer's protected attribute ("" when unknown): kept for
	// fairness figures, never a model feature.
	Sex string
}

// ErrNoAccidentData marks a policy whose area and start month the accident
// table does not cover.
var ErrNoAccidentData = errors.New("features: no accident data")

// Examples joins a dataset's tables into one labelled example per policy,
// in policy order. The tables must be valid. (They are passed one by one:
// serving imports this package, and a dependency on shared/dataset would
// bring the Parquet reader into the predict function.)
func Examples(customerTable []schema.Customer, policies []schema.Policy, claims []schema.Claim, accidents []schema.AccidentMonth) ([]Example, error) {
	// Each customer's row number, not a copy of the row: the map is then a
	// few bytes per customer, and one lookup serves the record and the sex.
	customers := make(map[string]int, len(customerTable))
	for i, c := range customerTable {
		customers[c.CustomerID] = i
	}
	claimed := make(map[string]bool, len(claims))
	for _, c := range claims {
		claimed[c.PolicyID] = true
	}
	idx := NewAccidentIndex(accidents)
	out := make([]Example, len(policies))
	// The policies are joined on all cores; the maps and the index are only
	// read. The error is the first policy's, by position, as in one loop.
	_, err := parallel.ForErr(len(policies), parallel.Rows, func(lo, hi int) (int, error) {
		for i := lo; i < hi; i++ {
			p := &policies[i]
			var c schema.Customer
			if k, ok := customers[p.CustomerID]; ok {
				c = customerTable[k]
			}
			rec := schema.RecordFor(c, *p)
			start := p.StartDate.Time()
			acc, ok := idx.At(rec.HomeArea, start)
			if !ok {
				return i, fmt.Errorf("%w: %s: area %d before %s (the accident table ends %s)", ErrNoAccidentData,
					p.PolicyID, rec.HomeArea, start.Format("2006-01"), idx.LastMonth().Format("2006-01"))
			}
			out[i] = Example{Record: rec, Start: start, Claim: claimed[p.PolicyID], Accident: acc, Sex: c.Sex}
		}
		return 0, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// The feature sets, one per model kind.
const (
	SetLegacy   = "legacy"   // the legacy factor alone, calibrated
	SetBase     = "base"     // driver, vehicle and cover, no area
	SetAccident = "accident" // base plus the area's accident figures
)

// Sets lists the feature sets in the order they are trained.
var Sets = []string{SetLegacy, SetBase, SetAccident}

// raw feature definitions: name, the request field it derives from, and
// its value for a record with its accident figures.
type raw struct {
	name  string
	field string
	f     func(r schema.PolicyRecord, a Accident) float64
}

func indicator(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

var baseFeatures = []raw{
	{"age", "age", func(r schema.PolicyRecord, _ Accident) float64 { return r.Age }},
	{"age_under_25", "age", func(r schema.PolicyRecord, _ Accident) float64 { return indicator(r.Age < 25) }},
	{"age_over_70", "age", func(r schema.PolicyRecord, _ Accident) float64 { return math.Max(0, r.Age-70) / 10 }},
	{"novice", "years_licensed", func(r schema.PolicyRecord, _ Accident) float64 { return indicator(r.YearsLicensed < 3) }},
	{"log_mileage", "annual_mileage", func(r schema.PolicyRecord, _ Accident) float64 { return math.Log(math.Max(r.AnnualMileage, 100)) }},
	{"vehicle_age", "vehicle_age", func(r schema.PolicyRecord, _ Accident) float64 { return float64(r.VehicleAge) }},
	{"vehicle_suv", "vehicle_type", func(r schema.PolicyRecord, _ Accident) float64 { return indicator(r.VehicleType == "suv") }},
	{"vehicle_pickup", "vehicle_type", func(r schema.PolicyRecord, _ Accident) float64 { return indicator(r.VehicleType == "pickup") }},
	{"vehicle_van", "vehicle_type", func(r schema.PolicyRecord, _ Accident) float64 { return indicator(r.VehicleType == "van") }},
	{"vehicle_sports", "vehicle_type", func(r schema.PolicyRecord, _ Accident) float64 { return indicator(r.VehicleType == "sports") }},
	{"usage_commute", "usage", func(r schema.PolicyRecord, _ Accident) float64 { return indicator(r.Usage == "commute") }},
	{"usage_business", "usage", func(r schema.PolicyRecord, _ Accident) float64 { return indicator(r.Usage == "business") }},
	{"coverage_standard", "coverage", func(r schema.PolicyRecord, _ Accident) float64 { return indicator(r.Coverage == "standard") }},
	{"coverage_comprehensive", "coverage", func(r schema.PolicyRecord, _ Accident) float64 { return indicator(r.Coverage == "comprehensive") }},
	{"log_deductible", "deductible", func(r schema.PolicyRecord, _ Accident) float64 { return math.Log(float64(r.Deductible)) }},
}

var accidentFeatures = []raw{
	{"log_crash_rate", "home_area", func(_ schema.PolicyRecord, a Accident) float64 { return math.Log(math.Max(a.CrashRate, 0.1)) }},
	{"injury_share", "home_area", func(_ schema.PolicyRecord, a Accident) float64 { return a.InjuryShare }},
}

var legacyFeatures = []raw{
	{"log_legacy_factor", "legacy_risk_factor", func(r schema.PolicyRecord, _ Accident) float64 { return math.Log(legacy.Factor(r)) }},
}

func definitions(set string) ([]raw, error) {
	switch set {
	case SetLegacy:
		return legacyFeatures, nil
	case SetBase:
		return baseFeatures, nil
	case SetAccident:
		return append(append([]raw{}, baseFeatures...), accidentFeatures...), nil
	}
	return nil, fmt.Errorf("features: unknown feature set %q", set)
}
