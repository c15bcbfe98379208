package glm

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/claimrisk/claimrisk/shared/logistic"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
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

// Fit is a fitted logistic regression on standardised features; it lives
// in shared/logistic, which serving imports without the fitting.
type Fit = logistic.Fit

// ErrBadInput marks data a model cannot be fitted on.
var ErrBadInput = errors.New("glm: bad input")

// Float is the type of a design's values. float32 halves the memory of a
// large design; every sum is accumulated in float64 either way.
type Float interface{ ~float32 | ~float64 }

// Problem is the penalised logistic objective on a row-major design x
// (n rows, p columns, no intercept column) and 0/1 labels y.
type Problem[F Float] struct {
	x       []F
	y       []float64
	off     []float64 // nil for no offset
	n, p    int
	l2      float64
	workers int
}

// NewProblem checks the data and returns the objective.
func NewProblem[F Float](x []F, y []float64, p int, l2 float64, workers int) (*Problem[F], error) {
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
		// f-f is 0 for every finite f and NaN for NaN and the infinities:
		// one subtraction per value where IsNaN and IsInf took a quarter of
		// a 5M-row fit's time (the check runs before the workers start).
		if f := float64(v); f-f != 0 {
			return nil, fmt.Errorf("%w: row %d column %d is %v", ErrBadInput, i/p, i%p, v)
		}
	}
	if l2 < 0 || math.IsNaN(l2) {
		return nil, fmt.Errorf("%w: L2 penalty %v is negative", ErrBadInput, l2)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return &Problem[F]{x: x, y: y, n: len(y), p: p, l2: l2, workers: workers}, nil
}

// SetOffset adds a fixed term to each row's linear predictor; nil for none.
func (pr *Problem[F]) SetOffset(off []float64) error {
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
func (pr *Problem[F]) Dim() int { return pr.p + 1 }

// Sigmoid is the logistic function.
func Sigmoid(z float64) float64 { return logistic.Sigmoid(z) }

// softplusSigmoid returns softplus(z) = log(1 + e^z), without overflow, and
// Sigmoid(z) from one exponential, e^-|z|.
func softplusSigmoid(z float64) (sp, mu float64) {
	e := math.Exp(-math.Abs(z))
	sp = math.Log1p(e)
	if z > 0 {
		sp = z + sp
	}
	if z >= 0 {
		mu = 1 / (1 + e)
	} else {
		mu = e / (1 + e)
	}
	return sp, mu
}

// block is how many rows Eval handles at a time: enough for long dot
// products, few enough that the transposed block (Dim() by block values)
// stays in the CPU's cache.
const block = 256

// part is one worker's share of the sums.
type part struct {
	f float64
	g []float64
	h []float64 // upper triangle, row-major d by d
}

// scratch is a worker's buffers, reused for every block.
type scratch struct {
	xt []float64 // the block transposed: d rows of up to block values
	z  []float64 // linear predictors
	r  []float64 // residuals mu - y
	sw []float64 // square roots of the weights mu (1 - mu)
}

// Eval returns the objective at beta (intercept first). When grad is not
// nil it receives the gradient; when hess is not nil, the Hessian.
//
// The rows are split between the workers and taken a block at a time: the
// block is transposed so that the gradient is one dot product per column
// and the Hessian one symmetric rank-k update (BLAS Dsyrk) of the block
// scaled by the square roots of the weights. The objective is summed row
// by row, in order.
func (pr *Problem[F]) Eval(beta, grad []float64, hess *mat.SymDense) float64 {
	d := pr.Dim()
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
			s := scratch{xt: make([]float64, d*block), z: make([]float64, block), r: make([]float64, block), sw: make([]float64, block)}
			for b := lo; b < hi; b += block {
				pr.addBlock(&pt, &s, beta, b, min(b+block, hi))
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

// addBlock adds rows [lo, hi) to the worker's sums.
func (pr *Problem[F]) addBlock(pt *part, s *scratch, beta []float64, lo, hi int) {
	m, p, d := hi-lo, pr.p, pr.p+1
	// xt[j*m+i] is column j of row lo+i, the intercept's 1 being column 0.
	xt := s.xt[:d*m]
	for i := range m {
		xt[i] = 1
	}
	x := pr.x[lo*p : hi*p]
	for j := range p {
		col := xt[(j+1)*m : (j+2)*m]
		for i := range col {
			col[i] = float64(x[i*p+j])
		}
	}
	z := s.z[:m]
	if pr.off != nil {
		copy(z, pr.off[lo:hi])
	} else {
		clear(z)
	}
	for j := range d {
		floats.AddScaled(z, beta[j], xt[j*m:(j+1)*m])
	}
	r, sw, y := s.r[:m], s.sw[:m], pr.y[lo:hi]
	for i, zi := range z {
		sp, mu := softplusSigmoid(zi)
		pt.f += sp - y[i]*zi
		r[i] = mu - y[i]
		sw[i] = math.Sqrt(mu * (1 - mu))
	}
	if pt.g != nil {
		for j := range d {
			pt.g[j] += floats.Dot(xt[j*m:(j+1)*m], r)
		}
	}
	if pt.h != nil {
		for j := range d {
			floats.Mul(xt[j*m:(j+1)*m], sw)
		}
		a := blas64.General{Rows: d, Cols: m, Stride: m, Data: xt}
		blas64.Syrk(blas.NoTrans, 1, a, 1, blas64.Symmetric{Uplo: blas.Upper, N: d, Stride: d, Data: pt.h})
	}
}

// FitLogistic fits the penalised logistic regression by Newton's method.
//
// A large design is first fitted on every k-th row (about warmRows of
// them) and Newton's method on all the rows starts from there: near the
// optimum each step squares the error, so it then needs three or four
// passes over the data instead of six or seven. The stopping rule is the
// same either way, on all the rows.
func FitLogistic[F Float](x []F, y []float64, p int, opt Options) (*Fit, error) {
	pr, err := NewProblem(x, y, p, opt.L2, opt.Workers)
	if err != nil {
		return nil, err
	}
	if err := pr.SetOffset(opt.Offset); err != nil {
		return nil, err
	}
	init := make([]float64, pr.Dim())
	init[0] = logit(mean(y))
	if k := pr.n / warmRows; k >= 4 {
		sub := pr.every(k)
		if warm, err := sub.fit(init, opt.MaxIterations); err == nil {
			init[0] = warm.Intercept
			copy(init[1:], warm.Coef)
		}
	}
	return pr.fit(init, opt.MaxIterations)
}

// warmRows is about how many rows the first fit of a large design takes.
const warmRows = 50_000

// every is the problem on rows 0, k, 2k, ...
func (pr *Problem[F]) every(k int) *Problem[F] {
	m := (pr.n + k - 1) / k
	sub := &Problem[F]{x: make([]F, 0, m*pr.p), y: make([]float64, 0, m), n: m, p: pr.p, l2: pr.l2, workers: pr.workers}
	if pr.off != nil {
		sub.off = make([]float64, 0, m)
	}
	for i := 0; i < pr.n; i += k {
		sub.x = append(sub.x, pr.x[i*pr.p:(i+1)*pr.p]...)
		sub.y = append(sub.y, pr.y[i])
		if pr.off != nil {
			sub.off = append(sub.off, pr.off[i])
		}
	}
	// The penalty weighs as much against the subsample's likelihood as
	// against all the rows'.
	sub.l2 = pr.l2 * float64(m) / float64(pr.n)
	return sub
}

// fit minimises the objective by Newton's method from init.
func (pr *Problem[F]) fit(init []float64, maxIter int) (*Fit, error) {
	d := pr.Dim()
	n := float64(pr.n)
	// gonum asks for the value, gradient and Hessian at one point in separate
	// calls; one pass over the data computes all three, kept for the next call.
	var (
		lastX []float64
		fSum  float64 // the objective, a sum over the rows
		f     float64 // and its mean, which gonum minimises
		g     = make([]float64, d)
		h     = mat.NewSymDense(d, nil)
	)
	eval := func(b []float64) {
		if lastX != nil && slices.Equal(lastX, b) {
			return
		}
		fSum = pr.Eval(b, g, h)
		f = fSum / n
		for j := range g {
			g[j] /= n
		}
		h.ScaleSym(1/n, h)
		lastX = append(lastX[:0], b...)
	}
	problem := optimize.Problem{
		Func: func(b []float64) float64 { eval(b); return f },
		Grad: func(grad, b []float64) { eval(b); copy(grad, g) },
		Hess: func(hess *mat.SymDense, b []float64) { eval(b); hess.CopySym(h) },
	}
	if maxIter <= 0 {
		maxIter = 100
	}
	settings := &optimize.Settings{
		GradientThreshold: 1e-10,
		MajorIterations:   maxIter,
		// Stop once the next Newton step would lower the mean objective by
		// less than its rounding error can show: the line search would then
		// fail, after dozens of passes over the data. The step is still
		// taken, below, without a line search.
		Converger: converger(func(loc *optimize.Location) optimize.Status {
			eval(loc.X)
			if dec, ok := newtonStep(nil, g, h); ok && dec <= decrementTolerance*math.Max(1, math.Abs(f)) {
				return optimize.FunctionConvergence
			}
			return optimize.NotTerminated
		}),
	}
	res, err := optimize.Minimize(problem, init, settings, &optimize.Newton{})
	if err != nil && res == nil {
		return nil, fmt.Errorf("glm: fit: %w", err)
	}
	// The last Newton step, near the optimum, where it needs no line search.
	// It is kept only if it lowers the gradient.
	beta := res.X
	eval(beta)
	obj, gn := fSum, infNorm(g)
	step := make([]float64, d)
	if _, ok := newtonStep(step, g, h); ok {
		floats.Add(step, beta)
		grad := make([]float64, d)
		if o := pr.Eval(step, grad, nil); infNorm(grad)/n < gn {
			beta, obj, gn = step, o, infNorm(grad)/n
		}
	}
	// Newton's line search reports failure once the objective stops
	// changing in floating point; the gradient says whether that is the optimum.
	if gn > 1e-7 {
		return nil, fmt.Errorf("glm: fit did not converge: %v after %d iterations, mean gradient %.3g", res.Status, res.Stats.MajorIterations, gn)
	}
	return &Fit{
		Intercept:  beta[0],
		Coef:       slices.Clone(beta[1:]),
		Iterations: res.Stats.MajorIterations,
		Objective:  obj,
		GradNorm:   gn,
	}, nil
}

// decrementTolerance is the relative change of the mean objective below
// which a Newton step is no longer line-searched: about the rounding error
// of a sum over millions of rows.
const decrementTolerance = 1e-12

// newtonStep solves h step = -g and returns half the squared Newton
// decrement, g' h^-1 g / 2: how much the step lowers a quadratic objective.
// A nil step is not stored. ok is false when h is not positive definite.
func newtonStep(step, g []float64, h *mat.SymDense) (dec float64, ok bool) {
	var chol mat.Cholesky
	if !chol.Factorize(h) {
		return 0, false
	}
	var s mat.VecDense
	gv := mat.NewVecDense(len(g), g)
	if err := chol.SolveVecTo(&s, gv); err != nil {
		return 0, false
	}
	for j := range step {
		step[j] = -s.AtVec(j)
	}
	return mat.Dot(gv, &s) / 2, true
}

func infNorm(v []float64) float64 { return floats.Norm(v, math.Inf(1)) }

// converger adapts a function to optimize.Converger.
type converger func(*optimize.Location) optimize.Status

func (converger) Init(int) {}

func (c converger) Converged(loc *optimize.Location) optimize.Status { return c(loc) }

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func logit(p float64) float64 { return math.Log(p / (1 - p)) }
