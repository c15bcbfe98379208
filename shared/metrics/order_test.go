package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The radix sort must give exactly the comparison sort's order, ties
// included, both ways: the AUC's ties, the calibration deciles and the
// Lorenz curve all read it.
func TestRadixOrderIsTheComparisonOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		name string
		draw func() float64
	}{
		{"distinct", r.Float64},
		{"many ties", func() float64 { return float64(r.IntN(50)) / 49 }},
		{"signed zeros and extremes", func() float64 {
			return []float64{0, math.Copysign(0, -1), 1, 1e-300, 0.5, -2, math.Inf(1), math.Inf(-1)}[r.IntN(8)]
		}},
		{"one value", func() float64 { return 0.25 }},
	} {
		p := make([]float64, 3*radixMin+17)
		for i := range p {
			p[i] = tc.draw()
		}
		for _, desc := range []bool{false, true} {
			got, want := radixOrder(p, desc), comparisonOrder(p, desc)
			if k := firstDifference(got, want); k >= 0 {
				t.Errorf("%s, descending %v: position %d holds row %d (p=%v), want row %d (p=%v)",
					tc.name, desc, k, got[k], p[got[k]], want[k], p[want[k]])
			}
		}
	}
}

func firstDifference(a, b []int) int {
	for k := range a {
		if a[k] != b[k] {
			return k
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// BenchmarkOrder sorts 1,000,000 predictions, by radix and by comparison.
func BenchmarkOrder(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	p := make([]float64, 1_000_000)
	for i := range p {
		p[i] = r.Float64() * 0.3
	}
	for _, impl := range []struct {
		name  string
		order func([]float64, bool) []int
	}{{"radix", radixOrder}, {"comparison", comparisonOrder}} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				impl.order(p, true)
			}
		})
	}
}
