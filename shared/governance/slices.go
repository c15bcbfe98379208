package governance

import (
	"fmt"
	"sort"

	"github.com/claimrisk/claimrisk/shared/metrics"
)

// Row is what slicing and fairness need of one scored policy.
type Row struct {
	Age         float64
	Usage       string
	CrashRate   float64
	Group       string // the protected attribute's value, "" when unknown
	Probability float64
	Claim       float64 // 0 or 1; ignored when labels are absent
}

// Slice is one slice's figures.
type Slice struct {
	Dimension     string  `json:"dimension"`
	Slice         string  `json:"slice"`
	N             int     `json:"n"`
	Positives     int     `json:"positives"`
	AUC           float64 `json:"auc"`
	Gini          float64 `json:"gini"`
	LogLoss       float64 `json:"log_loss"`
	MeanPredicted float64 `json:"mean_predicted"`
	ObservedRate  float64 `json:"observed_rate"`
	// Scored is false when the slice has one outcome only (no AUC).
	Scored bool `json:"scored"`
}

// AgeBand names a driver's age band.
func AgeBand(age float64) string {
	switch {
	case age < 25:
		return "under 25"
	case age < 40:
		return "25-39"
	case age < 60:
		return "40-59"
	}
	return "60 and over"
}

// AccidentLevels cut crash rates into thirds of the given reference rates.
type AccidentLevels struct {
	Low, High float64 `json:"-"`
}

// NewAccidentLevels takes the tertiles of rates.
func NewAccidentLevels(rates []float64) AccidentLevels {
	s := append([]float64(nil), rates...)
	sort.Float64s(s)
	if len(s) == 0 {
		return AccidentLevels{}
	}
	return AccidentLevels{Low: s[len(s)/3], High: s[2*len(s)/3]}
}

// Level names the area accident level of a crash rate.
func (l AccidentLevels) Level(rate float64) string {
	switch {
	case rate < l.Low:
		return "low"
	case rate < l.High:
		return "medium"
	}
	return "high"
}

// Slices computes the figures of every slice of every dimension, in a
// fixed order. The accident levels are cut at lv.
func Slices(rows []Row, lv AccidentLevels) []Slice {
	dims := []struct {
		name string
		of   func(Row) string
	}{
		{"age band", func(r Row) string { return AgeBand(r.Age) }},
		{"area accident level", func(r Row) string { return lv.Level(r.CrashRate) }},
		{"vehicle usage", func(r Row) string { return r.Usage }},
	}
	var out []Slice
	for _, d := range dims {
		groups := map[string][]Row{}
		var names []string
		for _, r := range rows {
			k := d.of(r)
			if _, ok := groups[k]; !ok {
				names = append(names, k)
			}
			groups[k] = append(groups[k], r)
		}
		sort.Strings(names)
		for _, name := range names {
			out = append(out, sliceOf(d.name, name, groups[name]))
		}
	}
	return out
}

func sliceOf(dim, name string, rows []Row) Slice {
	p, y := make([]float64, len(rows)), make([]float64, len(rows))
	for i, r := range rows {
		p[i], y[i] = r.Probability, r.Claim
	}
	s := Slice{Dimension: dim, Slice: name, N: len(rows)}
	if m, err := metrics.Evaluate(p, y); err == nil {
		s.Positives, s.AUC, s.Gini, s.LogLoss, s.MeanPredicted, s.ObservedRate, s.Scored = m.Positives, m.AUC, m.Gini, m.LogLoss, m.MeanPredicted, m.ObservedRate, true
		return s
	}
	for i := range p {
		s.MeanPredicted += p[i] / float64(len(p))
		s.ObservedRate += y[i] / float64(len(p))
	}
	s.Positives = int(s.ObservedRate*float64(len(p)) + 0.5)
	return s
}

// SliceCheck is the slice rule of the promotion gate.
type SliceCheck struct {
	// MinRows is the size from which a slice's Gini must clear MinGini.
	MinRows int
	// MinGini is the floor on every counted slice's Gini.
	MinGini float64
	// LargeRows is the size from which a slice must also rank at least as
	// well as the legacy formula.
	LargeRows int
}

// Failures lists the counted slices below the floor, and those where the
// model ranks worse than the baseline's slice (when a baseline is given).
func (c SliceCheck) Failures(model, baseline []Slice) []string {
	base := map[string]Slice{}
	for _, b := range baseline {
		base[b.Dimension+"/"+b.Slice] = b
	}
	var out []string
	for _, s := range model {
		if s.N < c.MinRows || !s.Scored {
			continue
		}
		if s.Gini < c.MinGini {
			out = append(out, fmt.Sprintf("%s %s: Gini %.4f on %d policies is below the floor %.2f", s.Dimension, s.Slice, s.Gini, s.N, c.MinGini))
		}
		if b, ok := base[s.Dimension+"/"+s.Slice]; ok && b.Scored && s.N >= c.LargeRows && s.Gini < b.Gini {
			out = append(out, fmt.Sprintf("%s %s: Gini %.4f is below the legacy formula's %.4f on the same %d policies", s.Dimension, s.Slice, s.Gini, b.Gini, s.N))
		}
	}
	return out
}
