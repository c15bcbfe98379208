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
	return newJoiner(fb).join(preds)
}

// pair is a request and a policy in it.
type pair struct{ request, policy string }

// joiner is Join's outcomes, indexed by what they name.
type joiner struct {
	fb                  []predlog.Feedback // by time of arrival
	wantPair            map[pair]bool
	wantReq, wantPolicy map[string]bool
}

func newJoiner(fb []predlog.Feedback) *joiner {
	fb = append([]predlog.Feedback(nil), fb...)
	sort.SliceStable(fb, func(i, j int) bool { return fb[i].Time.Before(fb[j].Time) })
	j := &joiner{fb: fb, wantPair: map[pair]bool{}, wantReq: map[string]bool{}, wantPolicy: map[string]bool{}}
	for _, f := range fb {
		switch {
		case f.RequestID != "" && f.PolicyID != "":
			j.wantPair[pair{f.RequestID, f.PolicyID}] = true
		case f.RequestID != "":
			j.wantReq[f.RequestID] = true
		case f.PolicyID != "":
			j.wantPolicy[f.PolicyID] = true
		}
	}
	return j
}

// names tells whether an outcome names prediction p: only those can be
// labelled, so join needs no other (a window has far more predictions than
// outcomes, often none).
func (j *joiner) names(p *predlog.Row) bool {
	return len(j.fb) > 0 && (j.wantPair[pair{p.RequestID, p.PolicyID}] || j.wantReq[p.RequestID] || j.wantPolicy[p.PolicyID])
}

// join labels preds as Join does.
func (j *joiner) join(preds []predlog.Row) []predlog.ReferenceRow {
	fb := j.fb
	byReqPolicy := map[pair]int{}
	byReq, byPolicy := map[string][]int{}, map[string][]int{}
	if len(fb) > 0 {
		for i, p := range preds {
			if k := (pair{p.RequestID, p.PolicyID}); j.wantPair[k] {
				byReqPolicy[k] = i
			}
			if j.wantReq[p.RequestID] {
				byReq[p.RequestID] = append(byReq[p.RequestID], i)
			}
			if j.wantPolicy[p.PolicyID] {
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
