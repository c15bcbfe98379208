package glm

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"
)

// simulate draws n rows of p standard-normal features and labels from the
// logistic model with intercept b0 and coefficients beta.
func simulate(seed uint64, n int, b0 float64, beta []float64) (x, y []float64) {
	r := rand.New(rand.NewPCG(seed, 7))
	p := len(beta)
	x, y = make([]float64, n*p), make([]float64, n)
	for i := range n {
		z := b0
		for j := range p {
			v := r.NormFloat64()
			x[i*p+j] = v
			z += beta[j] * v
		}
		if r.Float64() < Sigmoid(z) {
			y[i] = 1
		}
	}
	return x, y
}

func TestGradientAndHessianAreExact(t *testing.T) {
	t.Parallel()
	x, y := simulate(1, 300, -1, []float64{0.5, -0.8, 0.2})
	for _, l2 := range []float64{0, 2.5} {
		pr, err := NewProblem(x, y, 3, l2, 2)
		if err != nil {
			t.Fatal(err)
		}
		beta := []float64{0.3, -0.2, 0.7, 0.1}
		f := func(b []float64) float64 { return pr.Eval(b, nil, nil) }
		grad := make([]float64, 4)
		hess := mat.NewSymDense(4, nil)
		pr.Eval(beta, grad, hess)
		numGrad := fd.Gradient(nil, f, beta, &fd.Settings{Formula: fd.Central})
		for j := range grad {
			if math.Abs(grad[j]-numGrad[j]) > 1e-5*math.Max(1, math.Abs(numGrad[j])) {
				t.Errorf("L2 %v: gradient[%d] = %v, finite differences give %v", l2, j, grad[j], numGrad[j])
			}
		}
		numHess := mat.NewSymDense(4, nil)
		fd.Hessian(numHess, f, beta, &fd.Settings{Formula: fd.Central})
		for j := range 4 {
			for k := range 4 {
				if d := math.Abs(hess.At(j, k) - numHess.At(j, k)); d > 1e-3*math.Max(1, math.Abs(numHess.At(j, k))) {
					t.Errorf("L2 %v: hessian[%d][%d] = %v, finite differences give %v", l2, j, k, hess.At(j, k), numHess.At(j, k))
				}
			}
		}
	}
}

func TestFitRecoversCoefficients(t *testing.T) {
	t.Parallel()
	beta := []float64{0.8, -0.5, 0.0, 0.3}
	x, y := simulate(2, 20000, -1.5, beta)
	fit, err := FitLogistic(x, y, 4, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Standard errors from the inverse Hessian at the optimum; the estimates
	// must lie within four of them of the truth.
	pr, _ := NewProblem(x, y, 4, 0, 2)
	h := mat.NewSymDense(5, nil)
	b := append([]float64{fit.Intercept}, fit.Coef...)
	pr.Eval(b, nil, h)
	var inv mat.Dense
	if err := inv.Inverse(h); err != nil {
		t.Fatal(err)
	}
	truth := append([]float64{-1.5}, beta...)
	for j := range truth {
		se := math.Sqrt(inv.At(j, j))
		if math.Abs(b[j]-truth[j]) > 4*se {
			t.Errorf("coefficient %d = %.4f, truth %.4f, standard error %.4f", j, b[j], truth[j], se)
		}
	}
	if fit.GradNorm > 1e-7 {
		t.Errorf("mean gradient at the optimum %g, want below 1e-7", fit.GradNorm)
	}
}

func TestPenaltyShrinks(t *testing.T) {
	t.Parallel()
	x, y := simulate(3, 2000, -1, []float64{1.2, -0.7})
	free, err := FitLogistic(x, y, 2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ridge, err := FitLogistic(x, y, 2, Options{L2: 500})
	if err != nil {
		t.Fatal(err)
	}
	for j := range free.Coef {
		if math.Abs(ridge.Coef[j]) >= math.Abs(free.Coef[j]) {
			t.Errorf("coefficient %d: penalised %v is not smaller than unpenalised %v", j, ridge.Coef[j], free.Coef[j])
		}
	}
}

func TestFitRejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		x, y []float64
		p    int
	}{
		{"shape", []float64{1, 2, 3}, []float64{0, 1}, 2},
		{"one class", []float64{1, 2}, []float64{1, 1}, 1},
		{"NaN", []float64{1, math.NaN()}, []float64{0, 1}, 1},
		{"+Inf", []float64{math.Inf(1), 1}, []float64{0, 1}, 1},
		{"-Inf", []float64{1, math.Inf(-1)}, []float64{0, 1}, 1},
		{"label 2", []float64{1, 2}, []float64{0, 2}, 1},
		{"no rows", nil, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := FitLogistic(tt.x, tt.y, tt.p, Options{}); !errors.Is(err, ErrBadInput) {
				t.Errorf("FitLogistic = %v, want ErrBadInput", err)
			}
			x32 := make([]float32, len(tt.x))
			for i, v := range tt.x {
				x32[i] = float32(v)
			}
			if _, err := FitLogistic(x32, tt.y, tt.p, Options{}); !errors.Is(err, ErrBadInput) {
				t.Errorf("FitLogistic on float32 = %v, want ErrBadInput", err)
			}
		})
	}
}

func TestInterceptOnlyFitWithAnOffset(t *testing.T) {
	t.Parallel()
	// Rows whose linear predictor is a known offset plus an intercept of
	// -0.7: the intercept-only fit must find -0.7 (within sampling error).
	r := rand.New(rand.NewPCG(9, 9))
	n := 40000
	y, off := make([]float64, n), make([]float64, n)
	for i := range n {
		off[i] = r.NormFloat64()
		if r.Float64() < Sigmoid(off[i]-0.7) {
			y[i] = 1
		}
	}
	fit, err := FitLogistic[float64](nil, y, 0, Options{Offset: off})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(fit.Intercept+0.7) > 0.05 || len(fit.Coef) != 0 {
		t.Fatalf("intercept %v with %d coefficients; want about -0.7 and none", fit.Intercept, len(fit.Coef))
	}
	if _, err := FitLogistic[float64](nil, y, 0, Options{Offset: off[:10]}); !errors.Is(err, ErrBadInput) {
		t.Errorf("an offset of the wrong length gave %v", err)
	}
}

// TestWarmStartAndFloat32ReachTheSameOptimum fits a design large enough
// for the warm start (every k-th row first) and compares it with Newton's
// method from the intercept-only start, and the float32 design with the
// float64 one. Both stop on the same rule, so the warm start may differ
// only by the rounding near the optimum; float32 values move the optimum by
// their rounding (relative 6e-8), far inside the 1e-4 that the peer test
// holds the coefficients to against scikit-learn.
func TestWarmStartAndFloat32ReachTheSameOptimum(t *testing.T) {
	t.Parallel()
	beta := []float64{0.8, -0.5, 0.0, 0.3, 0.1}
	x, y := simulate(4, 4*warmRows+1234, -2, beta)
	warm, err := FitLogistic(x, y, len(beta), Options{L2: 1})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := NewProblem(x, y, len(beta), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	init := make([]float64, pr.Dim())
	init[0] = logit(mean(y))
	cold, err := pr.fit(init, 0)
	if err != nil {
		t.Fatal(err)
	}
	x32 := make([]float32, len(x))
	for i, v := range x {
		x32[i] = float32(v)
	}
	single, err := FitLogistic(x32, y, len(beta), Options{L2: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		got  *Fit
		tol  float64
	}{{"warm start", warm, 1e-9}, {"float32 design", single, 1e-5}} {
		d := math.Abs(tt.got.Intercept - cold.Intercept)
		for j := range beta {
			d = math.Max(d, math.Abs(tt.got.Coef[j]-cold.Coef[j]))
		}
		if d > tt.tol {
			t.Errorf("%s: coefficients differ from the cold float64 fit by %.2g, more than %g", tt.name, d, tt.tol)
		}
	}
	if warm.Iterations >= cold.Iterations {
		t.Errorf("the warm start took %d Newton iterations on all the rows, the cold start %d", warm.Iterations, cold.Iterations)
	}
}
