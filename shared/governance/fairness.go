package governance

import (
	"fmt"
	"iter"
	"maps"
	"slices"
)

// Fairness defaults: disparate impact outside [0.8, 1.25] is flagged (the
// four-fifths rule, both ways); error rates count a policy as flagged high
// risk from a probability of 0.10, the "high" risk band.
const (
	DefaultLower     = 0.8
	DefaultUpper     = 1.25
	DefaultThreshold = 0.10
)

// Group is one group's figures.
type Group struct {
	Group         string  `json:"group"`
	N             int     `json:"n"`
	MeanPredicted float64 `json:"mean_predicted"`
	// The rest need outcomes; nil without them.
	ObservedRate   *float64 `json:"observed_rate,omitempty"`
	CalibrationGap *float64 `json:"calibration_gap,omitempty"`
	// FalsePositiveRate is the share of policies without a claim flagged
	// high risk; TruePositiveRate of those with one.
	FalsePositiveRate *float64 `json:"false_positive_rate,omitempty"`
	TruePositiveRate  *float64 `json:"true_positive_rate,omitempty"`
}

// Fairness compares the groups of a protected attribute.
type Fairness struct {
	Attribute string  `json:"attribute"`
	Groups    []Group `json:"groups"`
	// DisparateImpact is the ratio of mean predicted probabilities,
	// Protected over Reference.
	Protected       string  `json:"protected_group"`
	Reference       string  `json:"reference_group"`
	DisparateImpact float64 `json:"disparate_impact"`
	Lower           float64 `json:"lower"`
	Upper           float64 `json:"upper"`
	Threshold       float64 `json:"threshold"`
	Flagged         bool    `json:"flagged"`
	// Unknown counts rows without the attribute (not joined).
	Unknown int    `json:"unknown"`
	Note    string `json:"note,omitempty"`
}

// Policy is the fairness rule.
type Policy struct {
	Lower, Upper, Threshold float64
	// Protected and Reference are the groups whose ratio is checked.
	Protected, Reference string
}

// DefaultPolicy compares women's mean prediction with men's.
func DefaultPolicy() Policy { return PolicyWithin(DefaultLower, DefaultUpper) }

// PolicyWithin is DefaultPolicy with the allowed disparate impact set to
// [lower, upper]: the register and drift functions' configured rule.
func PolicyWithin(lower, upper float64) Policy {
	return Policy{Lower: lower, Upper: upper, Threshold: DefaultThreshold, Protected: "F", Reference: "M"}
}

// Measure computes the groups' figures. labelled says whether Claim holds
// outcomes.
func (p Policy) Measure(attribute string, rows []Row, labelled bool) Fairness {
	return p.MeasureSeq(attribute, slices.Values(rows), labelled)
}

// MeasureSeq is Measure over rows given one at a time: a caller holding
// columns need not build a Row for each of a window's rows.
func (p Policy) MeasureSeq(attribute string, rows iter.Seq[Row], labelled bool) Fairness {
	f := Fairness{Attribute: attribute, Protected: p.Protected, Reference: p.Reference, Lower: p.Lower, Upper: p.Upper, Threshold: p.Threshold}
	type sums struct {
		n                                int
		predicted, obs, fp, tp, neg, pos float64
	}
	by := map[string]*sums{}
	for r := range rows {
		if r.Group == "" {
			f.Unknown++
			continue
		}
		s := by[r.Group]
		if s == nil {
			s = &sums{}
			by[r.Group] = s
		}
		s.n++
		s.predicted += r.Probability
		s.obs += r.Claim
		flagged := r.Probability >= p.Threshold
		switch {
		case r.Claim == 1:
			s.pos++
			if flagged {
				s.tp++
			}
		default:
			s.neg++
			if flagged {
				s.fp++
			}
		}
	}
	names := slices.Sorted(maps.Keys(by))
	mean := map[string]float64{}
	for _, g := range names {
		s := by[g]
		n := float64(s.n)
		grp := Group{Group: g, N: s.n, MeanPredicted: s.predicted / n}
		if labelled {
			o := s.obs / n
			gap := o - grp.MeanPredicted
			grp.ObservedRate, grp.CalibrationGap = &o, &gap
			if s.neg > 0 {
				v := s.fp / s.neg
				grp.FalsePositiveRate = &v
			}
			if s.pos > 0 {
				v := s.tp / s.pos
				grp.TruePositiveRate = &v
			}
		}
		mean[g] = grp.MeanPredicted
		f.Groups = append(f.Groups, grp)
	}
	ref, okR := mean[p.Reference]
	prot, okP := mean[p.Protected]
	if !okR || !okP || ref == 0 {
		f.Note = fmt.Sprintf("no %s/%s comparison: the rows hold groups %v", p.Protected, p.Reference, names)
		return f
	}
	f.DisparateImpact = prot / ref
	f.Flagged = f.DisparateImpact < p.Lower || f.DisparateImpact > p.Upper
	return f
}

// Reason says why a fairness figure is flagged, or "".
func (f Fairness) Reason() string {
	if !f.Flagged {
		return ""
	}
	return fmt.Sprintf("disparate impact %.3f (mean predicted probability of %s over %s, by %s) is outside [%.2f, %.2f]",
		f.DisparateImpact, f.Protected, f.Reference, f.Attribute, f.Lower, f.Upper)
}
