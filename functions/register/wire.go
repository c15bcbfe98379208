package function

import (
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/promotion"
	"github.com/claimrisk/claimrisk/shared/registry"
)

// This file is the one place that knows both the gate's answers and the
// "model promoted" and "model rejected" payloads; the gate speaks no
// events. Of "model trained", register reads the run id alone.

// decisionData is the payload that announces the gate's outcome on a
// candidate registered in reg.
func decisionData(reg *registry.Registry, o promotion.Outcome) events.Decision {
	return events.Decision{
		Bucket: reg.Bucket().URL, Model: reg.Name(), Version: o.Version, RunID: o.RunID,
		Promoted: o.Promoted, Reason: o.Reason, ChampionVersion: o.ChampionVersion,
		ChallengerMetrics: o.ChallengerMetrics, ChampionMetrics: o.ChampionMetrics,
	}
}

// shadowData is the payload that announces a shadow judgement in reg. It
// names no run: the challenger was registered long before.
func shadowData(reg *registry.Registry, d promotion.ShadowDecision) events.Decision {
	data := events.Decision{Bucket: reg.Bucket().URL, Model: reg.Name(), Version: d.Challenger, Promoted: d.Promoted, Reason: d.Reason, ChampionVersion: d.Champion}
	if d.ChallengerMetrics != nil {
		data.ChallengerMetrics = *d.ChallengerMetrics
	}
	data.ChampionMetrics = d.ChampionMetrics
	return data
}
