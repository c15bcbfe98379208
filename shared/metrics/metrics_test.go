package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/integrate"
	"gonum.org/v1/gonum/stat"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestAUC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p, y []float64
		want float64
	}{
		// scikit-learn's roc_auc_score documentation example: 0.75.
		{"sklearn example", []float64{0.1, 0.4, 0.35, 0.8}, []float64{0, 0, 1, 1}, 0.75},
		// Mann-Whitney by hand: pairs (0.5,0.5)=1/2, (0.5,0.2)=1, (0.9,0.5)=1, (0.9,0.2)=1 -> 3.5/4.
		{"tied scores count half", []float64{0.5, 0.5, 0.2, 0.9}, []float64{0, 1, 0, 1}, 0.875},
		{"perfect", []float64{0.1, 0.2, 0.8, 0.9}, []float64{0, 0, 1, 1}, 1},
		{"reversed", []float64{0.9, 0.8, 0.2, 0.1}, []float64{0, 0, 1, 1}, 0},
		{"all tied", []float64{0.3, 0.3, 0.3, 0.3}, []float64{0, 1, 0, 1}, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AUC(tt.p, tt.y); !near(got, tt.want, 1e-12) {
				t.Errorf("AUC = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	p := []float64{0.8, 0.3, 0.6, 0.1}
	y := []float64{1, 0, 0, 0}
	s, err := Evaluate(p, y)
	if err != nil {
		t.Fatal(err)
	}
	// By hand: log loss = -(ln .8 + ln .7 + ln .4 + ln .9)/4; Brier = (.04+.09+.36+.01)/4.
	wantLL := -(math.Log(0.8) + math.Log(0.7) + math.Log(0.4) + math.Log(0.9)) / 4
	if !near(s.LogLoss, wantLL, 1e-12) || !near(s.Brier, 0.125, 1e-12) || s.AUC != 1 || s.Gini != 1 {
		t.Errorf("Evaluate = %+v; want log loss %v, Brier 0.125, AUC 1, Gini 1", s, wantLL)
	}
	if s.N != 4 || s.Positives != 1 || !near(s.MeanPredicted, 0.45, 1e-12) || s.ObservedRate != 0.25 {
		t.Errorf("counts = %d, %d, mean %v, rate %v", s.N, s.Positives, s.MeanPredicted, s.ObservedRate)
	}
}

func TestEvaluateRejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p, y []float64
	}{
		{"lengths differ", []float64{0.5}, []float64{0, 1}},
		{"empty", nil, nil},
		{"not a probability", []float64{1.5, 0.2}, []float64{1, 0}},
		{"NaN", []float64{math.NaN(), 0.2}, []float64{1, 0}},
		{"label not 0 or 1", []float64{0.5, 0.2}, []float64{2, 0}},
		{"one class", []float64{0.5, 0.2}, []float64{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Evaluate(tt.p, tt.y); !errors.Is(err, ErrBadInput) {
				t.Errorf("Evaluate = %v, want ErrBadInput", err)
			}
		})
	}
}

func TestCalibrationBins(t *testing.T) {
	t.Parallel()
	p := []float64{0.9, 0.1, 0.2, 0.8, 0.5, 0.4}
	y := []float64{1, 0, 0, 1, 1, 0}
	bins := Calibration(p, y, 3)
	// Sorted: (.1,0) (.2,0) | (.4,0) (.5,1) | (.8,1) (.9,1).
	want := []Bin{{2, 0.15, 0}, {2, 0.45, 0.5}, {2, 0.85, 1}}
	for i := range want {
		if bins[i].N != want[i].N || !near(bins[i].MeanPredicted, want[i].MeanPredicted, 1e-12) || bins[i].ObservedRate != want[i].ObservedRate {
			t.Errorf("bin %d = %+v, want %+v", i, bins[i], want[i])
		}
	}
}

func TestLorenz(t *testing.T) {
	t.Parallel()
	pol, cl := Lorenz([]float64{0.1, 0.9, 0.5, 0.3}, []float64{0, 1, 1, 0})
	// Riskiest first: .9 (claim), .5 (claim), .3, .1.
	wantPol := []float64{0, 0.25, 0.5, 0.75, 1}
	wantCl := []float64{0, 0.5, 1, 1, 1}
	for i := range wantPol {
		if pol[i] != wantPol[i] || cl[i] != wantCl[i] {
			t.Fatalf("Lorenz = %v, %v; want %v, %v", pol, cl, wantPol, wantCl)
		}
	}
}

// TestROCAndAUCAgreeWithGonum compares the ROC curve and its area with
// gonum's stat.ROC and integrate.Trapezoidal, which this package used
// before it computed them itself, on scores with many ties.
func TestROCAndAUCAgreeWithGonum(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{2, 10, 1000, 20000} {
		p, y := make([]float64, n), make([]float64, n)
		for i := range p {
			p[i] = float64(r.IntN(50)) / 50 // ties
			if r.Float64() < p[i] {
				y[i] = 1
			}
		}
		y[0], y[n-1] = 0, 1 // both outcomes
		scores := slices.Clone(p)
		classes := make([]bool, n)
		for i, v := range y {
			classes[i] = v == 1
		}
		stat.SortWeightedLabeled(scores, classes, nil)
		wantTPR, wantFPR, _ := stat.ROC(nil, scores, classes, nil)
		wantAUC := integrate.Trapezoidal(wantFPR, wantTPR)
		fpr, tpr := ROC(p, y)
		if len(fpr) != len(wantFPR) {
			t.Fatalf("n=%d: %d ROC points, gonum %d", n, len(fpr), len(wantFPR))
		}
		for i := range fpr {
			if !near(fpr[i], wantFPR[i], 1e-12) || !near(tpr[i], wantTPR[i], 1e-12) {
				t.Fatalf("n=%d: point %d is (%v, %v), gonum (%v, %v)", n, i, fpr[i], tpr[i], wantFPR[i], wantTPR[i])
			}
		}
		if got := AUC(p, y); !near(got, wantAUC, 1e-12) {
			t.Errorf("n=%d: AUC %v, gonum %v", n, got, wantAUC)
		}
		if s, err := Evaluate(p, y); err != nil || !near(s.AUC, wantAUC, 1e-12) {
			t.Errorf("n=%d: Evaluate AUC %v (%v), gonum %v", n, s.AUC, err, wantAUC)
		}
	}
}
