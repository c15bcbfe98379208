package driftcheck

import (
	"sort"

	"github.com/claimrisk/claimrisk/shared/predlog"
)

// Join matches outcomes to the logged predictions they label, whichever
// window the outcome arrives in:
//   - an outcome with a request id and a policy labels that prediction; with
//     a request id alone, every prediction of the request;
//   - an outcome with a policy and the prediction's time (predicted_at)
//     labels the policy's prediction made at that time;
//   - an outcome with a policy alone labels the policy's latest prediction
//     made before the outcome arrived.
//
// When outcomes repeat for a prediction, the one reported last wins. The
// labelled predictions are returned as reference rows, ordered by time.
func Join(preds []predlog.Row, fb []predlog.Feedback) []predlog.ReferenceRow {
	fb = append([]predlog.Feedback(nil), fb...)
	sort.SliceStable(fb, func(i, j int) bool { return fb[i].Time.Before(fb[j].Time) })
	// Only the predictions an outcome names are indexed: a window has far
	// more predictions than outcomes, often none.
	type pair struct{ request, policy string }
	wantPair, wantReq, wantPolicy := map[pair]bool{}, map[string]bool{}, map[string]bool{}
	for _, f := range fb {
		switch {
		case f.RequestID != "" && f.PolicyID != "":
			wantPair[pair{f.RequestID, f.PolicyID}] = true
		case f.RequestID != "":
			wantReq[f.RequestID] = true
		case f.PolicyID != "":
			wantPolicy[f.PolicyID] = true
		}
	}
	byReqPolicy := map[pair]int{}
	byReq, byPolicy := map[string][]int{}, map[string][]int{}
	if len(fb) > 0 {
		for i, p := range preds {
			if k := (pair{p.RequestID, p.PolicyID}); wantPair[k] {
				byReqPolicy[k] = i
			}
			if wantReq[p.RequestID] {
				byReq[p.RequestID] = append(byReq[p.RequestID], i)
			}
			if wantPolicy[p.PolicyID] {
				byPolicy[p.PolicyID] = append(byPolicy[p.PolicyID], i)
			}
		}
	}
	for _, idx := range byPolicy {
		sort.SliceStable(idx, func(a, b int) bool { return preds[idx[a]].Time.Before(preds[idx[b]].Time) })
	}
	label := map[int]int32{}
	for _, f := range fb {
		switch {
		case f.RequestID != "" && f.PolicyID != "":
			if i, ok := byReqPolicy[pair{f.RequestID, f.PolicyID}]; ok {
				label[i] = f.Claim
			}
		case f.RequestID != "":
			for _, i := range byReq[f.RequestID] {
				label[i] = f.Claim
			}
		case f.PolicyID != "" && !f.PredictedAt.IsZero():
			for _, i := range byPolicy[f.PolicyID] {
				if preds[i].Time.Equal(f.PredictedAt) {
					label[i] = f.Claim
				}
			}
		case f.PolicyID != "":
			idx := byPolicy[f.PolicyID]
			// The latest prediction at or before the outcome's arrival.
			k := sort.Search(len(idx), func(k int) bool { return preds[idx[k]].Time.After(f.Time) })
			if k > 0 {
				label[idx[k-1]] = f.Claim
			}
		}
	}
	out := make([]predlog.ReferenceRow, 0, len(label))
	for i, claim := range label {
		p := preds[i]
		out = append(out, predlog.ReferenceRow{Row: p, StartDate: dateOf(p.Time), Claim: claim})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.Before(out[j].Time)
		}
		if out[i].RequestID != out[j].RequestID {
			return out[i].RequestID < out[j].RequestID
		}
		return out[i].PolicyID < out[j].PolicyID
	})
	return out
}
