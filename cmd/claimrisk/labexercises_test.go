package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimrisk/claimrisk/config/knative"
	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/governance"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// exerciseFile writes a file the exercises would write.
func writeExercise(t *testing.T, home, name, content string) {
	t.Helper()
	dir := filepath.Join(home, "exercises")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestExerciseOneReadsTheRoutingTable(t *testing.T) {
	home, _ := labEnvironment(t, t.TempDir())
	triggers, err := localrun.LoadTriggers(knative.Base, "base")
	if err != nil {
		t.Fatal(err)
	}
	var table []string
	for _, tr := range triggers {
		table = append(table, fmt.Sprintf("%-40s %-10s -> %s (%s)", tr.Attributes["type"], tr.Attributes["check"], tr.Subscriber, tr.Name))
	}
	writeExercise(t, home, "routes.txt", strings.Join(table, "\n")+"\n")
	if got := checkExercises(t, 1); len(got["ok"]) != 1 || !strings.HasPrefix(got["ok"][0], "exercise 1.1 (The routing table): routes.txt routes all") {
		t.Errorf("a complete routing table: %q", got)
	}
	// Without the drift Trigger's line; "trained" must not pass for "train".
	var partial []string
	for _, l := range table {
		if !strings.Contains(l, "train-on-drift-detected") {
			partial = append(partial, l)
		}
	}
	partial = append(partial, "dev.claimrisk.drift.detected -> trained")
	writeExercise(t, home, "routes.txt", strings.Join(partial, "\n")+"\n")
	got := checkExercises(t, 1)
	if len(got["todo"]) == 0 || !strings.Contains(got["todo"][0], "train-on-drift-detected (dev.claimrisk.drift.detected to train)") {
		t.Errorf("a table without the drift Trigger: %q", got)
	}
}

func TestExerciseTwoComparesWithTheGoGLMs(t *testing.T) {
	home, bucket := labEnvironment(t, t.TempDir())
	testenv.Train(t, bucket, 42, 20000)
	b, err := blobstore.Open(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := runstore.New(b).List(context.Background())
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	gini := map[string]float64{}
	var dataset string
	for _, r := range runs {
		gini[r.Kind], dataset = r.Metrics.Gini, r.DatasetID
	}
	answer := func(with, without float64) string {
		return fmt.Sprintf(`{"dataset_id": %q, "library": "statsmodels", "with_accidents": {"gini": %g, "auc": 0.7}, "without_accidents": {"gini": %g, "auc": 0.6}}`,
			dataset, with, without)
	}
	for _, tc := range []struct {
		name           string
		content        string
		wantOK         int
		wantTodoPrefix string
	}{
		{"both close", answer(gini["glm-accident"]+0.004, gini["glm-base"]-0.01), 2, ""},
		{"crash rate left out", answer(gini["glm-base"], gini["glm-base"]), 1, "exercise 2.1 (Fit the claim model in Python): your out-of-time Gini"},
		{"no without", fmt.Sprintf(`{"dataset_id": %q, "with_accidents": {"gini": %g}}`, dataset, gini["glm-accident"]), 1,
			"exercise 2.2 (What the crash rate adds): lab2.json has no without_accidents"},
		{"another dataset", strings.Replace(answer(0.4, 0.25), dataset, "0123456789abcdef", 1), 0,
			`exercise 2.1 (Fit the claim model in Python): the bucket has no glm-accident run on dataset "0123456789abcdef"`},
		{"not JSON", "Gini 0.41", 0, "exercise 2.1 (Fit the claim model in Python): " + filepath.Join(home, "exercises", "lab2.json") + " is not the JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeExercise(t, home, "lab2.json", tc.content)
			got := checkExercises(t, 2)
			if len(got["ok"]) != tc.wantOK {
				t.Errorf("ok %q; want %d", got["ok"], tc.wantOK)
			}
			if tc.wantTodoPrefix != "" && (len(got["todo"]) == 0 || !strings.HasPrefix(got["todo"][0], tc.wantTodoPrefix)) {
				t.Errorf("todo %q; want the first to start %q", got["todo"], tc.wantTodoPrefix)
			}
		})
	}
}

func TestExerciseFiveChecksTheFairnessAnswer(t *testing.T) {
	home, bucket := labEnvironment(t, t.TempDir())
	b, err := blobstore.Open(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	rep := driftcheck.Report{ID: "20261129T205108.000Z", Rows: 2000, DriftDetected: true,
		DriftedColumns: []driftcheck.Column{{Column: "vehicle_age", Test: "wasserstein", Score: 0.4, Threshold: 0.1, Drifted: true}},
		Fairness:       &governance.Fairness{Attribute: "sex", Protected: "F", Reference: "M", DisparateImpact: 1.279}}
	if err := b.WriteJSON(context.Background(), driftcheck.Key(rep.ID, "report.json"), rep); err != nil {
		t.Fatal(err)
	}
	b.Close()
	for _, tc := range []struct {
		name, content, want string
		ok                  bool
	}{
		{"right", `{"report": "20261129T205108.000Z", "disparate_impact": 1.2791, "favourable_rate_F": 0.52, "favourable_rate_M": 0.78, "four_fifths_ratio": 0.6667}`,
			"exercise 5.2 (A fairness question): report 20261129T205108.000Z: mean-probability ratio 1.279; favourable rates F 0.520, M 0.780, ratio 0.667 fails the four-fifths rule", true},
		{"ratio of the wrong groups", `{"report": "20261129T205108.000Z", "disparate_impact": 0.782, "favourable_rate_F": 0.52, "favourable_rate_M": 0.78, "four_fifths_ratio": 0.6667}`,
			"exercise 5.2 (A fairness question): your disparate impact 0.782 is not the report's 1.279", false},
		{"higher over lower", `{"report": "20261129T205108.000Z", "disparate_impact": 1.279, "favourable_rate_F": 0.52, "favourable_rate_M": 0.78, "four_fifths_ratio": 1.5}`,
			"exercise 5.2 (A fairness question): four_fifths_ratio 1.500 is not the lower favourable rate over the higher", false},
		{"unknown report", `{"report": "yesterday"}`, `exercise 5.2 (A fairness question): lab5.json names report "yesterday", which is not in the bucket`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeExercise(t, home, "lab5.json", tc.content)
			got := checkExercises(t, 5)
			// Exercise 5.1 is done: vehicle_age drifted, which no step of the lab moves.
			if len(got["ok"]) == 0 || !strings.HasPrefix(got["ok"][0], "exercise 5.1 (A drift scenario of your own): a drift check found your scenario's drift in vehicle_age") {
				t.Errorf("ok %q; want exercise 5.1 first", got["ok"])
			}
			lines := got["todo"]
			if tc.ok {
				lines = got["ok"]
			}
			if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], tc.want) {
				t.Errorf("got %q; want a line starting %q", got, tc.want)
			}
		})
	}
}

// The lab's own steps drift annual_mileage and vehicle_type (steps 5 and 7)
// and, with the broker's book of step 6, home_area, usage and coverage: a
// bucket with only those reports has not seen exercise 5.1 done.
func TestExerciseFiveOneIsNotTheStepsOwnDrift(t *testing.T) {
	home, bucket := labEnvironment(t, t.TempDir())
	b, err := blobstore.Open(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	for i, cols := range [][]string{{"annual_mileage"}, {"home_area", "usage", "annual_mileage", "coverage"}, {"vehicle_type"}} {
		rep := driftcheck.Report{ID: fmt.Sprintf("20261129T2051%02d.000Z", i), Rows: 2000, DriftDetected: true}
		for _, c := range cols {
			rep.DriftedColumns = append(rep.DriftedColumns, driftcheck.Column{Column: c, Test: "wasserstein", Score: 0.4, Threshold: 0.1, Drifted: true})
		}
		if err := b.WriteJSON(context.Background(), driftcheck.Key(rep.ID, "report.json"), rep); err != nil {
			t.Fatal(err)
		}
	}
	b.Close()
	_ = home
	got := checkExercises(t, 5)
	for _, line := range got["ok"] {
		if strings.HasPrefix(line, "exercise 5.1") {
			t.Errorf("exercise 5.1 counted as done from the steps' own drift: %q", line)
		}
	}
	if len(got["todo"]) == 0 || !strings.HasPrefix(got["todo"][0], "exercise 5.1 (A drift scenario of your own): no drift report has found drift in a column other than") {
		t.Errorf("todo %q; want exercise 5.1 to be asked for", got["todo"])
	}
}

func TestExerciseSixReadsTheNotifications(t *testing.T) {
	home, _ := labEnvironment(t, t.TempDir())
	writeExercise(t, home, "notifications.jsonl", `{"type": "dev.claimrisk.model.promoted", "data": {"version": 2}}`+"\n")
	if got := checkExercises(t, 6); len(got["todo"]) != 2 || !strings.Contains(got["todo"][1], `has no line with "type": "dev.claimrisk.model.rejected" yet`) {
		t.Errorf("a promotion only: %q", got)
	}
	event, _ := json.Marshal(map[string]any{"type": "dev.claimrisk.model.rejected", "data": map[string]any{"version": 3}})
	writeExercise(t, home, "notifications.jsonl", `{"type": "dev.claimrisk.model.promoted"}`+"\n"+string(event)+"\n")
	if got := checkExercises(t, 6); len(got["ok"]) != 1 || got["ok"][0] != "exercise 6.2 (Notify on a rejection): your notifier received 1 dev.claimrisk.model.rejected event(s)" {
		t.Errorf("a rejection: %q", got)
	}
}

func TestClusterExerciseIsSkippedWithoutKubectl(t *testing.T) {
	labEnvironment(t, t.TempDir())
	t.Setenv("PATH", t.TempDir())
	got := checkExercises(t, 4)
	if len(got["skip"]) != 1 || got["skip"][0] != "exercise 4.3 (Change the autoscaling target on the cluster): no kubectl here; it is checked where the cluster runs" {
		t.Errorf("lines %q; want exercise 4.3 skipped", got)
	}
}
