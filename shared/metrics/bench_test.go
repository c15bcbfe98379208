package metrics

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkEvaluate scores 1,000,000 predictions (AUC, log loss, Brier,
// calibration), as training does for its validation rows.
func BenchmarkEvaluate(b *testing.B) {
	const n = 1_000_000
	r := rand.New(rand.NewPCG(1, 2))
	p, y := make([]float64, n), make([]float64, n)
	for i := range p {
		p[i] = r.Float64() * 0.3
		if r.Float64() < p[i] {
			y[i] = 1
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Evaluate(p, y); err != nil {
			b.Fatal(err)
		}
	}
}
