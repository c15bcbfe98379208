package glm

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// evalRowwise is the objective, gradient and Hessian summed row by row,
// the textbook way: Eval must agree with it to rounding. It is also a
// comparison of BenchmarkEvalDesign.
func (pr *Problem[F]) evalRowwise(beta, grad []float64, hess *mat.SymDense) float64 {
	d := pr.Dim()
	f := 0.0
	g := make([]float64, d)
	h := make([]float64, d*d)
	xi := make([]float64, d)
	xi[0] = 1
	for i := range pr.n {
		for j, v := range pr.x[i*pr.p : (i+1)*pr.p] {
			xi[1+j] = float64(v)
		}
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

// BenchmarkEvalDesign compares one pass over 100,000 rows of the accident
// GLM's width: the row-wise sums, Eval on a float64 design, Eval on the
// same design in float32.
func BenchmarkEvalDesign(b *testing.B) {
	const n = 100_000
	x, y := simulate(11, n, -2, benchBeta)
	x32 := make([]float32, len(x))
	for i, v := range x {
		x32[i] = float32(v)
	}
	pr, err := NewProblem(x, y, len(benchBeta), 1, 1)
	if err != nil {
		b.Fatal(err)
	}
	pr32, err := NewProblem(x32, y, len(benchBeta), 1, 1)
	if err != nil {
		b.Fatal(err)
	}
	beta := make([]float64, pr.Dim())
	grad := make([]float64, pr.Dim())
	hess := mat.NewSymDense(pr.Dim(), nil)
	for _, impl := range []struct {
		name string
		eval func([]float64, []float64, *mat.SymDense) float64
	}{{"rowwise", pr.evalRowwise}, {"float64", pr.Eval}, {"float32", pr32.Eval}} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				impl.eval(beta, grad, hess)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
		})
	}
}
