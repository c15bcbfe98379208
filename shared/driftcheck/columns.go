package driftcheck

import (
	"math"
	"strconv"
	"time"

	"github.com/claimrisk/claimrisk/shared/drift"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// ColumnSpec is a column the check tests, with its declared type. The
// Evidently job (monitoring/contract.py) declares the same types: neither
// side infers them.
type ColumnSpec struct {
	Name        string
	Categorical bool
	Number      func(*predlog.Row) float64
	Category    func(*predlog.Row) string
	// Code is an integer-coded categorical column's value as a number,
	// which a frame looks up without formatting it; nil for the others.
	Code func(*predlog.Row) int
	// Copy sets the column's value in dst to src's (for the weights).
	Copy func(dst *schema.PolicyRecord, src schema.PolicyRecord)
}

// FeatureColumns are the request fields tested for drift.
var FeatureColumns = []ColumnSpec{
	{Name: "age", Number: func(r *predlog.Row) float64 { return r.Age },
		Copy: func(d *schema.PolicyRecord, s schema.PolicyRecord) { d.Age = s.Age }},
	{Name: "years_licensed", Number: func(r *predlog.Row) float64 { return r.YearsLicensed },
		Copy: func(d *schema.PolicyRecord, s schema.PolicyRecord) { d.YearsLicensed = s.YearsLicensed }},
	coded("home_area", func(r *predlog.Row) int { return r.HomeArea },
		func(d *schema.PolicyRecord, s schema.PolicyRecord) { d.HomeArea = s.HomeArea }),
	{Name: "vehicle_type", Categorical: true, Category: func(r *predlog.Row) string { return r.VehicleType },
		Copy: func(d *schema.PolicyRecord, s schema.PolicyRecord) { d.VehicleType = s.VehicleType }},
	{Name: "vehicle_age", Number: func(r *predlog.Row) float64 { return float64(r.VehicleAge) },
		Copy: func(d *schema.PolicyRecord, s schema.PolicyRecord) { d.VehicleAge = s.VehicleAge }},
	{Name: "usage", Categorical: true, Category: func(r *predlog.Row) string { return r.Usage },
		Copy: func(d *schema.PolicyRecord, s schema.PolicyRecord) { d.Usage = s.Usage }},
	{Name: "annual_mileage", Number: func(r *predlog.Row) float64 { return r.AnnualMileage },
		Copy: func(d *schema.PolicyRecord, s schema.PolicyRecord) { d.AnnualMileage = s.AnnualMileage }},
	{Name: "coverage", Categorical: true, Category: func(r *predlog.Row) string { return r.Coverage },
		Copy: func(d *schema.PolicyRecord, s schema.PolicyRecord) { d.Coverage = s.Coverage }},
	coded("deductible", func(r *predlog.Row) int { return r.Deductible },
		func(d *schema.PolicyRecord, s schema.PolicyRecord) { d.Deductible = s.Deductible }),
}

// coded is an integer-coded categorical column: its category is the code
// written out.
func coded(name string, code func(*predlog.Row) int, copy func(*schema.PolicyRecord, schema.PolicyRecord)) ColumnSpec {
	return ColumnSpec{Name: name, Categorical: true, Code: code, Copy: copy,
		Category: func(r *predlog.Row) string { return strconv.Itoa(code(r)) }}
}

// PredictionColumn is the model's output.
var PredictionColumn = ColumnSpec{Name: "probability", Number: func(r *predlog.Row) float64 { return r.Probability }}

func (c ColumnSpec) kindName() string {
	if c.Categorical {
		return "categorical"
	}
	return "numeric"
}

// test runs the column's drift test; i is its index in FeatureColumns.
func (c ColumnSpec) test(i int, ref, cur *frame) (drift.Result, error) {
	if c.Categorical {
		return drift.CategoricalCounts(ref.counts(i), cur.counts(i))
	}
	return drift.NumericColumn(ref.numbers[i], cur.numbers[i])
}

// quality measures missing values and values the reference never had; i
// is the column's index in FeatureColumns.
func (c ColumnSpec) quality(i int, ref, cur *frame) DataQuality {
	q := DataQuality{Column: c.Name}
	if cur.n == 0 {
		return q
	}
	missing, outside := 0, 0
	if c.Categorical {
		seen := map[string]bool{}
		for _, v := range ref.values[i] {
			seen[v] = true
		}
		// By code: each of the window's values is looked up once.
		known := make([]int8, len(cur.values[i])) // 0 missing, 1 outside, 2 seen
		for code, v := range cur.values[i] {
			switch {
			case v == "":
			case !seen[v]:
				known[code] = 1
			default:
				known[code] = 2
			}
		}
		for _, code := range cur.codes[i] {
			switch known[code] {
			case 0:
				missing++
			case 1:
				outside++
			}
		}
	} else {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range ref.numbers[i] {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		for _, v := range cur.numbers[i] {
			switch {
			case math.IsNaN(v):
				missing++
			case v < lo || v > hi:
				outside++
			}
		}
	}
	q.Missing = float64(missing) / float64(cur.n)
	q.OutOfRange = float64(outside) / float64(cur.n)
	return q
}

func dateOf(t time.Time) schema.Date { return schema.DateOf(t) }
