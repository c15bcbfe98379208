package driftcheck_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/drift"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// writeColumns writes the columns as a CSV file with a header c0, c1, ...
func writeColumns(t *testing.T, path string, cols [][]float64) {
	t.Helper()
	var b strings.Builder
	for j := range cols {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "c%d", j)
	}
	b.WriteByte('\n')
	for i := range cols[0] {
		for j := range cols {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(cols[j][i], 'g', -1, 64))
		}
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDatasetThresholdAgreesWithEvidently runs the dataset rule at its
// boundary on both sides: windows of ten numeric columns of which exactly
// 2, 3 and 4 drift (a shift of one standard deviation; the others are a
// subset of the reference), judged by the Go drift function's rule with its
// default CLAIMRISK_DRIFT_SHARE and by Evidently through the Evidently job's
// own function with the contract's DATASET_DRIFT_SHARE. At 0.3, 2 of 10 is
// below the threshold and 3 and 4 are at or above it.
func TestDatasetThresholdAgreesWithEvidently(t *testing.T) {
	python := testenv.Python(t)
	var cfg config.Drift
	if err := config.Load(&cfg); err != nil {
		t.Fatal(err)
	}
	contract, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "monitoring", "contract.py"))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("DATASET_DRIFT_SHARE: Final = %g\n", cfg.DriftShare); !strings.Contains(string(contract), want) {
		t.Fatalf("monitoring/contract.py does not declare %q: the Go default and the Evidently job's differ", strings.TrimSpace(want))
	}
	const columns, refRows, curRows = 10, 2000, 500
	r := rand.New(rand.NewPCG(15, 3))
	ref := make([][]float64, columns)
	for j := range ref {
		ref[j] = make([]float64, refRows)
		for i := range ref[j] {
			ref[j][i] = r.NormFloat64()
		}
	}
	dir := t.TempDir()
	refPath := filepath.Join(dir, "reference.csv")
	writeColumns(t, refPath, ref)
	for _, k := range []int{2, 3, 4} {
		t.Run(fmt.Sprintf("%d of %d drifted", k, columns), func(t *testing.T) {
			cur := make([][]float64, columns)
			cols := make([]driftcheck.Column, columns)
			for j := range cur {
				cur[j] = make([]float64, curRows)
				for i := range cur[j] {
					cur[j][i] = ref[j][(i*7+j)%refRows]
					if j < k {
						cur[j][i] += 1
					}
				}
				res, err := drift.NumericColumn(ref[j], cur[j])
				if err != nil {
					t.Fatal(err)
				}
				cols[j] = driftcheck.Column{Column: fmt.Sprintf("c%d", j), Test: string(res.Test), Score: res.Score, Threshold: res.Threshold, Drifted: res.Drifted}
			}
			goVerdict := driftcheck.DatasetVerdict(cols, cfg.DriftShare)
			curPath := filepath.Join(dir, fmt.Sprintf("current-%d.csv", k))
			writeColumns(t, curPath, cur)
			out, err := exec.Command(python, filepath.Join("testdata", "evidently_dataset.py"), testenv.RepoRoot(t), refPath, curPath,
				strconv.FormatFloat(cfg.DriftShare, 'g', -1, 64)).Output()
			if err != nil {
				t.Fatalf("Evidently: %v", err)
			}
			var ev struct {
				Drifted        int     `json:"drifted_columns"`
				Share          float64 `json:"share"`
				Threshold      float64 `json:"threshold"`
				DatasetDrifted bool    `json:"drifted"`
			}
			if err := json.Unmarshal(out, &ev); err != nil {
				t.Fatalf("Evidently printed %s: %v", out, err)
			}
			t.Logf("Go: %d drifted, share %.2f, detected %v; Evidently: %d drifted, share %.2f, detected %v",
				goVerdict.Drifted, goVerdict.Share, goVerdict.Detected, ev.Drifted, ev.Share, ev.DatasetDrifted)
			if goVerdict.Drifted != k || ev.Drifted != k {
				t.Fatalf("drifted columns: Go %d, Evidently %d; the window was built with %d", goVerdict.Drifted, ev.Drifted, k)
			}
			if want := k >= 3; goVerdict.Detected != want || ev.DatasetDrifted != want {
				t.Errorf("dataset drift at %d of %d: Go %v, Evidently %v, want %v at threshold %.2f", k, columns, goVerdict.Detected, ev.DatasetDrifted, want, cfg.DriftShare)
			}
			if ev.Threshold != cfg.DriftShare || goVerdict.Share != ev.Share {
				t.Errorf("Go share %v threshold %v, Evidently share %v threshold %v", goVerdict.Share, cfg.DriftShare, ev.Share, ev.Threshold)
			}
		})
	}
}
