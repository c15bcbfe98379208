package training_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/claimrisk/claimrisk/shared/features"
	"github.com/claimrisk/claimrisk/shared/glm"
	"github.com/claimrisk/claimrisk/shared/metrics"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/tooling/synth"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
	"github.com/claimrisk/claimrisk/shared/training"
)

// Stated tolerances of the peer test: coefficients agree to 1e-4 (both
// optimisers are run to convergence, so the gap is numerical), and the
// out-of-time AUC to 1e-6.
const (
	coefTolerance = 1e-4
	aucTolerance  = 1e-6
)

func writeCSV(t *testing.T, path string, x []float64, y []float64, p int) {
	t.Helper()
	var b strings.Builder
	for j := range p {
		fmt.Fprintf(&b, "x%d,", j)
	}
	b.WriteString("y\n")
	for i := range y {
		for j := range p {
			b.WriteString(strconv.FormatFloat(x[i*p+j], 'g', -1, 64))
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%g\n", y[i])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGLMAgreesWithScikitLearn(t *testing.T) {
	python := testenv.Python(t)
	cfg := synth.DefaultConfig()
	cfg.Policies = 20000
	d, err := synth.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, m, _ := d.Encode("test")
	in, err := training.InputFor(d, m)
	if err != nil {
		t.Fatal(err)
	}
	const l2 = 1.0
	for _, kind := range []string{model.KindBase, model.KindAccident} {
		t.Run(kind, func(t *testing.T) {
			set, _ := model.SetOf(kind)
			spec, _ := features.NewSpec(set, in.Train, in.Accidents)
			design, _ := spec.Design()
			xt, yt := design.Matrix(in.Train), features.Labels(in.Train)
			xv, yv := design.Matrix(in.Valid), features.Labels(in.Valid)
			// Go fits the float32 design, as training does; scikit-learn the float64 one.
			fit, err := glm.FitLogistic(design.Matrix32(in.Train), yt, design.Width(), glm.Options{L2: l2})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			writeCSV(t, filepath.Join(dir, "train.csv"), xt, yt, design.Width())
			writeCSV(t, filepath.Join(dir, "valid.csv"), xv, yv, design.Width())
			out, err := exec.Command(python, filepath.Join("testdata", "sklearn_peer.py"),
				filepath.Join(dir, "train.csv"), filepath.Join(dir, "valid.csv"), strconv.FormatFloat(l2, 'g', -1, 64)).Output()
			if err != nil {
				t.Fatalf("sklearn peer: %v", err)
			}
			var peer struct {
				Intercept float64   `json:"intercept"`
				Coef      []float64 `json:"coef"`
				AUC       float64   `json:"auc"`
			}
			if err := json.Unmarshal(out, &peer); err != nil {
				t.Fatalf("sklearn peer printed %s: %v", out, err)
			}
			pv := make([]float64, len(yv))
			for i := range yv {
				pv[i] = fit.Predict(xv[i*design.Width() : (i+1)*design.Width()])
			}
			auc := metrics.AUC(pv, yv)
			worst := math.Abs(fit.Intercept - peer.Intercept)
			for j := range fit.Coef {
				worst = math.Max(worst, math.Abs(fit.Coef[j]-peer.Coef[j]))
			}
			t.Logf("%s: largest coefficient difference %.2e; AUC Go %.6f, scikit-learn %.6f", kind, worst, auc, peer.AUC)
			if worst > coefTolerance {
				t.Errorf("coefficients differ by up to %.2e, more than %.0e:\nGo      %v %v\nsklearn %v %v", worst, coefTolerance, fit.Intercept, fit.Coef, peer.Intercept, peer.Coef)
			}
			if math.Abs(auc-peer.AUC) > aucTolerance {
				t.Errorf("AUC %.6f vs scikit-learn %.6f", auc, peer.AUC)
			}
		})
	}
}
