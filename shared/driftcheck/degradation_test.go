package driftcheck

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/claimrisk/claimrisk/shared/predlog"
)

// TestAFallMustExceedTheNoise: a window's AUC or claim rate counts as
// degraded only past the allowed fall and past three sampling errors, so
// that 400 labelled predictions of a sound model do not raise the alarm
// while 3,000 of a degraded one do.
func TestAFallMustExceedTheNoise(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	th := Thresholds{MinLabels: 200, MaxAUCDrop: 0.05, MaxCalibrationGap: 0.02}
	rows := func(n int, spread, shiftClaims float64, seed uint64) []predlog.ReferenceRow {
		r := rand.New(rand.NewPCG(seed, 1))
		out := make([]predlog.ReferenceRow, n)
		for i := range out {
			p := 1 / (1 + math.Exp(-(-2.1 + 0.8*r.NormFloat64())))
			out[i].Probability = p
			// The outcome follows a risk that the score tracks by spread
			// (1: exactly), with the claim rate raised by shiftClaims.
			z := spread*math.Log(p/(1-p)) + (1-spread)*(-2.1+0.8*r.NormFloat64()) + shiftClaims
			truth := 1 / (1 + math.Exp(-z))
			if r.Float64() < truth {
				out[i].Claim = 1
			}
		}
		return out
	}
	for _, c := range []struct {
		name   string
		n      int
		spread float64
		shift  float64
		auc    bool
		cal    *bool // nil: either
	}{
		{"400 sound predictions", 400, 1, 0, false, &no},
		{"3,000 sound predictions", 3000, 1, 0, false, &no},
		{"3,000 predictions that rank badly", 3000, 0.3, 0, true, nil},
		{"3,000 predictions with claims up by half", 3000, 1, 0.5, false, &yes},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := qualityOf(rows(c.n, c.spread, c.shift, 7), 0.70)
			why := degradation(q, th)
			aucFell := q.AUC != nil && *q.AUC+3**q.AUCSamplingError < q.ReferenceAUC && *q.AUC < q.ReferenceAUC-th.MaxAUCDrop
			t.Logf("AUC %.4f (se %.4f), gap %.4f (se %.4f): %v", *q.AUC, *q.AUCSamplingError, q.CalibrationGap, q.RateSamplingError, why)
			calFell := q.Degraded && !aucFell || len(why) == 2
			if aucFell != c.auc || (c.cal != nil && calFell != *c.cal) {
				t.Errorf("AUC fell %v, calibration fell %v; want %v and %v: %v", aucFell, calFell, c.auc, c.cal, why)
			}
		})
	}
}

// TestTheLabsSmallWindowIsNoFall: 400 labelled predictions with an AUC of
// 0.632 against a validation AUC of 0.689 (what lab 5's first window of the
// lab-check test measured) are within sampling noise; the same AUC on
// 3,000 is not.
func TestTheLabsSmallWindowIsNoFall(t *testing.T) {
	t.Parallel()
	th := Thresholds{MinLabels: 200, MaxAUCDrop: 0.05, MaxCalibrationGap: 0.02}
	for _, c := range []struct {
		n, claims int
		want      bool
	}{{400, 44, false}, {3000, 330, true}} {
		p, y := make([]float64, c.n), make([]float64, c.n)
		for i := range p {
			p[i] = 0.11
			if i < c.claims {
				y[i] = 1
			}
		}
		auc := 0.632
		q := &Quality{LabelledRows: c.n, AUC: &auc, ReferenceAUC: 0.689, ObservedRate: 0.11, MeanPredicted: 0.11}
		q.samplingErrors(p, y)
		why := degradation(q, th)
		// Hanley and McNeil's standard error for 0.632 with 44 claims in 400 is 0.047 (the formula by hand).
		t.Logf("%d rows: se %.4f: %v", c.n, *q.AUCSamplingError, why)
		if q.Degraded != c.want {
			t.Errorf("%d rows: degraded %v, want %v", c.n, q.Degraded, c.want)
		}
	}
}
