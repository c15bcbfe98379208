package features

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/schema"
)

func month(y int, m time.Month) schema.Date {
	return schema.DateOf(time.Date(y, m, 1, 0, 0, 0, 0, time.UTC))
}

// accidents gives district 1 ten crashes a month (two with injuries) on
// 50,000 vehicles throughout 2023, and 30 a month in 2024.
func accidents() []schema.AccidentMonth {
	var rows []schema.AccidentMonth
	for m := time.January; m <= time.December; m++ {
		rows = append(rows, schema.AccidentMonth{Area: 1, Month: month(2023, m), Crashes: 10, InjuryCrashes: 2, Exposure: 50})
		rows = append(rows, schema.AccidentMonth{Area: 1, Month: month(2024, m), Crashes: 30, InjuryCrashes: 3, Exposure: 50})
	}
	return rows
}

func TestAccidentIndexTrailingTwelveMonths(t *testing.T) {
	t.Parallel()
	x := NewAccidentIndex(accidents())
	tests := []struct {
		name      string
		at        time.Time
		rate, inj float64
		ok        bool
	}{
		// 120 crashes on 50 thousand vehicles a year: 2.4 per 1,000.
		{"start of 2024 sees 2023", time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC), 120.0 * 12 / 600, 24.0 / 120, true},
		// July 2024: Jul-Dec 2023 (60 crashes, 12 injuries) and Jan-Jun 2024 (180, 18).
		{"mid 2024 mixes both years", time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC), 240.0 * 12 / 600, 30.0 / 240, true},
		{"too early", time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC), 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := x.At(1, tt.at)
			if ok != tt.ok || math.Abs(a.CrashRate-tt.rate) > 1e-12 || math.Abs(a.InjuryShare-tt.inj) > 1e-12 {
				t.Errorf("At = %+v, %v; want rate %v, injury share %v, %v", a, ok, tt.rate, tt.inj, tt.ok)
			}
		})
	}
	latest := x.Latest()[1]
	if math.Abs(latest.CrashRate-7.2) > 1e-12 { // 360 crashes in 2024 on 50 thousand vehicles
		t.Errorf("Latest crash rate = %v, want 7.2", latest.CrashRate)
	}
}

func tinyDataset() *dataset.Dataset {
	birth := schema.DateOf(time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC))
	lic := schema.DateOf(time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC))
	start := schema.DateOf(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	return &dataset.Dataset{
		Customers: []schema.Customer{{CustomerID: "C1", BirthDate: birth, LicenceDate: lic, HomeArea: 1, Sex: "F", CustomerSince: start}},
		Policies: []schema.Policy{
			{PolicyID: "P1", CustomerID: "C1", StartDate: start, EndDate: start + 366, VehicleType: "suv", VehicleAge: 2, Usage: "commute", AnnualMileage: 10000, Coverage: "standard", Deductible: 500},
			{PolicyID: "P2", CustomerID: "C1", StartDate: start, EndDate: start + 366, VehicleType: "sedan", VehicleAge: 2, Usage: "commute", AnnualMileage: 10000, Coverage: "standard", Deductible: 500},
		},
		Claims:    []schema.Claim{{ClaimID: "K1", PolicyID: "P2", ClaimDate: start + 10, Amount: 100, ClaimType: "glass"}},
		Accidents: accidents(),
	}
}

func TestExamplesJoinsLabelsAndAccidents(t *testing.T) {
	t.Parallel()
	exs, err := examplesOf(tinyDataset())
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != 2 || exs[0].Claim || !exs[1].Claim {
		t.Fatalf("labels = %v, %v; want no claim for P1, a claim for P2", exs[0].Claim, exs[1].Claim)
	}
	if exs[0].Record.Age != 34.16 || exs[0].Accident.CrashRate <= 0 {
		t.Errorf("example = %+v", exs[0])
	}
}

func TestExamplesWithoutAccidentData(t *testing.T) {
	t.Parallel()
	d := tinyDataset()
	d.Accidents = d.Accidents[20:] // drops most of 2023
	if _, err := Examples(d.Customers, d.Policies, d.Claims, d.Accidents); !errors.Is(err, ErrNoAccidentData) {
		t.Fatalf("Examples = %v, want ErrNoAccidentData", err)
	}
}

func TestSpecStandardisesAndRoundTrips(t *testing.T) {
	t.Parallel()
	exs, _ := examplesOf(tinyDataset())
	// Areas must hold every district for serving; fill the others.
	spec, d := accidentDesign(t, exs, func(area int, a Accident, ok bool) Accident {
		if ok {
			return a
		}
		return Accident{CrashRate: 1, InjuryShare: 0.1}
	})
	x := d.Matrix(exs)
	// Column vehicle_suv is 1 then 0: centre 0.5, scale 0.5, so +1 and -1.
	col := indexOf(spec.Names, "vehicle_suv")
	if x[col] != 1 || x[d.Width()+col] != -1 {
		t.Errorf("vehicle_suv standardised to %v and %v, want 1 and -1", x[col], x[d.Width()+col])
	}
	// A constant column (age here) standardises to 0 with scale 1.
	if c := indexOf(spec.Names, "age"); x[c] != 0 || spec.Scale[c] != 1 {
		t.Errorf("constant age column gives %v with scale %v", x[c], spec.Scale[c])
	}
	spec.Names[0] = "renamed"
	if _, err := spec.Design(); err == nil {
		t.Error("Design accepted a spec whose names do not match this version's features")
	}
}

// accidentDesign fits the accident set's spec on exs, gives each district
// the figures figure returns (from the spec's own, if it has them, and
// whether it does), and prepares its design.
func accidentDesign(t *testing.T, exs []Example, figure func(area int, a Accident, ok bool) Accident) (Spec, *Design) {
	t.Helper()
	spec, err := NewSpec(SetAccident, exs, NewAccidentIndex(accidents()))
	if err != nil {
		t.Fatal(err)
	}
	for _, area := range schema.Areas {
		a, ok := spec.Areas[strconv.Itoa(area)]
		spec.Areas[strconv.Itoa(area)] = figure(area, a, ok)
	}
	d, err := spec.Design()
	if err != nil {
		t.Fatal(err)
	}
	return spec, d
}

func indexOf(names []string, n string) int {
	for i, v := range names {
		if v == n {
			return i
		}
	}
	return -1
}

func examplesOf(d *dataset.Dataset) ([]Example, error) {
	return Examples(d.Customers, d.Policies, d.Claims, d.Accidents)
}

// TestExamplesOfManyPoliciesKeepOrderAndTheFirstError joins enough
// policies to run on several goroutines: the examples stay in the
// policies' order, and of two policies without accident data the error
// names the first, as a single loop would.
func TestExamplesOfManyPoliciesKeepOrderAndTheFirstError(t *testing.T) {
	t.Parallel()
	d := tinyDataset()
	elsewhere := d.Customers[0]
	elsewhere.CustomerID, elsewhere.HomeArea = "C2", 99 // no accident data
	d.Customers = append(d.Customers, elsewhere)
	template := d.Policies[0]
	d.Policies = nil
	for i := range 20_000 {
		p := template
		p.PolicyID = fmt.Sprintf("P%05d", i)
		d.Policies = append(d.Policies, p)
	}
	exs, err := Examples(d.Customers, d.Policies, d.Claims, d.Accidents)
	if err != nil {
		t.Fatal(err)
	}
	for i, ex := range exs {
		if ex.Record.PolicyID != d.Policies[i].PolicyID {
			t.Fatalf("example %d is policy %s, want %s", i, ex.Record.PolicyID, d.Policies[i].PolicyID)
		}
	}
	d.Policies[15_000].CustomerID = "C2"
	d.Policies[6_000].CustomerID = "C2"
	_, err = Examples(d.Customers, d.Policies, d.Claims, d.Accidents)
	if !errors.Is(err, ErrNoAccidentData) || !strings.Contains(err.Error(), "P06000:") {
		t.Fatalf("Examples = %v, want ErrNoAccidentData naming P06000", err)
	}
}

// TestAccidentForOutsideTheDistricts: a record's area outside the districts
// (a gap in their numbers, a negative or a large one) gets no accident
// figures, and a district gets its own.
func TestAccidentForOutsideTheDistricts(t *testing.T) {
	t.Parallel()
	exs, _ := examplesOf(tinyDataset())
	_, d := accidentDesign(t, exs, func(area int, _ Accident, _ bool) Accident {
		return Accident{CrashRate: float64(area), InjuryShare: 0.1}
	})
	at := func(area int) Accident {
		return d.AccidentFor(schema.PolicyRecord{Driver: schema.Driver{HomeArea: area}})
	}
	for _, area := range []int{-1, 0, 13, 21, 23, 26, 1000, math.MinInt, math.MaxInt} {
		if got := at(area); got != (Accident{}) {
			t.Errorf("area %d: %+v, want none", area, got)
		}
	}
	for _, area := range schema.Areas {
		if got := at(area); got.CrashRate != float64(area) {
			t.Errorf("district %d: %+v, want its own figures", area, got)
		}
	}
	base, _ := NewSpec(SetBase, exs, nil)
	bd, err := base.Design()
	if err != nil {
		t.Fatal(err)
	}
	if got := bd.AccidentFor(schema.PolicyRecord{Driver: schema.Driver{HomeArea: 1}}); got != (Accident{}) {
		t.Errorf("the base set joins %+v", got)
	}
}
