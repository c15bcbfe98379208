package function

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/metrics"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/promotion"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json from the current mapping")

// TestDecisionPayloads pins the payloads register sends for the gate's
// outcomes and for a shadow promotion: field names, order, and which
// fields are left out when empty. A change to the wire (in events or in
// this mapping) fails here first; regenerate with -update only when the
// change is meant, and say so in the commit. The figures are made up:
// only where they land matters.
func TestDecisionPayloads(t *testing.T) {
	t.Parallel()
	b, err := blobstore.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	reg := registry.Open(b, model.Name)
	challenger := metrics.Summary{N: 1500, Positives: 242, AUC: 0.7091, Gini: 0.4182, LogLoss: 0.4035, Brier: 0.1247, MeanPredicted: 0.1686, ObservedRate: 0.1613,
		Calibration: []metrics.Bin{{N: 150, MeanPredicted: 0.0461, ObservedRate: 0.0333}}}
	champion := metrics.Summary{N: 1500, Positives: 242, AUC: 0.7090, Gini: 0.4180, LogLoss: 0.4170, Brier: 0.1283, MeanPredicted: 0.1083, ObservedRate: 0.1613}
	at := time.Date(2026, 12, 3, 23, 1, 30, 0, time.UTC) // recorded, never sent
	for _, tt := range []struct {
		file, typ string
		data      events.Decision
	}{
		{"model.promoted.json", events.ModelPromoted, decisionData(reg, promotion.Outcome{RunID: "run-d9fd7544d9c4", Decision: registry.Decision{
			Version: 2, Time: at, Actor: "functions/register", Promoted: true, ChampionVersion: 1, Reason: "out-of-time Gini beats champion v1's",
			ChallengerMetrics: challenger, ChampionMetrics: &champion}})},
		{"model.rejected.json", events.ModelRejected, decisionData(reg, promotion.Outcome{RunID: "run-b571f735bdd6", Decision: registry.Decision{
			Version: 3, Time: at, Actor: "functions/register", Reason: "out-of-time AUC is below the floor", ChallengerMetrics: challenger}})},
		{"model.promoted.shadow.json", events.ModelPromoted, shadowData(reg, promotion.ShadowDecision{
			Time: at, Challenger: 4, Champion: 2, ShadowRows: 3000, LabelledRows: 800, MinLabels: 500, Promoted: true, Reason: "ranks better on shadow traffic",
			ChallengerMetrics: &challenger, ChampionMetrics: &champion})},
	} {
		t.Run(tt.file, func(t *testing.T) {
			e, err := events.New("decision-1", tt.typ, events.SourceRegister, "", tt.data)
			if err != nil {
				t.Fatal(err)
			}
			testenv.GoldenJSON(t, tt.file, e.Data(), *update)
		})
	}
}
