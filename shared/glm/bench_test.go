package glm

import (
	"testing"

	"gonum.org/v1/gonum/mat"
)

// The benchmarks use the width of the accident GLM (17 standardised
// features) on simulated rows, with a float64 design, so that they compile
// against the code before the design could be float32 too: make bench runs
// them there as well and compares with benchstat. rowwise_test.go holds
// the benchmarks of this code alone.

var benchBeta = []float64{0.6, -0.4, 0.25, 0.1, -0.3, 0.2, 0.05, -0.15, 0.3, 0.1, -0.2, 0.15, 0.05, -0.05, 0.1, 0.2, -0.1}

func BenchmarkEval(b *testing.B) {
	const n = 100_000
	x, y := simulate(11, n, -2, benchBeta)
	pr, err := NewProblem(x, y, len(benchBeta), 1, 1)
	if err != nil {
		b.Fatal(err)
	}
	beta := make([]float64, pr.Dim())
	grad := make([]float64, pr.Dim())
	hess := mat.NewSymDense(pr.Dim(), nil)
	b.ReportAllocs()
	for b.Loop() {
		pr.Eval(beta, grad, hess)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
}

func BenchmarkFitLogistic(b *testing.B) {
	const n = 100_000
	x, y := simulate(12, n, -2, benchBeta)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FitLogistic(x, y, len(benchBeta), Options{L2: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
