package driftcheck

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// What a drifted feature does, by its rule.
const (
	// RuleAuto alerts when the feature's weight is at or above the policy's
	// weight floor; below it, the feature only counts toward the dataset share.
	RuleAuto = "auto"
	// RuleAlert alerts whenever the feature drifts, whatever its weight.
	RuleAlert = "alert"
	// RuleShare never alerts alone: the feature counts toward the dataset share.
	RuleShare = "share"
)

// Rules lists the feature rules a policy accepts.
var Rules = []string{RuleAuto, RuleAlert, RuleShare}

// The rules of the verdict: a report names each one that fired.
const (
	FiredFeature    = "feature"               // a feature above the weight floor (or ruled alert) drifted
	FiredDataset    = "dataset-share"         // the share of drifted feature columns reached the threshold
	FiredPrediction = "prediction"            // the predicted probabilities drifted
	FiredQuality    = "quality"               // the window's labelled predictions show a fall in AUC or calibration
	FiredEstimate   = "estimated-performance" // CBPE estimates a fall in AUC before any label
	FiredDelayed    = "delayed-quality"       // outcomes that arrived late show an earlier window degraded
)

// FeatureRule is one feature's configured weight (NaN: take the model's)
// and rule.
type FeatureRule struct {
	Weight float64
	Rule   string
}

// Policy decides which drifted features raise the alarm. Each monitored
// feature has a weight, by default its share of the variance of the
// champion's logit on the reference (ModelWeights), and a rule.
type Policy struct {
	// WeightFloor is the weight from which a drifted feature with the auto
	// rule raises the alarm by itself.
	WeightFloor float64
	// Features overrides the weight or the rule of single features.
	Features map[string]FeatureRule
}

// DefaultWeightFloor is the default weight floor: a feature that carries at
// least 2% of the variance of the model's logit on the reference.
const DefaultWeightFloor = 0.02

// ParsePolicy builds a policy from the configuration's forms: rules maps a
// feature to auto, alert or share; weights maps a feature to its weight
// (0 to 1). Unknown features and rules are errors that name the choices.
func ParsePolicy(floor float64, rules map[string]string, weights map[string]float64) (Policy, error) {
	if math.IsNaN(floor) || floor < 0 || floor > 1 {
		return Policy{}, fmt.Errorf("driftcheck: the weight floor must be between 0 and 1, got %v", floor)
	}
	p := Policy{WeightFloor: floor, Features: map[string]FeatureRule{}}
	names := FeatureNames()
	for name, rule := range rules {
		if !slices.Contains(names, name) {
			return Policy{}, fmt.Errorf("driftcheck: feature rule for %q: not a monitored feature; choose from %s", name, strings.Join(names, ", "))
		}
		if !slices.Contains(Rules, rule) {
			return Policy{}, fmt.Errorf("driftcheck: feature rule %s:%s: the rule must be one of %s", name, rule, strings.Join(Rules, ", "))
		}
		fr := p.Features[name]
		fr.Rule, fr.Weight = rule, math.NaN()
		p.Features[name] = fr
	}
	for name, w := range weights {
		if !slices.Contains(names, name) {
			return Policy{}, fmt.Errorf("driftcheck: feature weight for %q: not a monitored feature; choose from %s", name, strings.Join(names, ", "))
		}
		if math.IsNaN(w) || w < 0 || w > 1 {
			return Policy{}, fmt.Errorf("driftcheck: feature weight %s:%v: a weight lies between 0 and 1", name, w)
		}
		fr, ok := p.Features[name]
		if !ok {
			fr.Rule = RuleAuto
		}
		fr.Weight = w
		p.Features[name] = fr
	}
	return p, nil
}

// FeatureNames are the monitored features, in report order.
func FeatureNames() []string {
	out := make([]string, len(FeatureColumns))
	for i, c := range FeatureColumns {
		out[i] = c.Name
	}
	return out
}

// resolve is a feature's weight and rule, and where the weight came from.
func (p Policy) resolve(name string, model map[string]float64) (weight float64, rule, source string) {
	weight, rule, source = model[name], RuleAuto, "model"
	if fr, ok := p.Features[name]; ok {
		if fr.Rule != "" {
			rule = fr.Rule
		}
		if !math.IsNaN(fr.Weight) {
			weight, source = fr.Weight, "configured"
		}
	}
	return weight, rule, source
}

// alerts reports whether a drifted feature with this weight and rule raises
// the alarm by itself.
func (p Policy) alerts(weight float64, rule string) bool {
	switch rule {
	case RuleAlert:
		return true
	case RuleShare:
		return false
	}
	return weight >= p.WeightFloor
}

// Verdict is the decision over one window's drift results.
type Verdict struct {
	Detected bool     `json:"detected"`
	Fired    []string `json:"rules_fired"`
	Reasons  []string `json:"reasons"`
}

func (v *Verdict) fire(rule, reason string) {
	if !slices.Contains(v.Fired, rule) {
		v.Fired = append(v.Fired, rule)
	}
	v.Reasons = append(v.Reasons, reason)
	v.Detected = true
}

// DatasetVerdict is the dataset rule, as Evidently's DataDriftPreset
// applies it with drift_share: the data counts as drifted when the share of
// drifted columns is at or above the threshold.
func DatasetVerdict(cols []Column, threshold float64) DatasetDrift {
	d := DatasetDrift{Columns: len(cols), Threshold: threshold}
	for _, c := range cols {
		if c.Drifted {
			d.Drifted++
		}
	}
	if d.Columns > 0 {
		d.Share = float64(d.Drifted) / float64(d.Columns)
	}
	d.Detected = d.Columns > 0 && d.Share >= threshold
	return d
}

// Decide applies the policy and the dataset threshold to the per-column
// results and the prediction drift: the alarm is raised when any feature
// above the weight floor drifts, when the share of drifted columns reaches
// the threshold, or when the prediction drifts. It fills each column's
// weight, rule and alert, and returns the rules that fired with a reason
// each.
func (p Policy) Decide(cols []Column, weights map[string]float64, dataset DatasetDrift, pred PredictionDrift) Verdict {
	v := Verdict{Fired: []string{}, Reasons: []string{}}
	var alerted []string
	for i := range cols {
		c := &cols[i]
		c.Weight, c.Rule, c.WeightSource = p.resolve(c.Column, weights)
		c.Alert = c.Drifted && p.alerts(c.Weight, c.Rule)
		if c.Alert {
			why := fmt.Sprintf("weight %.3f >= floor %.3f", c.Weight, p.WeightFloor)
			if c.Rule == RuleAlert {
				why = fmt.Sprintf("weight %.3f, rule alert", c.Weight)
			}
			alerted = append(alerted, fmt.Sprintf("%s (%s %.4f, threshold %.4f; %s)", c.Column, c.Test, c.Score, c.Threshold, why))
		}
	}
	if len(alerted) > 0 {
		v.fire(FiredFeature, "a feature the model relies on drifted: "+strings.Join(alerted, "; "))
	}
	if dataset.Detected {
		var names []string
		for _, c := range cols {
			if c.Drifted {
				names = append(names, c.Column)
			}
		}
		v.fire(FiredDataset, fmt.Sprintf("%d of %d feature columns drifted (%s): share %.2f >= %.2f",
			dataset.Drifted, dataset.Columns, strings.Join(names, ", "), dataset.Share, dataset.Threshold))
	}
	if pred.Drifted {
		v.fire(FiredPrediction, fmt.Sprintf("the predicted probabilities drifted (%s %.4f, threshold %.4f; mean %.4f -> %.4f)",
			pred.Test, pred.Score, pred.Threshold, pred.ReferenceMean, pred.CurrentMean))
	}
	return v
}

// WeightTable is the weights sorted by size, largest first, for people.
func WeightTable(weights map[string]float64) []string {
	names := make([]string, 0, len(weights))
	for n := range weights {
		names = append(names, n)
	}
	sort.SliceStable(names, func(i, j int) bool {
		if weights[names[i]] != weights[names[j]] {
			return weights[names[i]] > weights[names[j]]
		}
		return names[i] < names[j]
	})
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%s %.3f", n, weights[n])
	}
	return out
}
