package cbpe_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/claimrisk/claimrisk/shared/cbpe"
	"github.com/claimrisk/claimrisk/shared/metrics"
)

func TestIsotonic(t *testing.T) {
	t.Parallel()
	// scikit-learn 1.9: IsotonicRegression(out_of_bounds="clip").fit(x, y)
	// gives [1, 2.5, 2.5, 3.75, 3.75] at x; predict(1.5) = 1.75 (between
	// 1 and 2.5), clipped to 1 below 1 and to 3.75 above 5.
	f, err := cbpe.FitIsotonic([]float64{1, 2, 3, 4, 5}, []float64{1, 3, 2, 4, 3.5})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ x, want float64 }{{1, 1}, {2, 2.5}, {3, 2.5}, {4, 3.75}, {5, 3.75}, {1.5, 1.75}, {0, 1}, {9, 3.75}} {
		if got := f.Predict(c.x); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Predict(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	// Equal x are pooled first: x=1 twice with y 0 and 1 is one point at 0.5.
	g, _ := cbpe.FitIsotonic([]float64{1, 1, 2}, []float64{0, 1, 1})
	if got := g.Predict(1); got != 0.5 {
		t.Errorf("pooled Predict(1) = %v, want 0.5", got)
	}
}

// TestExpectedAUCWithCertainOutcomesIsTheAUC: with each row's chance of a
// claim 0 or 1, the expected ROC is the realised one.
func TestExpectedAUCWithCertainOutcomesIsTheAUC(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	p, y := make([]float64, 3000), make([]float64, 3000)
	for i := range p {
		p[i] = math.Round(r.Float64()*50) / 50 // ties too
		if r.Float64() < p[i] {
			y[i] = 1
		}
	}
	if got, want := cbpe.ExpectedAUC(p, y), metrics.AUC(p, y); math.Abs(got-want) > 1e-12 {
		t.Errorf("ExpectedAUC with 0/1 chances = %.15f, realised AUC %.15f", got, want)
	}
}

// draw gives n rows scored by a calibrated model: the score is the true
// chance of a claim, and the outcome is drawn from it.
func draw(r *rand.Rand, n int, spread float64) (p, y []float64) {
	p, y = make([]float64, n), make([]float64, n)
	for i := range p {
		z := -2.1 + spread*r.NormFloat64()
		p[i] = 1 / (1 + math.Exp(-z))
		if r.Float64() < p[i] {
			y[i] = 1
		}
	}
	return p, y
}

// TestEstimateTracksTheRealisedFigures: on windows of a calibrated model the
// realised AUC falls inside the estimate's band, the realised claim rate
// inside its band, in all but about 1 of 370 windows (3 sampling errors);
// and when the risks in the window become more alike (a covariate shift
// that lowers the AUC), the estimate falls with the realised AUC.
func TestEstimateTracksTheRealisedFigures(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(15, 15))
	rp, ry := draw(r, 5000, 0.8)
	e, err := cbpe.Fit(rp, ry)
	if err != nil {
		t.Fatal(err)
	}
	outside := 0
	const windows = 40
	for range windows {
		p, y := draw(r, 2000, 0.8)
		est, err := e.Estimate(p)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := metrics.Evaluate(p, y)
		if s.AUC < est.AUCLower || s.AUC > est.AUCUpper || s.ObservedRate < est.ClaimRateLower || s.ObservedRate > est.ClaimRateUpper {
			outside++
			t.Logf("AUC %.4f estimated %.4f [%.4f, %.4f]; claim rate %.4f estimated %.4f [%.4f, %.4f]",
				s.AUC, est.AUC, est.AUCLower, est.AUCUpper, s.ObservedRate, est.ClaimRate, est.ClaimRateLower, est.ClaimRateUpper)
		}
	}
	if outside > 1 {
		t.Errorf("the realised figures fell outside the band in %d of %d windows", outside, windows)
	}
	p, y := draw(r, 2000, 0.3)
	est, _ := e.Estimate(p)
	s, _ := metrics.Evaluate(p, y)
	ref := metrics.AUC(rp, ry)
	t.Logf("shifted window: realised AUC %.4f, estimated %.4f [%.4f, %.4f], reference %.4f", s.AUC, est.AUC, est.AUCLower, est.AUCUpper, ref)
	if est.AUCUpper >= ref-0.05 || s.AUC < est.AUCLower || s.AUC > est.AUCUpper {
		t.Errorf("after the shift: estimate %.4f [%.4f, %.4f], realised %.4f, reference %.4f", est.AUC, est.AUCLower, est.AUCUpper, s.AUC, ref)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	if _, err := cbpe.Fit([]float64{0.1, 0.2}, []float64{0, 0}); err == nil {
		t.Error("a reference with one outcome only was accepted")
	}
	if _, err := cbpe.Fit([]float64{0.1, 2}, []float64{0, 1}); err == nil {
		t.Error("a probability of 2 was accepted")
	}
	e, _ := cbpe.Fit([]float64{0.1, 0.2, 0.3}, []float64{0, 1, 1})
	if _, err := e.Estimate([]float64{0.5}); err == nil {
		t.Error("an estimate on one row was accepted")
	}
	if _, err := e.Estimate([]float64{0.5, math.NaN()}); err == nil {
		t.Error("a NaN probability was accepted")
	}
}
