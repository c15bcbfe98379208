package legacy

import (
	"testing"

	"github.com/claimrisk/claimrisk/shared/schema"
)

func TestFactor(t *testing.T) {
	t.Parallel()
	// Worked by hand from the tariff: age band x experience x use x mileage band.
	tests := []struct {
		name string
		r    schema.PolicyRecord
		want float64
	}{
		{"middle-aged commuter, mid mileage", schema.PolicyRecord{Driver: schema.Driver{Age: 45, YearsLicensed: 25}, Cover: schema.Cover{Usage: "commute", AnnualMileage: 12000}}, 1.0},
		{"young novice, business, high mileage", schema.PolicyRecord{Driver: schema.Driver{Age: 20, YearsLicensed: 1}, Cover: schema.Cover{Usage: "business", AnnualMileage: 20000}}, 2.99}, // 1.6*1.3*1.15*1.25 = 2.99
		{"senior, pleasure, low mileage", schema.PolicyRecord{Driver: schema.Driver{Age: 75, YearsLicensed: 55}, Cover: schema.Cover{Usage: "pleasure", AnnualMileage: 5000}}, 0.918},       // 1.2*0.9*0.85
		{"band edges: 25 years, 3 years, 7500 and 15000 miles", schema.PolicyRecord{Driver: schema.Driver{Age: 25, YearsLicensed: 3}, Cover: schema.Cover{Usage: "commute", AnnualMileage: 7500}}, 1.0},
		{"mileage exactly 15000", schema.PolicyRecord{Driver: schema.Driver{Age: 30, YearsLicensed: 10}, Cover: schema.Cover{Usage: "commute", AnnualMileage: 15000}}, 1.25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Factor(tt.r); got != tt.want {
				t.Errorf("Factor = %v, want %v", got, tt.want)
			}
		})
	}
}
