package cbpe_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/claimrisk/claimrisk/shared/cbpe"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// Stated tolerances of the peer test. NannyML rounds the cumulative
// expected positives and negatives to five decimals before it integrates
// the ROC curve; claimrisk does not. On 2,000-row windows that moves the
// AUC by less than 1e-8 (measured: at most 6.6e-9), so the estimated AUCs
// must agree to 1e-6. The sampling errors come from the same reference by
// the same formula and must agree to 1e-9 (measured: 1.7e-17).
const (
	aucTolerance = 1e-6
	seTolerance  = 1e-9
)

// skewed draws n rows of a model that is not quite calibrated (its
// probability is the true one raised to 1.15), so that the isotonic map
// matters; spread is the spread of the risks.
func skewed(r *rand.Rand, n int, spread float64) (p, y []float64) {
	p, y = make([]float64, n), make([]float64, n)
	for i := range p {
		truth := 1 / (1 + math.Exp(-(-2.1 + spread*r.NormFloat64())))
		p[i] = math.Pow(truth, 1.15)
		if r.Float64() < truth {
			y[i] = 1
		}
	}
	return p, y
}

func TestAgreesWithNannyML(t *testing.T) {
	python := testenv.Python(t)
	r := rand.New(rand.NewPCG(2026, 12))
	rp, ry := skewed(r, 5000, 0.8)
	var ref, win strings.Builder
	ref.WriteString("p,y\n")
	for i := range rp {
		fmt.Fprintf(&ref, "%s,%g\n", strconv.FormatFloat(rp[i], 'g', -1, 64), ry[i])
	}
	// Six windows: unchanged, then the risks more and more alike (a
	// covariate shift that lowers the AUC), then more spread out.
	spreads := []float64{0.8, 0.8, 0.6, 0.4, 0.25, 1.2}
	windows := make([][]float64, len(spreads))
	win.WriteString("window,p\n")
	for w, s := range spreads {
		windows[w], _ = skewed(r, 2000, s)
		for _, v := range windows[w] {
			fmt.Fprintf(&win, "%d,%s\n", w, strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	dir := t.TempDir()
	refPath, winPath := filepath.Join(dir, "reference.csv"), filepath.Join(dir, "windows.csv")
	if err := os.WriteFile(refPath, []byte(ref.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(winPath, []byte(win.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, filepath.Join("testdata", "nannyml_peer.py"), refPath, winPath)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nannyml peer: %v", err)
	}
	var peer struct {
		Windows []struct {
			AUC   float64 `json:"roc_auc"`
			SE    float64 `json:"sampling_error"`
			Lower float64 `json:"lower"`
			Upper float64 `json:"upper"`
		} `json:"windows"`
		WouldCalibrate bool `json:"nannyml_would_calibrate"`
	}
	if err := json.Unmarshal(out, &peer); err != nil {
		t.Fatalf("nannyml peer printed %s: %v", out, err)
	}
	if len(peer.Windows) != len(windows) {
		t.Fatalf("NannyML estimated %d windows, want %d", len(peer.Windows), len(windows))
	}
	e, err := cbpe.Fit(rp, ry)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("NannyML would calibrate this reference on its own: %v", peer.WouldCalibrate)
	worstAUC, worstSE := 0.0, 0.0
	for w := range windows {
		got, err := e.Estimate(windows[w])
		if err != nil {
			t.Fatal(err)
		}
		want := peer.Windows[w]
		dAUC, dSE := math.Abs(got.AUC-want.AUC), math.Abs(got.AUCSamplingError-want.SE)
		worstAUC, worstSE = math.Max(worstAUC, dAUC), math.Max(worstSE, dSE)
		t.Logf("window %d (spread %.2f): AUC claimrisk %.6f NannyML %.6f (diff %.1e); sampling error %.6f / %.6f (diff %.1e); band [%.4f, %.4f] / [%.4f, %.4f]",
			w, spreads[w], got.AUC, want.AUC, dAUC, got.AUCSamplingError, want.SE, dSE, got.AUCLower, got.AUCUpper, want.Lower, want.Upper)
		if dAUC > aucTolerance || dSE > seTolerance || math.Abs(got.AUCLower-want.Lower) > aucTolerance+3*seTolerance || math.Abs(got.AUCUpper-want.Upper) > aucTolerance+3*seTolerance {
			t.Errorf("window %d: claimrisk %+v, NannyML %+v", w, got, want)
		}
	}
	t.Logf("largest differences: AUC %.1e (tolerance %.0e), sampling error %.1e (tolerance %.0e)", worstAUC, aucTolerance, worstSE, seTolerance)
}
