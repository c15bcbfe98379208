package driftcheck

import (
	"math"

	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/predlog"
)

// ModelWeights is each monitored feature's share of the variance of the
// model's logit on the reference rows: how much the model's answers move
// with that feature where the champion is meant to serve.
//
// A feature's part is half the mean squared change of the logit when that
// feature alone is replaced by its value in another reference row (row i
// takes row i+n/2's value): for a model whose logit is a sum of one term
// per feature, as the GLMs' and the legacy formula's are, that is exactly
// the variance of the feature's term over the reference, so the shares are
// the model's explained variance split by feature, whatever the model's
// design matrix looks like. A feature the model does not use weighs 0. The
// shares add up to 1 (all 0 for a constant model).
func ModelWeights(m *model.Model, ref []predlog.Row) map[string]float64 {
	out := make(map[string]float64, len(FeatureColumns))
	n := len(ref)
	if n < 2 {
		for _, c := range FeatureColumns {
			out[c.Name] = 0
		}
		return out
	}
	base := make([]float64, n)
	for i, r := range ref {
		base[i] = logit(m.Predict(r.PolicyRecord))
	}
	total := 0.0
	for _, c := range FeatureColumns {
		sum := 0.0
		for i, r := range ref {
			rec := r.PolicyRecord
			c.Copy(&rec, ref[(i+n/2)%n].PolicyRecord)
			d := base[i] - logit(m.Predict(rec))
			sum += d * d
		}
		v := sum / float64(2*n)
		out[c.Name] = v
		total += v
	}
	for name, v := range out {
		if total > 0 {
			out[name] = v / total
		} else {
			out[name] = 0
		}
	}
	return out
}

func logit(p float64) float64 {
	p = math.Min(math.Max(p, 1e-12), 1-1e-12)
	return math.Log(p / (1 - p))
}
