package schema

import "testing"

// BenchmarkRecordValidate checks one valid record: the API and the batch
// scorer do it for every record.
func BenchmarkRecordValidate(b *testing.B) {
	// Field by field, not one composite literal: make bench compiles this
	// file against its baseline commit too, whose PolicyRecord held these
	// fields itself rather than in Driver and Cover.
	var r PolicyRecord
	r.PolicyID, r.CustomerID = "P1", "C1"
	r.Age, r.YearsLicensed, r.HomeArea = 40, 20, 8
	r.VehicleType, r.VehicleAge, r.Usage = "suv", 3, "commute"
	r.AnnualMileage, r.Coverage, r.Deductible = 12000, "standard", 500
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
