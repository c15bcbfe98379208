package driftcheck_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/claimrisk/claimrisk/shared/driftcheck"
)

func TestPolicyDecide(t *testing.T) {
	weights := map[string]float64{"age": 0.4, "coverage": 0.1, "deductible": 0.005, "home_area": 0.2}
	col := func(name string, drifted bool) driftcheck.Column {
		return driftcheck.Column{Column: name, Test: "wasserstein", Score: 0.2, Threshold: 0.1, Drifted: drifted}
	}
	// four is the four weighted features, those named drifted.
	four := func(drifted ...string) []driftcheck.Column {
		var out []driftcheck.Column
		for _, n := range []string{"age", "coverage", "deductible", "home_area"} {
			out = append(out, col(n, slices.Contains(drifted, n)))
		}
		return out
	}
	tests := []struct {
		name   string
		rules  map[string]string
		cols   []driftcheck.Column
		pred   bool
		fired  []string
		alerts []string
	}{
		{"nothing drifted", nil, []driftcheck.Column{col("age", false), col("coverage", false)}, false, []string{}, nil},
		{"one heavy feature alone raises the alarm", nil, four("age"), false, []string{driftcheck.FiredFeature}, []string{"age"}},
		{"a coverage shift raises it too", nil, four("coverage"), false, []string{driftcheck.FiredFeature}, []string{"coverage"}},
		{"a feature below the floor does not", nil, []driftcheck.Column{col("age", false), col("deductible", true), col("coverage", false), col("home_area", false)}, false, []string{}, nil},
		{"rule alert overrides the floor", map[string]string{"deductible": "alert"}, four("deductible"), false, []string{driftcheck.FiredFeature}, []string{"deductible"}},
		{"rule share silences a heavy feature", map[string]string{"age": "share"}, []driftcheck.Column{col("age", true), col("coverage", false), col("home_area", false), col("deductible", false)}, false, []string{}, nil},
		{"prediction drift alone", nil, []driftcheck.Column{col("deductible", false)}, true, []string{driftcheck.FiredPrediction}, nil},
		{"the dataset share alone", map[string]string{"age": "share", "coverage": "share"}, []driftcheck.Column{col("age", true), col("coverage", true), col("home_area", false)}, false, []string{driftcheck.FiredDataset}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := driftcheck.ParsePolicy(driftcheck.DefaultWeightFloor, tt.rules, nil)
			if err != nil {
				t.Fatal(err)
			}
			cols := slices.Clone(tt.cols)
			ds := driftcheck.DatasetVerdict(cols, 0.3)
			pred := driftcheck.PredictionDrift{Column: driftcheck.Column{Column: "probability", Drifted: tt.pred}}
			v := p.Decide(cols, weights, ds, pred)
			if !slices.Equal(v.Fired, tt.fired) {
				t.Errorf("fired %v, want %v (reasons %v)", v.Fired, tt.fired, v.Reasons)
			}
			if v.Detected != (len(tt.fired) > 0) || len(v.Reasons) != len(v.Fired) {
				t.Errorf("detected %v with reasons %v", v.Detected, v.Reasons)
			}
			var alerts []string
			for _, c := range cols {
				if c.Alert {
					alerts = append(alerts, c.Column)
				}
				if c.Weight != weights[c.Column] || c.Rule == "" {
					t.Errorf("%s: weight %v rule %q", c.Column, c.Weight, c.Rule)
				}
			}
			if !slices.Equal(alerts, tt.alerts) {
				t.Errorf("alerting columns %v, want %v", alerts, tt.alerts)
			}
		})
	}
}

func TestParsePolicy(t *testing.T) {
	p, err := driftcheck.ParsePolicy(0.05, map[string]string{"home_area": "alert"}, map[string]float64{"age": 0.5, "home_area": 0.01})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Features["age"]; got.Weight != 0.5 || got.Rule != driftcheck.RuleAuto {
		t.Errorf("age: %+v", got)
	}
	if got := p.Features["home_area"]; got.Weight != 0.01 || got.Rule != driftcheck.RuleAlert {
		t.Errorf("home_area: %+v", got)
	}
	for _, bad := range []struct {
		floor   float64
		rules   map[string]string
		weights map[string]float64
		want    string
	}{
		{0.05, map[string]string{"agee": "alert"}, nil, `"agee": not a monitored feature; choose from age, years_licensed`},
		{0.05, map[string]string{"age": "loud"}, nil, "the rule must be one of auto, alert, share"},
		{0.05, nil, map[string]float64{"age": 2}, "a weight lies between 0 and 1"},
		{math.NaN(), nil, nil, "the weight floor must be between 0 and 1"},
	} {
		_, err := driftcheck.ParsePolicy(bad.floor, bad.rules, bad.weights)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ParsePolicy(%v, %v, %v) = %v, want an error with %q", bad.floor, bad.rules, bad.weights, err, bad.want)
		}
	}
}
