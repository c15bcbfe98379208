package function

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// env is one running system with a champion trained on the default data.
type env struct {
	t      *testing.T
	sys    *localrun.System
	bucket string
	seed   uint64
}

func newEnv(t *testing.T) *env {
	sys, bucket := testenv.System(t, "", "train", "register", "predict", "drift")
	data := filepath.Join(t.TempDir(), "data")
	testenv.CLI(t, nil, "data", "generate", "--policies", "24000", "--out", data)
	out := testenv.CLI(t, nil, "data", "upload", "--dir", data, "--bucket", bucket, "--sink", sys.URL("broker"), "--wait", "3m")
	if !strings.Contains(out, "promoted to champion") {
		t.Fatalf("no champion: %s", out)
	}
	// predict picks the champion up by its poll or the promotion event.
	c := predictapi.NewClient(sys.URL("predict"), "")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := c.Model(context.Background()); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("predict never loaded the champion")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return &env{t: t, sys: sys, bucket: bucket, seed: 100}
}

// simulate sends a scenario's traffic (and its outcomes) through predict.
func (e *env) simulate(scenario string, policies int) {
	e.t.Helper()
	e.seed++
	testenv.CLI(e.t, nil, "simulate", "--scenario", scenario, "--url", e.sys.URL("predict"), "--bucket", e.bucket,
		"--policies", fmt.Sprint(policies), "--seed", fmt.Sprint(e.seed))
}

// check sends the drift schedule's event straight to the drift function
// (its reply comes back here, not to train) and returns the report.
func (e *env) check() (driftcheck.Report, *events.DriftDetectedData) {
	e.t.Helper()
	ping, _ := localrun.PingEvent(time.Now(), "drift")
	s, _ := events.NewSender()
	reply, err := s.Send(context.Background(), e.sys.URL("drift"), ping)
	if err != nil {
		e.t.Fatalf("drift check: %v", err)
	}
	b, _ := blobstore.Open(context.Background(), e.bucket)
	defer b.Close()
	rep, found, err := driftcheck.ForEvent(context.Background(), b, ping.ID(), ping.Time())
	if err != nil || !found {
		e.t.Fatalf("no report for the check %s: %v", ping.ID(), err)
	}
	var detected *events.DriftDetectedData
	if reply != nil {
		if reply.Type() != events.DriftDetected {
			e.t.Fatalf("drift replied %s", reply.Type())
		}
		detected = &events.DriftDetectedData{}
		events.Decode(*reply, detected)
	}
	if rep.DriftDetected != (detected != nil) {
		e.t.Fatalf("report says drift_detected=%v, but the reply is %v", rep.DriftDetected, reply)
	}
	return rep, detected
}

func drifted(rep driftcheck.Report) []string {
	var out []string
	for _, c := range rep.DriftedColumns {
		out = append(out, c.Column)
	}
	return out
}

// evidently runs the Evidently job on the report's window and returns its
// per-column verdicts.
func (e *env) evidently(rep driftcheck.Report) map[string]bool {
	e.t.Helper()
	python := testenv.Python(e.t)
	cmd := exec.Command(python, "-m", "monitoring", "report", "--bucket", e.bucket, "--reference", rep.ReferenceKey,
		"--from", rep.WindowFrom.Format(time.RFC3339Nano), "--to", rep.WindowTo.Format(time.RFC3339Nano), "--out-prefix", "drift/evidently-test/")
	cmd.Dir = testenv.RepoRoot(e.t)
	cmd.Env = append(os.Environ(), "DO_NOT_TRACK=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		e.t.Fatalf("Evidently job: %v\n%s", err, out)
	}
	b, _ := blobstore.Open(context.Background(), e.bucket)
	defer b.Close()
	keys, err := b.Keys(context.Background(), "drift/evidently-test/")
	if err != nil {
		e.t.Fatal(err)
	}
	var summary struct {
		CurrentRows int `json:"current_rows"`
		Columns     []struct {
			Column  string `json:"column"`
			Role    string `json:"role"`
			Test    string `json:"test"`
			Drifted bool   `json:"drifted"`
		} `json:"columns"`
	}
	found := false
	for _, k := range keys {
		if strings.HasSuffix(k, "summary.json") && strings.Contains(k, rep.WindowTo.UTC().Format("20060102T150405")) {
			if err := b.ReadJSON(context.Background(), k, &summary); err != nil {
				e.t.Fatal(err)
			}
			found = true
		}
	}
	if !found {
		e.t.Fatalf("no Evidently summary for the window ending %s among %v", rep.WindowTo, keys)
	}
	if summary.CurrentRows != rep.Rows {
		e.t.Fatalf("Evidently read %d rows of the window, the drift function %d", summary.CurrentRows, rep.Rows)
	}
	out := map[string]bool{}
	for _, c := range summary.Columns {
		if c.Role == "feature" || c.Role == "prediction" {
			out[c.Column] = c.Drifted
		}
	}
	return out
}

// TestScenarios runs each drift scenario through the real binaries and
// checks what the drift function flags, and that Evidently agrees with it
// column by column.
func TestScenarios(t *testing.T) {
	e := newEnv(t)
	agree := os.Getenv(testenv.RequireEnv) == "1" || func() bool {
		_, err := os.Stat(filepath.Join(testenv.RepoRoot(t), ".venv", "bin", "python"))
		return err == nil || os.Getenv("CLAIMRISK_PYTHON") != ""
	}()
	yes, no := true, false
	tests := []struct {
		scenario string
		want     []string // exactly the drifted feature columns
		quality  *bool    // whether the quality checks fire (nil: either)
		detected *bool    // whether drift counts as detected (nil: either)
		fairness bool     // whether the fairness monitor raises an alert
	}{
		{"none", nil, &no, &no, false},
		{"aging-portfolio", []string{"age", "years_licensed"}, nil, nil, false},
		{"new-territory", []string{"home_area"}, nil, nil, false},
		{"unit-bug", []string{"annual_mileage"}, nil, nil, false},
		// Concept drift: no input column moves; the outcomes show it.
		{"accident-spike", nil, &yes, &yes, false},
		// Bias through a proxy: the vehicle carries the sex the model never sees.
		{"gender-proxy", []string{"vehicle_type"}, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			e.t = t
			e.simulate(tt.scenario, 2500)
			rep, detected := e.check()
			got := drifted(rep)
			t.Logf("%s: Go flags %v; reasons %v", tt.scenario, got, rep.Reasons)
			if rep.Rows != 2500 {
				t.Fatalf("the check read %d predictions, want the 2,500 just sent", rep.Rows)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("drifted columns %v, want %v", got, tt.want)
			}
			degraded := rep.Quality != nil && rep.Quality.Degraded
			if tt.quality != nil && degraded != *tt.quality {
				t.Errorf("quality degraded = %v, want %v (reasons %v)", degraded, *tt.quality, rep.Reasons)
			}
			if tt.detected != nil && *tt.detected != (detected != nil) {
				t.Errorf("drift detected = %v, want %v", detected != nil, *tt.detected)
			}
			if rep.Quality == nil || rep.Quality.LabelledRows != 2500 {
				t.Errorf("quality = %+v; want all 2,500 predictions labelled by the feedback", rep.Quality)
			}
			if rep.Fairness == nil || rep.Fairness.Unknown != 0 || rep.FairnessAlert != tt.fairness {
				t.Errorf("fairness = %+v, alert %v; want every customer joined and alert %v", rep.Fairness, rep.FairnessAlert, tt.fairness)
			} else {
				t.Logf("%s: disparate impact %.3f", tt.scenario, rep.Fairness.DisparateImpact)
			}
			if !agree {
				testenv.Require(t, "no Python environment for the Evidently agreement check: run make venv")
			}
			ev := e.evidently(rep)
			var evFlags []string
			for _, c := range rep.Columns {
				if ev[c.Column] != c.Drifted {
					t.Errorf("%s: Go says drifted=%v (%s %.4f), Evidently says %v", c.Column, c.Drifted, c.Test, c.Score, ev[c.Column])
				}
				if ev[c.Column] {
					evFlags = append(evFlags, c.Column)
				}
			}
			if ev["probability"] != rep.PredictionDrift.Drifted {
				t.Errorf("prediction drift: Go %v, Evidently %v", rep.PredictionDrift.Drifted, ev["probability"])
			}
			t.Logf("%s: Evidently flags %v", tt.scenario, evFlags)
		})
	}
}

// TestDriftRetrainsAndTheNewChampionServes closes the loop through the
// broker: drift detected, retraining, promotion, and the running predict
// function serving the new champion. A retraining that does not win
// changes nothing.
func TestDriftRetrainsAndTheNewChampionServes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := predictapi.NewClient(e.sys.URL("predict"), "")

	// A retraining on traffic like the training data does not win.
	e.simulate("none", 2500)
	rep, _ := e.check()
	if rep.DriftDetected || rep.LabelledKey == "" {
		t.Fatalf("none: %+v", rep.Reasons)
	}
	forced, _ := events.New("forced", events.DriftDetected, "/test", "", events.DriftDetectedData{
		Bucket: e.bucket, ReportKey: driftcheck.Key(rep.ID, "report.json"), ChampionVersion: 1, LabelledKey: rep.LabelledKey})
	s, _ := events.NewSender()
	if _, err := s.Send(ctx, e.sys.URL("broker"), forced); err != nil {
		t.Fatal(err)
	}
	v := waitForDecision(t, e.bucket, 2)
	if v.Promoted {
		t.Fatalf("a retraining on undrifted traffic was promoted: %s", v.Reason)
	}
	if info, _ := c.Model(ctx); info.Version != 1 {
		t.Fatalf("the rejected challenger changed what predict serves: v%d", info.Version)
	}

	// Concept drift: the drift schedule's event through the broker.
	e.simulate("accident-spike", 3000)
	ping, _ := localrun.PingEvent(time.Now(), "drift")
	if _, err := s.Send(ctx, e.sys.URL("broker"), ping); err != nil {
		t.Fatal(err)
	}
	v = waitForDecision(t, e.bucket, 3)
	if !v.Promoted {
		t.Fatalf("the retraining after the accident spike was not promoted: %s", v.Reason)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := c.Model(ctx)
		if err == nil && info.Version == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("predict still serves v%d", info.Version)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out := testenv.CLI(t, nil, "predict", "--example", "--url", e.sys.URL("predict"))
	if !strings.Contains(out, "claim-risk v3") {
		t.Fatalf("predictions after the promotion:\n%s", out)
	}
}

type decision struct {
	Promoted bool   `json:"promoted"`
	Reason   string `json:"reason"`
}

func waitForDecision(t *testing.T, bucket string, version int) decision {
	t.Helper()
	b, _ := blobstore.Open(context.Background(), bucket)
	defer b.Close()
	deadline := time.Now().Add(3 * time.Minute)
	key := fmt.Sprintf("registry/claim-risk/versions/%06d/decision.json", version)
	for {
		var d decision
		if err := b.ReadJSON(context.Background(), key, &d); err == nil {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("no decision on v%d", version)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
