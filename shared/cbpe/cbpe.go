package cbpe

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/claimrisk/claimrisk/shared/metrics"
)

// Band is the width of the confidence band in sampling errors, as NannyML's
// SAMPLING_ERROR_RANGE.
const Band = 3

// ErrReference marks reference rows CBPE cannot learn from.
var ErrReference = errors.New("cbpe: unusable reference")

// Estimator holds what CBPE learnt from the labelled reference.
type Estimator struct {
	calibration *Isotonic
	// aucStd and positives are the AUC sampling error's components: the
	// standard deviation of the positives' placement values (the share of
	// negatives each positive outranks) and the positives' share.
	aucStd, positives float64
}

// Fit learns the calibration map and the AUC's sampling-error components
// from reference probabilities p and outcomes y (0 or 1).
func Fit(p, y []float64) (*Estimator, error) {
	if len(p) != len(y) || len(p) < 2 {
		return nil, fmt.Errorf("%w: %d probabilities and %d outcomes", ErrReference, len(p), len(y))
	}
	pos := 0.0
	for i := range y {
		if y[i] != 0 && y[i] != 1 {
			return nil, fmt.Errorf("%w: outcome %v of row %d is not 0 or 1", ErrReference, y[i], i)
		}
		if math.IsNaN(p[i]) || p[i] < 0 || p[i] > 1 {
			return nil, fmt.Errorf("%w: probability %v of row %d", ErrReference, p[i], i)
		}
		pos += y[i]
	}
	if pos == 0 || pos == float64(len(y)) {
		return nil, fmt.Errorf("%w: every outcome is %v; calibration needs both", ErrReference, y[0])
	}
	cal, err := FitIsotonic(p, y)
	if err != nil {
		return nil, err
	}
	std, frac := aucComponents(p, y)
	return &Estimator{calibration: cal, aucStd: std, positives: frac}, nil
}

// aucComponents are NannyML's auroc_sampling_error_components: with the
// rows ranked by probability (the rarer class taken as positive), each
// positive's placement is the share of negatives ranked below it; the AUC is
// their mean, and its sampling error on n rows is their standard deviation
// over sqrt(n times the positives' share).
func aucComponents(p, y []float64) (std, fraction float64) {
	n := len(p)
	pp, yy := append([]float64(nil), p...), append([]float64(nil), y...)
	mean := 0.0
	for _, v := range yy {
		mean += v / float64(n)
	}
	if mean > 0.5 {
		for i := range yy {
			yy[i], pp[i] = 1-yy[i], 1-pp[i]
		}
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return pp[idx[a]] < pp[idx[b]] })
	var placements []float64
	negBelow, negatives := 0.0, 0.0
	for _, i := range idx {
		if yy[i] == 0 {
			negatives++
		}
	}
	for _, i := range idx {
		if yy[i] == 1 {
			placements = append(placements, negBelow)
		} else {
			negBelow++
		}
	}
	m := 0.0
	for i := range placements {
		placements[i] /= negatives
		m += placements[i]
	}
	m /= float64(len(placements))
	v := 0.0
	for _, x := range placements {
		v += (x - m) * (x - m)
	}
	return math.Sqrt(v / float64(len(placements))), float64(len(placements)) / float64(n)
}

// Estimate is CBPE's view of one window of predictions.
type Estimate struct {
	Rows int `json:"rows"`
	// AUC is the estimated ROC AUC, with its sampling error and the band
	// of Band sampling errors either side (clipped to [0, 1]).
	AUC              float64 `json:"roc_auc"`
	AUCSamplingError float64 `json:"roc_auc_sampling_error"`
	AUCLower         float64 `json:"roc_auc_lower"`
	AUCUpper         float64 `json:"roc_auc_upper"`
	// ClaimRate is the expected observed claim rate (the mean calibrated
	// probability), with the band of its sampling variance: the realised
	// rate of n independent policies varies by sqrt(sum c(1-c))/n.
	ClaimRate      float64 `json:"expected_claim_rate"`
	ClaimRateLower float64 `json:"expected_claim_rate_lower"`
	ClaimRateUpper float64 `json:"expected_claim_rate_upper"`
	// MeanPredicted is the model's own mean probability; CalibrationGap the
	// expected observed rate minus it, the gap the quality check measures
	// once outcomes arrive.
	MeanPredicted  float64 `json:"mean_predicted"`
	CalibrationGap float64 `json:"expected_calibration_gap"`
	// Calibration is the expected claim rate per decile of the predictions.
	Calibration []metrics.Bin `json:"expected_calibration"`
}

// Estimate estimates the performance of the model on predictions p. It
// needs at least two rows.
func (e *Estimator) Estimate(p []float64) (Estimate, error) {
	n := len(p)
	if n < 2 {
		return Estimate{}, fmt.Errorf("cbpe: an estimate needs at least 2 predictions, got %d", n)
	}
	c := make([]float64, n)
	est := Estimate{Rows: n}
	variance := 0.0
	for i, v := range p {
		if math.IsNaN(v) || v < 0 || v > 1 {
			return Estimate{}, fmt.Errorf("cbpe: probability %v of row %d", v, i)
		}
		c[i] = e.calibration.Predict(v)
		est.ClaimRate += c[i]
		est.MeanPredicted += v
		variance += c[i] * (1 - c[i])
	}
	est.ClaimRate /= float64(n)
	est.MeanPredicted /= float64(n)
	est.CalibrationGap = est.ClaimRate - est.MeanPredicted
	se := math.Sqrt(variance) / float64(n)
	est.ClaimRateLower, est.ClaimRateUpper = math.Max(0, est.ClaimRate-Band*se), math.Min(1, est.ClaimRate+Band*se)
	// Each of the two sorts its own copy of the rows by p: on a window of a
	// million predictions they are most of the work, so they run side by
	// side.
	calibrated := make(chan []metrics.Bin, 1)
	go func() { calibrated <- metrics.Calibration(p, c, 10) }()
	est.AUC = ExpectedAUC(p, c)
	est.AUCSamplingError = e.aucStd / math.Sqrt(float64(n)*e.positives)
	est.AUCLower = math.Max(0, est.AUC-Band*est.AUCSamplingError)
	est.AUCUpper = math.Min(1, est.AUC+Band*est.AUCSamplingError)
	est.Calibration = <-calibrated
	return est, nil
}

// ExpectedAUC is the ROC AUC expected when each row is positive with
// probability c, ranked by the model's score p: at each cut-off down the
// ranking the expected true positives are the sum of c above it, the
// expected false positives the sum of 1-c. Rows with equal scores form one
// step of the curve. It is NaN when every c is 0 or every c is 1.
func ExpectedAUC(p, c []float64) float64 {
	// By probability, highest first; ties in the order given, so that the
	// sums below add in the same order every time.
	type scored struct {
		p, c float64
		i    int
	}
	rows := make([]scored, len(p))
	for i := range rows {
		rows[i] = scored{p[i], c[i], i}
	}
	slices.SortFunc(rows, func(a, b scored) int {
		if a.p != b.p {
			if a.p > b.p {
				return -1
			}
			return 1
		}
		return a.i - b.i
	})
	totalPos, totalNeg := 0.0, 0.0
	for _, v := range c {
		totalPos += v
		totalNeg += 1 - v
	}
	if totalPos <= 0 || totalNeg <= 0 {
		return math.NaN()
	}
	area, tp, fp := 0.0, 0.0, 0.0
	for i := 0; i < len(rows); {
		j := i
		dtp, dfp := 0.0, 0.0
		for ; j < len(rows) && rows[j].p == rows[i].p; j++ {
			dtp += rows[j].c
			dfp += 1 - rows[j].c
		}
		// Trapezoid from (fp, tp) to (fp+dfp, tp+dtp), in rates.
		area += (dfp / totalNeg) * (tp + dtp/2) / totalPos
		tp, fp = tp+dtp, fp+dfp
		i = j
	}
	return area
}
