package schema

import "testing"

// BenchmarkRecordValidate checks one valid record: the API and the batch
// scorer do it for every record.
func BenchmarkRecordValidate(b *testing.B) {
	r := PolicyRecord{
		PolicyID:   "P1",
		CustomerID: "C1",
		Driver: Driver{
			Age:           40,
			YearsLicensed: 20,
			HomeArea:      8,
		},
		Cover: Cover{
			VehicleType:   "suv",
			VehicleAge:    3,
			Usage:         "commute",
			AnnualMileage: 12000,
			Coverage:      "standard",
			Deductible:    500,
		},
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
