package predictapi

import (
	"strings"
	"testing"
)

// BenchmarkDecodePredict decodes and validates the body of a single-record
// request (the serving benchmark's request) and of a batch of 100.
func BenchmarkDecodePredict(b *testing.B) {
	for _, n := range []int{1, 100} {
		body := []byte(`{"records":[` + strings.TrimSuffix(strings.Repeat(valid+",", n), ",") + `]}`)
		b.Run(map[int]string{1: "records=1", 100: "records=100"}[n], func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if recs, err := DecodePredict(body, Limits{}); err != nil || len(recs) != n {
					b.Fatal(recs, err)
				}
			}
		})
	}
}
