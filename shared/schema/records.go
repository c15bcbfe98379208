package schema

import (
	"fmt"
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
		for _, v := range c.Values {
			if n, err := strconv.Atoi(v); err == nil && strconv.Itoa(n) == v {
				if rc.codes[i] == nil {
					rc.codes[i] = map[int]bool{}
				}
				rc.codes[i][n] = true
			}
		}
	}
	return rc
})

type recordColumns struct {
	cols  [11]Column
	codes [11]map[int]bool // the integer codes among each column's values
}

// checkCode is cols[i].CheckCode(v), looking the code up in a set.
func (rc *recordColumns) checkCode(i, v int) error {
	if rc.codes[i][v] {
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
