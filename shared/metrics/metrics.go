package metrics

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrBadInput marks predictions and outcomes that cannot be scored.
var ErrBadInput = errors.New("metrics: bad input")

// Summary is the evaluation of one model on one set of outcomes.
type Summary struct {
	N             int     `json:"n"`
	Positives     int     `json:"positives"`
	AUC           float64 `json:"auc"`
	Gini          float64 `json:"gini"`
	LogLoss       float64 `json:"log_loss"`
	Brier         float64 `json:"brier"`
	MeanPredicted float64 `json:"mean_predicted"`
	ObservedRate  float64 `json:"observed_rate"`
	// Calibration is by decile of predicted probability, lowest first.
	Calibration []Bin `json:"calibration"`
}

// Bin is one calibration bin.
type Bin struct {
	N             int     `json:"n"`
	MeanPredicted float64 `json:"mean_predicted"`
	ObservedRate  float64 `json:"observed_rate"`
}

// Evaluate scores predicted probabilities p against 0/1 outcomes y.
func Evaluate(p, y []float64) (Summary, error) {
	if err := check(p, y); err != nil {
		return Summary{}, err
	}
	s := Summary{N: len(p), LogLoss: LogLoss(p, y), Brier: Brier(p, y)}
	for i := range p {
		s.MeanPredicted += p[i]
		s.ObservedRate += y[i]
	}
	s.Positives = int(s.ObservedRate)
	s.MeanPredicted /= float64(len(p))
	s.ObservedRate /= float64(len(p))
	// One sort serves the AUC and the calibration deciles.
	idx := byProbability(p, false)
	s.AUC = aucOrdered(p, y, idx)
	s.Gini = 2*s.AUC - 1
	s.Calibration = calibrationOrdered(p, y, idx, 10)
	return s, nil
}

func check(p, y []float64) error {
	if len(p) != len(y) {
		return fmt.Errorf("%w: %d predictions for %d outcomes", ErrBadInput, len(p), len(y))
	}
	if len(p) == 0 {
		return fmt.Errorf("%w: no predictions", ErrBadInput)
	}
	pos := 0
	for i := range p {
		if !(p[i] >= 0 && p[i] <= 1) {
			return fmt.Errorf("%w: prediction %d is %v, not a probability", ErrBadInput, i, p[i])
		}
		if y[i] != 0 && y[i] != 1 {
			return fmt.Errorf("%w: outcome %d is %v, want 0 or 1", ErrBadInput, i, y[i])
		}
		pos += int(y[i])
	}
	if pos == 0 || pos == len(y) {
		return fmt.Errorf("%w: all %d outcomes are equal; AUC needs both", ErrBadInput, len(y))
	}
	return nil
}

// ROC is the receiver operating characteristic: false and true positive
// rates as the threshold falls, from (0, 0) to (1, 1), one point per
// distinct score (the points gonum's stat.ROC gives; a test compares them).
func ROC(p, y []float64) (fpr, tpr []float64) {
	idx := byProbability(p, true)
	var pos, neg float64
	for _, v := range y {
		if v == 1 {
			pos++
		} else {
			neg++
		}
	}
	fpr, tpr = []float64{0}, []float64{0}
	var tp, fp float64
	for k, i := range idx {
		if y[i] == 1 {
			tp++
		} else {
			fp++
		}
		if k+1 == len(idx) || p[idx[k+1]] != p[i] {
			fpr, tpr = append(fpr, fp/neg), append(tpr, tp/pos)
		}
	}
	return fpr, tpr
}

// AUC is the area under the ROC curve. Tied scores count half, as in the
// Mann-Whitney statistic.
func AUC(p, y []float64) float64 {
	return aucOrdered(p, y, byProbability(p, false))
}

// aucOrdered is the AUC from the rows in ascending order of p: each
// positive counts the negatives scored below it, and half of those scored
// the same (the Mann-Whitney U over positives times negatives, equal to
// the trapezoidal area under the ROC curve).
func aucOrdered(p, y []float64, idx []int) float64 {
	var u, neg, pos float64
	for k := 0; k < len(idx); {
		var gp, gn float64 // positives and negatives with this score
		j := k
		for ; j < len(idx) && p[idx[j]] == p[idx[k]]; j++ {
			if y[idx[j]] == 1 {
				gp++
			} else {
				gn++
			}
		}
		u += gp * (neg + gn/2)
		neg += gn
		pos += gp
		k = j
	}
	return u / (pos * neg)
}

// Lorenz is the concentration curve an insurer reads as the Gini: policies
// ordered from riskiest to safest by p, the cumulative share of policies
// against the cumulative share of claims, from (0, 0) to (1, 1).
func Lorenz(p, y []float64) (policies, claims []float64) {
	idx := byProbability(p, true)
	total := 0.0
	for _, v := range y {
		total += v
	}
	policies, claims = []float64{0}, []float64{0}
	cum := 0.0
	for k, i := range idx {
		cum += y[i]
		policies = append(policies, float64(k+1)/float64(len(p)))
		claims = append(claims, cum/total)
	}
	return policies, claims
}

// byProbability is the order of the rows by p, descending or ascending,
// rows of equal p in their original order (-0 and +0 are equal). Large
// inputs are sorted by radix (order.go); small ones by comparison.
func byProbability(p []float64, descending bool) []int {
	if len(p) >= radixMin {
		return radixOrder(p, descending)
	}
	return comparisonOrder(p, descending)
}

// comparisonOrder is byProbability as a stable sort, done as an unstable
// sort of (p, row) pairs, which is O(n log n) where sort.SliceStable is
// O(n log² n).
func comparisonOrder(p []float64, descending bool) []int {
	type row struct {
		p float64
		i int
	}
	rows := make([]row, len(p))
	for i, v := range p {
		rows[i] = row{v, i}
	}
	slices.SortFunc(rows, func(a, b row) int {
		switch {
		case a.p < b.p:
			if descending {
				return 1
			}
			return -1
		case b.p < a.p:
			if descending {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.i, b.i)
	})
	idx := make([]int, len(p))
	for k, r := range rows {
		idx[k] = r.i
	}
	return idx
}

// clip keeps log loss finite for probabilities of exactly 0 or 1, as
// scikit-learn does with the float64 machine epsilon.
const clip = 2.220446049250313e-16

// LogLoss is the mean negative log-likelihood of y under p.
func LogLoss(p, y []float64) float64 {
	s := 0.0
	for i := range p {
		q := math.Min(math.Max(p[i], clip), 1-clip)
		s -= y[i]*math.Log(q) + (1-y[i])*math.Log(1-q)
	}
	return s / float64(len(p))
}

// Brier is the mean squared difference between p and y.
func Brier(p, y []float64) float64 {
	s := 0.0
	for i := range p {
		d := p[i] - y[i]
		s += d * d
	}
	return s / float64(len(p))
}

// Calibration groups the rows into bins of equal count by predicted
// probability and compares the mean prediction with the observed rate.
func Calibration(p, y []float64, bins int) []Bin {
	return calibrationOrdered(p, y, byProbability(p, false), bins)
}

// calibrationOrdered is Calibration from the rows in ascending order of p.
func calibrationOrdered(p, y []float64, idx []int, bins int) []Bin {
	bins = min(bins, len(p))
	out := make([]Bin, bins)
	for b := range bins {
		lo, hi := b*len(p)/bins, (b+1)*len(p)/bins
		var sp, sy float64
		for _, i := range idx[lo:hi] {
			sp += p[i]
			sy += y[i]
		}
		n := float64(hi - lo)
		out[b] = Bin{N: hi - lo, MeanPredicted: sp / n, ObservedRate: sy / n}
	}
	return out
}
