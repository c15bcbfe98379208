package glm

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// Options tune a fit. The zero value is an unpenalised fit on all cores.
type Options struct {
	// L2 is the ridge penalty on the coefficients (not the intercept).
	L2 float64
	// MaxIterations bounds Newton steps (default 100).
	MaxIterations int
	// Workers is the number of goroutines that evaluate the objective
	// (default GOMAXPROCS).
	Workers int
	// Offset, when set, is added to each row's linear predictor with a
	// fixed coefficient of 1 (an intercept-only fit with the offset of
	// another model's coefficients recalibrates that model).
	Offset []float64
}

// Fit is a fitted logistic regression on standardised features.
type Fit struct {
	Intercept  float64   `json:"intercept"`
	Coef       []float64 `json:"coef"`
	Iterations int       `json:"iterations"`
	// Objective is the penalised negative log-likelihood at the optimum.
	Objective float64 `json:"objective"`
	// GradNorm is the infinity norm of the mean gradient at the optimum.
	GradNorm float64 `json:"grad_norm"`
}

// ErrBadInput marks data a model cannot be fitted on.
var ErrBadInput = errors.New("glm: bad input")

// Problem is the penalised logistic objective on a row-major design x
// (n rows, p columns, no intercept column) and 0/1 labels y.
type Problem struct {
	x       []float64
	y       []float64
	off     []float64 // nil for no offset
	n, p    int
	l2      float64
	workers int
}

// NewProblem checks the data and returns the objective.
func NewProblem(x []float64, y []float64, p int, l2 float64, workers int) (*Problem, error) {
	if p < 0 || len(x) != len(y)*p {
		return nil, fmt.Errorf("%w: design has %d values, want %d rows by %d columns", ErrBadInput, len(x), len(y), p)
	}
	if len(y) == 0 {
		return nil, fmt.Errorf("%w: no rows", ErrBadInput)
	}
	ones := 0
	for i, v := range y {
		if v != 0 && v != 1 {
			return nil, fmt.Errorf("%w: label %d is %v, want 0 or 1", ErrBadInput, i, v)
		}
		ones += int(v)
	}
	if ones == 0 || ones == len(y) {
		return nil, fmt.Errorf("%w: all %d labels are %v; need both outcomes", ErrBadInput, len(y), y[0])
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: row %d column %d is %v", ErrBadInput, i/p, i%p, v)
		}
	}
	if l2 < 0 || math.IsNaN(l2) {
		return nil, fmt.Errorf("%w: L2 penalty %v is negative", ErrBadInput, l2)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return &Problem{x: x, y: y, n: len(y), p: p, l2: l2, workers: workers}, nil
}

// SetOffset adds a fixed term to each row's linear predictor; nil for none.
func (pr *Problem) SetOffset(off []float64) error {
	if off != nil && len(off) != pr.n {
		return fmt.Errorf("%w: %d offsets for %d rows", ErrBadInput, len(off), pr.n)
	}
	for i, v := range off {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: offset %d is %v", ErrBadInput, i, v)
		}
	}
	pr.off = off
	return nil
}

// Dim is the number of parameters: the intercept and p coefficients.
func (pr *Problem) Dim() int { return pr.p + 1 }

// softplus is log(1 + e^z) without overflow.
func softplus(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}

// Sigmoid is the logistic function.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Eval returns the objective at beta (intercept first). When grad is not
// nil it receives the gradient; when hess is not nil, the Hessian.
func (pr *Problem) Eval(beta, grad []float64, hess *mat.SymDense) float64 {
	d := pr.Dim()
	type part struct {
		f float64
		g []float64
		h []float64 // upper triangle, row-major d by d
	}
	parts := make([]part, pr.workers)
	chunk := (pr.n + pr.workers - 1) / pr.workers
	var wg sync.WaitGroup
	for w := range pr.workers {
		lo, hi := w*chunk, min((w+1)*chunk, pr.n)
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			pt := part{}
			if grad != nil {
				pt.g = make([]float64, d)
			}
			if hess != nil {
				pt.h = make([]float64, d*d)
			}
			xi := make([]float64, d)
			xi[0] = 1
			for i := lo; i < hi; i++ {
				copy(xi[1:], pr.x[i*pr.p:(i+1)*pr.p])
				z := 0.0
				if pr.off != nil {
					z = pr.off[i]
				}
				for j, v := range xi {
					z += v * beta[j]
				}
				pt.f += softplus(z) - pr.y[i]*z
				if pt.g == nil && pt.h == nil {
					continue
				}
				mu := Sigmoid(z)
				if pt.g != nil {
					r := mu - pr.y[i]
					for j, v := range xi {
						pt.g[j] += r * v
					}
				}
				if pt.h != nil {
					wgt := mu * (1 - mu)
					for j := range d {
						wj := wgt * xi[j]
						row := pt.h[j*d:]
						for k := j; k < d; k++ {
							row[k] += wj * xi[k]
						}
					}
				}
			}
			parts[w] = pt
		}()
	}
	wg.Wait()
	f := 0.0
	for _, pt := range parts {
		f += pt.f
	}
	for j := 1; j < d; j++ {
		f += 0.5 * pr.l2 * beta[j] * beta[j]
	}
	if grad != nil {
		clear(grad)
		for _, pt := range parts {
			for j, v := range pt.g {
				grad[j] += v
			}
		}
		for j := 1; j < d; j++ {
			grad[j] += pr.l2 * beta[j]
		}
	}
	if hess != nil {
		for j := range d {
			for k := j; k < d; k++ {
				s := 0.0
				for _, pt := range parts {
					if pt.h != nil {
						s += pt.h[j*d+k]
					}
				}
				if j == k && j > 0 {
					s += pr.l2
				}
				hess.SetSym(j, k, s)
			}
		}
	}
	return f
}

// FitLogistic fits the penalised logistic regression by Newton's method.
func FitLogistic(x, y []float64, p int, opt Options) (*Fit, error) {
	pr, err := NewProblem(x, y, p, opt.L2, opt.Workers)
	if err != nil {
		return nil, err
	}
	if err := pr.SetOffset(opt.Offset); err != nil {
		return nil, err
	}
	d := pr.Dim()
	n := float64(pr.n)
	// gonum asks for the value, gradient and Hessian at one point in separate
	// calls; one pass over the data computes all three, kept for the next call.
	var (
		lastX []float64
		f     float64
		g     = make([]float64, d)
		h     = mat.NewSymDense(d, nil)
		evals int
	)
	eval := func(b []float64) {
		if lastX != nil && slices.Equal(lastX, b) {
			return
		}
		f = pr.Eval(b, g, h) / n
		for j := range g {
			g[j] /= n
		}
		h.ScaleSym(1/n, h)
		lastX = append(lastX[:0], b...)
		evals++
	}
	problem := optimize.Problem{
		Func: func(b []float64) float64 { eval(b); return f },
		Grad: func(grad, b []float64) { eval(b); copy(grad, g) },
		Hess: func(hess *mat.SymDense, b []float64) { eval(b); hess.CopySym(h) },
	}
	maxIter := opt.MaxIterations
	if maxIter <= 0 {
		maxIter = 100
	}
	settings := &optimize.Settings{
		GradientThreshold: 1e-10,
		MajorIterations:   maxIter,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-15, Relative: 1e-15, Iterations: 3},
	}
	init := make([]float64, d)
	init[0] = logit(mean(y))
	res, err := optimize.Minimize(problem, init, settings, &optimize.Newton{})
	if err != nil && res == nil {
		return nil, fmt.Errorf("glm: fit: %w", err)
	}
	grad := make([]float64, d)
	obj := pr.Eval(res.X, grad, nil)
	gn := 0.0
	for _, v := range grad {
		gn = math.Max(gn, math.Abs(v)/n)
	}
	// Newton's line search reports failure once the objective stops
	// changing in floating point; the gradient says whether that is the optimum.
	if gn > 1e-7 {
		return nil, fmt.Errorf("glm: fit did not converge: %v after %d iterations, mean gradient %.3g", res.Status, res.Stats.MajorIterations, gn)
	}
	return &Fit{
		Intercept:  res.X[0],
		Coef:       slices.Clone(res.X[1:]),
		Iterations: res.Stats.MajorIterations,
		Objective:  obj,
		GradNorm:   gn,
	}, nil
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func logit(p float64) float64 { return math.Log(p / (1 - p)) }

// Predict is the probability for one standardised feature row.
func (f *Fit) Predict(row []float64) float64 {
	z := f.Intercept
	for j, v := range row {
		z += f.Coef[j] * v
	}
	return Sigmoid(z)
}
