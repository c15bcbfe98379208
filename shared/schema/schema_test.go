package schema

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

func validRecord() PolicyRecord {
	return PolicyRecord{
		PolicyID:   "P1",
		CustomerID: "C1",
		Driver: Driver{
			Age:           40,
			YearsLicensed: 20,
			HomeArea:      18,
		},
		Cover: Cover{
			VehicleType:   "sedan",
			VehicleAge:    5,
			Usage:         "commute",
			AnnualMileage: 12000,
			Coverage:      "standard",
			Deductible:    500,
		},
	}
}

func TestRecordValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*PolicyRecord)
		want   string // substring of the error; "" for valid
	}{
		{"valid", func(*PolicyRecord) {}, ""},
		{"negative age", func(r *PolicyRecord) { r.Age = -3 }, "age: -3 is below the minimum 16 years"},
		{"NaN mileage", func(r *PolicyRecord) { r.AnnualMileage = math.NaN() }, "annual_mileage: NaN"},
		{"infinite mileage", func(r *PolicyRecord) { r.AnnualMileage = math.Inf(1) }, "annual_mileage: infinity"},
		{"huge mileage", func(r *PolicyRecord) { r.AnnualMileage = 1e9 }, "annual_mileage: 1e+09 is above the maximum 100000 miles per year"},
		{"unknown usage", func(r *PolicyRecord) { r.Usage = "racing" }, `usage: "racing" is not one of pleasure, commute, business`},
		{"unknown district", func(r *PolicyRecord) { r.HomeArea = 13 }, `home_area: "13" is not one of`},
		{"odd deductible", func(r *PolicyRecord) { r.Deductible = 750 }, `deductible: "750" is not one of 250, 500, 1000, 2000`},
		{"negative deductible", func(r *PolicyRecord) { r.Deductible = -250 }, `deductible: "-250" is not one of`},
		{"huge district", func(r *PolicyRecord) { r.HomeArea = 1 << 40 }, `home_area: "1099511627776" is not one of`},
		{"empty policy id", func(r *PolicyRecord) { r.PolicyID = "" }, "policy_id: must not be empty"},
		{"licensed before 14", func(r *PolicyRecord) { r.YearsLicensed = 30 }, "years_licensed: 30 years is more than age 40 minus 14"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRecord()
			tt.change(&r)
			err := r.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestDate(t *testing.T) {
	t.Parallel()
	d := DateOf(time.Date(2024, 2, 29, 23, 59, 0, 0, time.UTC))
	if got, want := int32(d), int32(19782); got != want { // date -d 2024-02-29 +%s / 86400
		t.Errorf("DateOf(2024-02-29) = %d days, want %d", got, want)
	}
	data, err := json.Marshal(d)
	if err != nil || string(data) != `"2024-02-29"` {
		t.Fatalf("Marshal = %s, %v; want \"2024-02-29\"", data, err)
	}
	var back Date
	if err := json.Unmarshal(data, &back); err != nil || back != d {
		t.Fatalf("Unmarshal = %v, %v; want %v", back, err, d)
	}
	if err := json.Unmarshal([]byte(`"29/02/2024"`), &back); err == nil {
		t.Error("Unmarshal of 29/02/2024 succeeded, want an error")
	}
}

func TestRecordFor(t *testing.T) {
	t.Parallel()
	c := Customer{CustomerID: "C1", BirthDate: DateOf(time.Date(1980, 7, 1, 0, 0, 0, 0, time.UTC)),
		LicenceDate: DateOf(time.Date(1998, 7, 1, 0, 0, 0, 0, time.UTC)), HomeArea: 18}
	p := Policy{PolicyID: "P1", CustomerID: "C1", StartDate: DateOf(time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)),
		VehicleType: "suv", VehicleAge: 3, Usage: "business", AnnualMileage: 9000, Coverage: "standard", Deductible: 1000}
	r := RecordFor(c, p)
	if r.Age != 44 || r.YearsLicensed != 26 || r.HomeArea != 18 || r.Deductible != 1000 {
		t.Errorf("RecordFor = %+v; want age 44, 26 years licensed, area 18, deductible 1000", r)
	}
}

func TestTablesDeclareEveryRecordField(t *testing.T) {
	t.Parallel()
	// The JSON names of PolicyRecord must be exactly Request's columns.
	data, _ := json.Marshal(validRecord())
	var fields map[string]any
	_ = json.Unmarshal(data, &fields)
	for _, c := range Request.Columns {
		if _, ok := fields[c.Name]; !ok {
			t.Errorf("Request column %s has no PolicyRecord field", c.Name)
		}
		delete(fields, c.Name)
	}
	for f := range fields {
		t.Errorf("PolicyRecord field %s is not a Request column", f)
	}
}

// TestRecordColumnsAreFlat holds PolicyRecord's Parquet columns to Request's,
// in order and one level deep: its embedded Driver and Cover must not turn
// into groups, or the payload logs written before them would not read.
func TestRecordColumnsAreFlat(t *testing.T) {
	t.Parallel()
	var got []string
	for _, f := range parquet.SchemaOf(PolicyRecord{}).Fields() {
		if !f.Leaf() {
			t.Errorf("column %s is a group", f.Name())
		}
		got = append(got, f.Name())
	}
	if want := Request.Names(); !slices.Equal(got, want) {
		t.Errorf("PolicyRecord's Parquet columns = %v\nwant Request's %v", got, want)
	}
}

// TestValidateFastPathAgreesWithTheChecks: Validate answers a valid record
// from comparisons alone and asks the field checks only otherwise, so the
// comparisons must accept exactly the records the checks find nothing in,
// at the bounds and past them.
func TestValidateFastPathAgreesWithTheChecks(t *testing.T) {
	t.Parallel()
	rc := requestColumns()
	numbers := []float64{math.NaN(), math.Inf(-1), math.Inf(1), -math.MaxFloat64, math.MaxFloat64, -1, math.Copysign(0, -1), 0, 0.5, 14, 15.999, 16, 26, 40, 94.999, 95, 95.001, 110, 110.001, 39.5, 40.5, 41, 99999.99, 100000, 100000.01}
	ints := []int{-1 << 62, -500, -1, 0, 1, 13, 18, 40, 41, 77, 78, 250, 499, 500, 750, 1000, 2000, 2001, maxCode, 1 << 40}
	strs := []string{"", "sedan", "Sedan", "sedan ", "suv", "van", "sports", "commute", "business", "pleasure", "standard", "liability", "comprehensive", "x"}
	agree := func(r PolicyRecord) {
		t.Helper()
		if got, want := rc.accepts(&r), rc.problem(&r) == nil; got != want {
			t.Fatalf("accepts = %v, the checks say valid = %v (problem %v) for %+v", got, want, rc.problem(&r), r)
		}
	}
	// Every value of the lists in every field, the rest of the record valid.
	eachField(numbers, agree,
		func(r *PolicyRecord, v float64) { r.Age = v },
		func(r *PolicyRecord, v float64) { r.YearsLicensed = v },
		func(r *PolicyRecord, v float64) { r.AnnualMileage = v })
	eachField(ints, agree,
		func(r *PolicyRecord, v int) { r.HomeArea = v },
		func(r *PolicyRecord, v int) { r.VehicleAge = v },
		func(r *PolicyRecord, v int) { r.Deductible = v })
	eachField(strs, agree,
		func(r *PolicyRecord, v string) { r.PolicyID = v },
		func(r *PolicyRecord, v string) { r.CustomerID = v },
		func(r *PolicyRecord, v string) { r.VehicleType = v },
		func(r *PolicyRecord, v string) { r.Usage = v },
		func(r *PolicyRecord, v string) { r.Coverage = v })
	// Age against years licensed, both ways round the 14-year gap.
	for _, age := range numbers {
		for _, years := range numbers {
			r := validRecord()
			r.Age, r.YearsLicensed = age, years
			agree(r)
		}
	}
}

// eachField calls check with a valid record that has one field set to one
// value, for every value and every setter.
func eachField[V any](vals []V, check func(PolicyRecord), sets ...func(*PolicyRecord, V)) {
	for _, v := range vals {
		for _, set := range sets {
			r := validRecord()
			set(&r, v)
			check(r)
		}
	}
}
