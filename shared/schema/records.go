package schema

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
)

// PolicyRecord is what the prediction API receives for one policy, and what
// training derives from a policy and its customer: the driver at the start
// of the policy year and the cover. Its JSON names are the columns of
// Request; the embedded structs add no level to the JSON or the parquet
// columns.
type PolicyRecord struct {
	PolicyID   string `json:"policy_id" parquet:"policy_id"`
	CustomerID string `json:"customer_id" parquet:"customer_id"`
	Driver
	Cover
}

// Driver is the driver of a PolicyRecord, derived from the customer.
type Driver struct {
	Age           float64 `json:"age" parquet:"age"`
	YearsLicensed float64 `json:"years_licensed" parquet:"years_licensed"`
	HomeArea      int     `json:"home_area" parquet:"home_area"`
}

// Cover is the vehicle a PolicyRecord insures and the terms of its cover,
// taken from the policy.
type Cover struct {
	VehicleType   string  `json:"vehicle_type" parquet:"vehicle_type,dict"`
	VehicleAge    int     `json:"vehicle_age" parquet:"vehicle_age"`
	Usage         string  `json:"usage" parquet:"usage,dict"`
	AnnualMileage float64 `json:"annual_mileage" parquet:"annual_mileage"`
	Coverage      string  `json:"coverage" parquet:"coverage,dict"`
	Deductible    int     `json:"deductible" parquet:"deductible"`
}

// YearsBetween is the number of years from a to b, as a decimal.
func YearsBetween(a, b time.Time) float64 {
	return b.Sub(a).Hours() / (24 * 365.2425)
}

// RecordFor derives the policy record of a policy whose customer is c.
func RecordFor(c Customer, p Policy) PolicyRecord {
	start := p.StartDate.Time()
	return PolicyRecord{
		PolicyID:   p.PolicyID,
		CustomerID: p.CustomerID,
		Driver: Driver{
			Age:           round2(YearsBetween(c.BirthDate.Time(), start)),
			YearsLicensed: round2(max(0, YearsBetween(c.LicenceDate.Time(), start))),
			HomeArea:      int(c.HomeArea),
		},
		Cover: Cover{
			VehicleType:   p.VehicleType,
			VehicleAge:    int(p.VehicleAge),
			Usage:         p.Usage,
			AnnualMileage: p.AnnualMileage,
			Coverage:      p.Coverage,
			Deductible:    int(p.Deductible),
		},
	}
}

func round2(v float64) float64 {
	return float64(int64(v*100+0.5)) / 100
}

// Validate checks every field of r against Request and returns the first
// problem, naming the field.
func (r PolicyRecord) Validate() error {
	rc := requestColumns()
	if rc.accepts(&r) {
		return nil
	}
	return rc.problem(&r)
}

// accepts is whether problem finds nothing, in comparisons alone: Validate
// runs for every record the API answers and every record the batch scorer
// reads, and nearly all of them are valid.
func (rc *recordColumns) accepts(r *PolicyRecord) bool {
	return rc.hasString(0, r.PolicyID) && rc.hasString(1, r.CustomerID) &&
		rc.within(2, r.Age) && rc.within(3, r.YearsLicensed) && rc.hasCode(4, r.HomeArea) &&
		rc.hasString(5, r.VehicleType) && rc.within(6, float64(r.VehicleAge)) && rc.hasString(7, r.Usage) &&
		rc.within(8, r.AnnualMileage) && rc.hasString(9, r.Coverage) && rc.hasCode(10, r.Deductible) &&
		r.YearsLicensed <= r.Age-14
}

// problem is the first problem of r, field by field.
func (rc *recordColumns) problem(r *PolicyRecord) error {
	c := &rc.cols
	for _, err := range [...]error{
		c[0].CheckString(r.PolicyID),
		c[1].CheckString(r.CustomerID),
		c[2].CheckNumber(r.Age),
		c[3].CheckNumber(r.YearsLicensed),
		rc.checkCode(4, r.HomeArea),
		c[5].CheckString(r.VehicleType),
		c[6].CheckNumber(float64(r.VehicleAge)),
		c[7].CheckString(r.Usage),
		c[8].CheckNumber(r.AnnualMileage),
		c[9].CheckString(r.Coverage),
		rc.checkCode(10, r.Deductible),
	} {
		if err != nil {
			return err
		}
	}
	if r.YearsLicensed > r.Age-14 {
		return fmt.Errorf("years_licensed: %v years is more than age %v minus 14", r.YearsLicensed, r.Age)
	}
	return nil
}

// requestColumns are Request's columns in PolicyRecord's field order,
// looked up by name once, with the allowed codes of the coded columns as
// sets: Validate runs for every record the API answers and every record
// the batch scorer reads.
var requestColumns = sync.OnceValue(func() *recordColumns {
	rc := &recordColumns{}
	for i, name := range [...]string{"policy_id", "customer_id", "age", "years_licensed", "home_area", "vehicle_type",
		"vehicle_age", "usage", "annual_mileage", "coverage", "deductible"} {
		c, ok := Request.Column(name)
		if !ok {
			panic("schema: Request has no column " + name)
		}
		rc.cols[i] = c
		rc.lo[i], rc.hi[i] = -math.MaxFloat64, math.MaxFloat64
		if c.Min != nil {
			rc.lo[i] = *c.Min
		}
		if c.Max != nil {
			rc.hi[i] = *c.Max
		}
		for _, v := range c.Values {
			if n, err := strconv.Atoi(v); err == nil && strconv.Itoa(n) == v && n >= 0 && n < maxCode {
				if len(rc.codes[i]) <= n {
					rc.codes[i] = append(rc.codes[i], make([]bool, n+1-len(rc.codes[i]))...)
				}
				rc.codes[i][n] = true
			}
		}
	}
	return rc
})

type recordColumns struct {
	cols [11]Column
	// lo and hi are each column's bounds, finite: a number inside them is
	// neither NaN nor infinite.
	lo, hi [11]float64
	// codes[i][n] is true when n is a code among column i's values: the
	// codes are small (community areas, deductibles in dollars), and
	// indexing a slice instead of a map took BenchmarkRecordValidate from
	// 41 to 36 ns.
	codes [11][]bool
}

// maxCode bounds the codes looked up by index; a larger one is checked by
// Column.CheckCode.
const maxCode = 1 << 16

// within is whether cols[i].CheckNumber(v) finds nothing.
func (rc *recordColumns) within(i int, v float64) bool { return v >= rc.lo[i] && v <= rc.hi[i] }

// hasString is whether cols[i].CheckString(s) finds nothing.
func (rc *recordColumns) hasString(i int, s string) bool {
	vals := rc.cols[i].Values
	return s != "" && (len(vals) == 0 || slices.Contains(vals, s))
}

// hasCode is whether checkCode(i, v) finds nothing.
func (rc *recordColumns) hasCode(i, v int) bool {
	codes := rc.codes[i]
	return v >= 0 && v < len(codes) && codes[v]
}

// checkCode is cols[i].CheckCode(v), looking the code up by index.
func (rc *recordColumns) checkCode(i, v int) error {
	if rc.hasCode(i, v) {
		return nil
	}
	return rc.cols[i].CheckCode(v)
}

// CheckCode reports whether the integer code v is one of the column's values.
func (c *Column) CheckCode(v int) error {
	var buf [20]byte
	code := strconv.AppendInt(buf[:0], int64(v), 10)
	for _, s := range c.Values {
		if s == string(code) {
			return nil
		}
	}
	return c.CheckString(strconv.Itoa(v))
}
