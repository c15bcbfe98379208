package parquetio

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/claimrisk/claimrisk/shared/schema"
)

// benchRecords are n policy records with varied values.
func benchRecords(n int) []schema.PolicyRecord {
	types, usages, covers := []string{"sedan", "suv", "pickup", "van", "sports"}, []string{"pleasure", "commute", "business"}, []string{"liability", "standard", "comprehensive"}
	recs := make([]schema.PolicyRecord, n)
	for i := range recs {
		// Field by field, not one composite literal: make bench compiles this
		// file against its baseline commit too, whose PolicyRecord held these
		// fields itself rather than in Driver and Cover.
		r := &recs[i]
		r.PolicyID, r.CustomerID = fmt.Sprintf("P%08d", i), fmt.Sprintf("C%07d", i/2)
		r.Age, r.YearsLicensed, r.HomeArea = 18+float64(i%6000)/100, float64(i%4000)/100, 1+i%25
		r.VehicleType, r.VehicleAge, r.Usage = types[i%5], i%20, usages[i%3]
		r.AnnualMileage, r.Coverage, r.Deductible = float64(1000+i%50000), covers[i%3], []int{250, 500, 1000, 2000}[i%4]
	}
	return recs
}

// BenchmarkDecode reads 100,000 policy records, the batch scorer's and the
// drift check's input, per iteration.
func BenchmarkDecode(b *testing.B) {
	const n = 100_000
	data, err := Encode(benchRecords(n))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		rows, err := Decode[schema.PolicyRecord](data)
		if err != nil || len(rows) != n {
			b.Fatal(len(rows), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
}

// BenchmarkEncode writes 100,000 policy records per iteration.
func BenchmarkEncode(b *testing.B) {
	const n = 100_000
	recs := benchRecords(n)
	b.ReportAllocs()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		w := NewWriter[schema.PolicyRecord](&buf)
		if err := w.Write(recs); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
}
