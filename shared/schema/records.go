package schema

import (
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Customer is one row of the customers table.
type Customer struct {
	CustomerID    string `parquet:"customer_id" json:"customer_id"`
	BirthDate     Date   `parquet:"birth_date,date" json:"birth_date"`
	LicenceDate   Date   `parquet:"licence_date,date" json:"licence_date"`
	HomeArea      int32  `parquet:"home_area" json:"home_area"`
	Sex           string `parquet:"sex,dict" json:"sex"`
	CustomerSince Date   `parquet:"customer_since,date" json:"customer_since"`
}

// Policy is one row of the policies table: one policy year of one vehicle.
type Policy struct {
	PolicyID         string  `parquet:"policy_id" json:"policy_id"`
	CustomerID       string  `parquet:"customer_id" json:"customer_id"`
	StartDate        Date    `parquet:"start_date,date" json:"start_date"`
	EndDate          Date    `parquet:"end_date,date" json:"end_date"`
	VehicleType      string  `parquet:"vehicle_type,dict" json:"vehicle_type"`
	VehicleAge       int32   `parquet:"vehicle_age" json:"vehicle_age"`
	Usage            string  `parquet:"usage,dict" json:"usage"`
	AnnualMileage    float64 `parquet:"annual_mileage" json:"annual_mileage"`
	Coverage         string  `parquet:"coverage,dict" json:"coverage"`
	Deductible       int32   `parquet:"deductible" json:"deductible"`
	Premium          float64 `parquet:"premium" json:"premium"`
	LegacyRiskFactor float64 `parquet:"legacy_risk_factor" json:"legacy_risk_factor"`
}

// Claim is one row of the claims table.
type Claim struct {
	ClaimID   string  `parquet:"claim_id" json:"claim_id"`
	PolicyID  string  `parquet:"policy_id" json:"policy_id"`
	ClaimDate Date    `parquet:"claim_date,date" json:"claim_date"`
	Amount    float64 `parquet:"amount" json:"amount"`
	ClaimType string  `parquet:"claim_type,dict" json:"claim_type"`
}

// AccidentMonth is one row of the accidents table.
type AccidentMonth struct {
	Area          int32   `parquet:"area" json:"area"`
	Month         Date    `parquet:"month,date" json:"month"`
	Crashes       int64   `parquet:"crashes" json:"crashes"`
	InjuryCrashes int64   `parquet:"injury_crashes" json:"injury_crashes"`
	Exposure      float64 `parquet:"exposure" json:"exposure"`
}

// PolicyRecord is what the prediction API receives for one policy, and what
// training derives from a policy and its customer. Its JSON names are the
// columns of Request.
type PolicyRecord struct {
	PolicyID      string  `json:"policy_id" parquet:"policy_id"`
	CustomerID    string  `json:"customer_id" parquet:"customer_id"`
	Age           float64 `json:"age" parquet:"age"`
	YearsLicensed float64 `json:"years_licensed" parquet:"years_licensed"`
	HomeArea      int     `json:"home_area" parquet:"home_area"`
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
		PolicyID:      p.PolicyID,
		CustomerID:    p.CustomerID,
		Age:           round2(YearsBetween(c.BirthDate.Time(), start)),
		YearsLicensed: round2(max(0, YearsBetween(c.LicenceDate.Time(), start))),
		HomeArea:      int(c.HomeArea),
		VehicleType:   p.VehicleType,
		VehicleAge:    int(p.VehicleAge),
		Usage:         p.Usage,
		AnnualMileage: p.AnnualMileage,
		Coverage:      p.Coverage,
		Deductible:    int(p.Deductible),
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
func (c Column) CheckCode(v int) error {
	var buf [20]byte
	code := strconv.AppendInt(buf[:0], int64(v), 10)
	for _, s := range c.Values {
		if s == string(code) {
			return nil
		}
	}
	return c.CheckString(strconv.Itoa(v))
}
