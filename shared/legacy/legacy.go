package legacy

import (
	"math"

	"github.com/claimrisk/claimrisk/shared/schema"
)

// Factor is the legacy risk factor of a policy record, rounded to three
// decimals as the rating system prints it. It knows nothing of the vehicle,
// the cover or where the customer lives.
func Factor(r schema.PolicyRecord) float64 {
	f := 1.0
	switch {
	case r.Age < 25:
		f *= 1.6
	case r.Age >= 70:
		f *= 1.2
	}
	if r.YearsLicensed < 3 {
		f *= 1.3
	}
	switch r.Usage {
	case "pleasure":
		f *= 0.9
	case "business":
		f *= 1.15
	}
	switch {
	case r.AnnualMileage < 7500:
		f *= 0.85
	case r.AnnualMileage >= 15000:
		f *= 1.25
	}
	return math.Round(f*1000) / 1000
}
