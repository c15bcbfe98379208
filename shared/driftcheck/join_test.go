package driftcheck_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/schema"
)

func TestJoinByPolicyAndPredictionTime(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	pred := func(req, policy string, at time.Time) predlog.Row {
		return predlog.Row{Time: at, RequestID: req, PolicyRecord: schema.PolicyRecord{PolicyID: policy}}
	}
	// Policy A is quoted in January and renewed in a later window; B once; C twice in one request.
	preds := []predlog.Row{
		pred("r1", "A", t0), pred("r2", "A", t0.Add(30*24*time.Hour)),
		pred("r1", "B", t0),
		pred("r3", "C", t0.Add(time.Hour)), pred("r3", "D", t0.Add(time.Hour)),
	}
	later := t0.Add(200 * 24 * time.Hour)
	fb := []predlog.Feedback{
		// The renewal's outcome, named by its prediction time, months later.
		{Time: later, PolicyID: "A", PredictedAt: t0.Add(30 * 24 * time.Hour), Claim: 1},
		// B: by policy alone, arriving after its only prediction; then corrected.
		{Time: later, PolicyID: "B", Claim: 1},
		{Time: later.Add(time.Hour), PolicyID: "B", Claim: 0},
		// A whole request at once.
		{Time: later, RequestID: "r3", Claim: 1},
		// A time no prediction of A was made at labels nothing.
		{Time: later, PolicyID: "A", PredictedAt: t0.Add(time.Minute), Claim: 1},
	}
	got := map[string]int32{}
	for _, r := range driftcheck.Join(preds, fb) {
		got[fmt.Sprintf("%s@%s", r.PolicyID, r.Time.Format("01-02"))] = r.Claim
	}
	want := map[string]int32{"A@02-04": 1, "B@01-05": 0, "C@01-05": 1, "D@01-05": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("labels %v, want %v", got, want)
	}
	// Only the window that holds the renewal gets its label: January's
	// window alone does not take it.
	if rows := driftcheck.Join(preds[:1], fb[:1]); len(rows) != 0 {
		t.Errorf("the January prediction of A took the renewal's outcome: %+v", rows)
	}
}

// TestJoinByRequestAndPolicy labels the one prediction a request and a
// policy name, even when the ids hold the separator an older key used.
func TestJoinByRequestAndPolicy(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	preds := []predlog.Row{
		{Time: t0, RequestID: "x", PolicyRecord: schema.PolicyRecord{PolicyID: "y|z"}},
		{Time: t0, RequestID: "x|y", PolicyRecord: schema.PolicyRecord{PolicyID: "z"}},
		{Time: t0, RequestID: "r9", PolicyRecord: schema.PolicyRecord{PolicyID: "E"}},
		{Time: t0, RequestID: "r9", PolicyRecord: schema.PolicyRecord{PolicyID: "F"}},
	}
	fb := []predlog.Feedback{
		{Time: t0.Add(time.Hour), RequestID: "x", PolicyID: "y|z", Claim: 1},
		{Time: t0.Add(time.Hour), RequestID: "r9", PolicyID: "F", Claim: 1},
	}
	var got []string
	for _, r := range driftcheck.Join(preds, fb) {
		got = append(got, r.RequestID+" "+r.PolicyID)
	}
	if want := "[r9 F x y|z]"; fmt.Sprint(got) != want {
		t.Errorf("labelled %v, want %s", got, want)
	}
	if rows := driftcheck.Join(preds, nil); len(rows) != 0 {
		t.Errorf("no outcomes labelled %d rows", len(rows))
	}
}
