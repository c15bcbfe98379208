package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/synth"
)

// windowPlan is a simulation in drift-check windows.
type windowPlan struct {
	seed                                       uint64
	policies, batch, windows, shiftFrom, delay int
	sink                                       string
	wait                                       time.Duration
}

// simulateWindows sends the plan's windows, each followed by the outcomes
// that arrive then and a drift check, and says where the estimate and the
// realised quality first raised their alarms.
func (a *app) simulateWindows(ctx context.Context, client *predictapi.Client, base synth.Config, sc synth.Scenario, p windowPlan) error {
	before := (p.shiftFrom - 1) * p.policies
	after := p.windows*p.policies - before
	base.Policies = max(base.Policies, 5*max(before, after))
	var draws []synth.Draw
	if before > 0 {
		calm, err := synth.Traffic(base, p.seed, before, synth.Scenarios[0])
		if err != nil {
			return err
		}
		draws = append(draws, calm...)
	}
	shifted, err := synth.Traffic(base, p.seed+1, after, sc)
	if err != nil {
		return err
	}
	draws = append(draws, shifted...)
	if err := a.storeAttributes(ctx, fmt.Sprintf("simulate-%d", p.seed), draws); err != nil {
		return err
	}
	outstanding := make([][]predictapi.Outcome, p.windows)
	estimated, realised := -1, -1
	for w := range p.windows {
		part := draws[w*p.policies : (w+1)*p.policies]
		name := sc.Name
		if w+1 < p.shiftFrom {
			name = "none"
		}
		for i := 0; i < len(part); i += p.batch {
			chunk := part[i:min(i+p.batch, len(part))]
			recs := make([]schema.PolicyRecord, len(chunk))
			for j, d := range chunk {
				recs[j] = d.Reported
			}
			resp, err := client.Predict(ctx, recs)
			if err != nil {
				return fmt.Errorf("window %d: /v1/predict: %w", w+1, err)
			}
			for _, d := range chunk {
				claim, at := d.Claim, resp.PredictedAt
				// A claims system knows the policy and when it was priced; the
				// request id rides along for the Evidently job, which joins
				// outcomes by request and policy.
				o := predictapi.Outcome{PolicyID: d.Reported.PolicyID, RequestID: resp.RequestID, Claim: &claim}
				if p.delay > 0 {
					o.PredictedAt = &at
				}
				outstanding[w] = append(outstanding[w], o)
			}
		}
		arrived := "no outcomes arrive"
		if j := w - p.delay; j >= 0 {
			for i := 0; i < len(outstanding[j]); i += p.batch {
				if _, err := client.Feedback(ctx, outstanding[j][i:min(i+p.batch, len(outstanding[j]))]); err != nil {
					return fmt.Errorf("window %d: /v1/feedback: %w", w+1, err)
				}
			}
			arrived = fmt.Sprintf("the outcomes of window %d arrive", j+1)
			outstanding[j] = nil
		}
		if err := client.Flush(ctx); err != nil {
			return fmt.Errorf("/v1/admin/flush: %w", err)
		}
		rep, err := a.driftCheck(ctx, p.sink, p.wait)
		if err != nil {
			return fmt.Errorf("window %d: %w", w+1, err)
		}
		verdict := "no drift"
		if rep.DriftDetected {
			verdict = "DRIFT DETECTED (" + strings.Join(rep.RulesFired, ", ") + ")"
		}
		est := ""
		if e := rep.Estimate; e != nil {
			est = fmt.Sprintf("; estimated AUC %.3f [%.3f, %.3f]", e.AUC, e.AUCLower, e.AUCUpper)
		}
		for _, l := range rep.LateQuality {
			if l.Quality.AUC != nil {
				est += fmt.Sprintf("; realised AUC of an earlier window %.3f", *l.Quality.AUC)
			}
		}
		fmt.Fprintf(a.stdout, "window %d/%d: %s policies (%s), %s; %s%s\n", w+1, p.windows, thousands(len(part)), name, arrived, verdict, est)
		if estimated < 0 && slices.Contains(rep.RulesFired, driftcheck.FiredEstimate) {
			estimated = w + 1
		}
		if realised < 0 && realisedAUCFell(rep) {
			realised = w + 1
		}
	}
	left := 0
	for _, o := range outstanding {
		if len(o) > 0 {
			left++
		}
	}
	if left > 0 {
		fmt.Fprintf(a.stdout, "the outcomes of %d window(s) have not arrived yet (label delay %d windows)\n", left, p.delay)
	}
	switch {
	case estimated > 0 && realised > 0:
		fmt.Fprintf(a.stdout, "the estimated AUC raised its alarm at window %d, the realised AUC at window %d: %d windows earlier\n", estimated, realised, realised-estimated)
	case estimated > 0:
		fmt.Fprintf(a.stdout, "the estimated AUC raised its alarm at window %d; the realised AUC has not (yet)\n", estimated)
	case realised > 0:
		fmt.Fprintf(a.stdout, "the realised AUC fell at window %d; the estimate never raised its alarm\n", realised)
	}
	return nil
}

// realisedAUCFell reports whether the check found a realised AUC, of its
// own window or of one whose outcomes arrived late, more than the allowed
// drop below the validation AUC.
func realisedAUCFell(rep driftcheck.Report) bool {
	fell := func(q driftcheck.Quality) bool {
		return q.LabelledRows >= rep.Thresholds.MinLabels && q.AUC != nil && *q.AUC < q.ReferenceAUC-rep.Thresholds.MaxAUCDrop
	}
	if rep.Quality != nil && fell(*rep.Quality) {
		return true
	}
	for _, l := range rep.LateQuality {
		if fell(l.Quality) {
			return true
		}
	}
	return false
}
