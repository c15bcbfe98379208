package glm

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// evalRowwise is the objective, gradient and Hessian summed row by row,
// the textbook way: Eval must agree with it to rounding. It is also the
// comparison of BenchmarkEval.
func (pr *Problem) evalRowwise(beta, grad []float64, hess *mat.SymDense) float64 {
	d := pr.Dim()
	f := 0.0
	g := make([]float64, d)
	h := make([]float64, d*d)
	xi := make([]float64, d)
	xi[0] = 1
	for i := range pr.n {
		copy(xi[1:], pr.x[i*pr.p:(i+1)*pr.p])
		z := 0.0
		if pr.off != nil {
			z = pr.off[i]
		}
		for j, v := range xi {
			z += v * beta[j]
		}
		sp, mu := math.Max(z, 0)+math.Log1p(math.Exp(-math.Abs(z))), Sigmoid(z)
		f += sp - pr.y[i]*z
		for j, v := range xi {
			g[j] += (mu - pr.y[i]) * v
		}
		wgt := mu * (1 - mu)
		for j := range d {
			for k := j; k < d; k++ {
				h[j*d+k] += wgt * xi[j] * xi[k]
			}
		}
	}
	for j := 1; j < d; j++ {
		f += 0.5 * pr.l2 * beta[j] * beta[j]
		g[j] += pr.l2 * beta[j]
		h[j*d+j] += pr.l2
	}
	if grad != nil {
		copy(grad, g)
	}
	if hess != nil {
		for j := range d {
			for k := j; k < d; k++ {
				hess.SetSym(j, k, h[j*d+k])
			}
		}
	}
	return f
}

func TestEvalAgreesWithRowwiseSums(t *testing.T) {
	t.Parallel()
	// 1000 rows: several blocks per worker and a partial last block.
	x, y := simulate(5, 1000, -1, []float64{0.5, -0.8, 0.2, 0.1, -0.3})
	off := make([]float64, len(y))
	for i := range off {
		off[i] = 0.01 * float64(i%7)
	}
	for _, workers := range []int{1, 3} {
		pr, err := NewProblem(x, y, 5, 2.5, workers)
		if err != nil {
			t.Fatal(err)
		}
		if err := pr.SetOffset(off); err != nil {
			t.Fatal(err)
		}
		beta := []float64{0.3, -0.2, 0.7, 0.1, 0.05, -0.4}
		g, gr := make([]float64, 6), make([]float64, 6)
		h, hr := mat.NewSymDense(6, nil), mat.NewSymDense(6, nil)
		f, fr := pr.Eval(beta, g, h), pr.evalRowwise(beta, gr, hr)
		close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }
		if !close(f, fr) {
			t.Errorf("workers %d: objective %v, row-wise %v", workers, f, fr)
		}
		for j := range 6 {
			if !close(g[j], gr[j]) {
				t.Errorf("workers %d: gradient[%d] %v, row-wise %v", workers, j, g[j], gr[j])
			}
			for k := range 6 {
				if !close(h.At(j, k), hr.At(j, k)) {
					t.Errorf("workers %d: hessian[%d][%d] %v, row-wise %v", workers, j, k, h.At(j, k), hr.At(j, k))
				}
			}
		}
	}
}

// The benchmarks use the width of the accident GLM (17 standardised
// features) on simulated rows; make bench compares Eval with the row-wise
// sums, and with Eval before it was blocked, with benchstat.

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
	for _, impl := range []struct {
		name string
		eval func([]float64, []float64, *mat.SymDense) float64
	}{{"rowwise", pr.evalRowwise}, {"Eval", pr.Eval}} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				impl.eval(beta, grad, hess)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
		})
	}
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
