package driftcheck

import (
	"fmt"

	"github.com/claimrisk/claimrisk/shared/cbpe"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/predlog"
)

// Baseline is what a check compares a window with, learnt once per
// champion from its reference rows: the rows themselves, the features'
// weights, CBPE's estimator, and the validation AUC the estimate is held to.
type Baseline struct {
	Reference     []predlog.Row
	Weights       map[string]float64
	Estimator     *cbpe.Estimator
	ValidationAUC float64
	columns       *frame // Reference's tested columns, built once
}

// NewBaseline learns the baseline of model m from its labelled reference
// rows; validationAUC is its out-of-time AUC.
func NewBaseline(m *model.Model, ref []predlog.ReferenceRow, validationAUC float64) (*Baseline, error) {
	b := &Baseline{Reference: make([]predlog.Row, len(ref)), ValidationAUC: validationAUC}
	p, y := make([]float64, len(ref)), make([]float64, len(ref))
	for i, r := range ref {
		b.Reference[i] = r.Row
		p[i], y[i] = r.Probability, float64(r.Claim)
	}
	b.columns = frameOf(b.Reference)
	b.Weights = ModelWeights(m, b.Reference)
	est, err := cbpe.Fit(p, y)
	if err != nil {
		return nil, fmt.Errorf("driftcheck: performance estimation: %w", err)
	}
	b.Estimator = est
	return b, nil
}

// Estimated is CBPE's estimate of the champion's performance on a window,
// from its predictions alone, and whether it raised the alarm.
type Estimated struct {
	cbpe.Estimate
	ValidationAUC float64 `json:"validation_auc"`
	// Alarm is set when the estimated AUC is more than MaxAUCDrop below
	// the validation AUC and the band's upper edge is below it too: a fall
	// the model's own predictions already show, and not one sampling noise
	// could make.
	Alarm bool `json:"alarm"`
}

// Assess compares a window with the baseline and decides on the drift
// rules (features, dataset share, prediction) and the estimated
// performance, as Check does before it looks at outcomes: the pure core of
// a check, for measurements and tests.
func Assess(b *Baseline, cur []predlog.Row, t Thresholds, p Policy) (Report, error) {
	rep := Report{Format: Format, Rows: len(cur), ReferenceRows: len(b.Reference), Enough: true, Thresholds: t, WeightFloor: p.WeightFloor,
		Reasons: []string{}, RulesFired: []string{}, DriftedColumns: []Column{}}
	window := frameOf(cur)
	if err := rep.compare(b.columns, window); err != nil {
		return Report{}, err
	}
	if err := rep.estimate(b, window); err != nil {
		return Report{}, err
	}
	rep.decide(p, b.Weights)
	return rep, nil
}

// estimate sets the window's estimated performance.
func (rep *Report) estimate(b *Baseline, cur *frame) error {
	if cur.n < 2 {
		return nil
	}
	e, err := b.Estimator.Estimate(cur.probability)
	if err != nil {
		return fmt.Errorf("driftcheck: performance estimation: %w", err)
	}
	est := &Estimated{Estimate: e, ValidationAUC: b.ValidationAUC}
	est.Alarm = e.AUC < b.ValidationAUC-rep.Thresholds.MaxAUCDrop && e.AUCUpper < b.ValidationAUC
	rep.Estimate = est
	return nil
}
