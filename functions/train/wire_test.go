package function

import (
	"flag"
	"testing"

	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/metrics"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
	"github.com/claimrisk/claimrisk/shared/training"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json from the current mapping")

// TestModelTrainedPayload pins the "model trained" payload of a training
// result: field names, order, keys and which trigger it carries. A change
// to the wire (in events or in this mapping) fails here first; regenerate
// with -update only when the change is meant, and say so in the commit.
// The figures are made up: only where they land matters.
func TestModelTrainedPayload(t *testing.T) {
	t.Parallel()
	summary := func(auc, gini, logLoss, brier float64) metrics.Summary {
		return metrics.Summary{N: 1000, Positives: 103, AUC: auc, Gini: gini, LogLoss: logLoss, Brier: brier, MeanPredicted: 0.11, ObservedRate: 0.103,
			Calibration: []metrics.Bin{{N: 100, MeanPredicted: 0.02, ObservedRate: 0.01}}}
	}
	run := func(id, kind string, m metrics.Summary) runstore.Run {
		// A reused run keeps the trigger it was first fitted for.
		return runstore.Run{ID: id, Kind: kind, DatasetID: "c868cee26679f17d", Fingerprint: "5f0c", CodeVersion: "c34e5318ebc0",
			Trigger: "dataset scan", Metrics: m}
	}
	res := training.ResultOf([]runstore.Run{
		run("run-6bb9920d8321", model.KindLegacy, summary(0.6109, 0.2217, 0.3255, 0.0914)),
		run("run-480699f7a923", model.KindBase, summary(0.6287, 0.2573, 0.3229, 0.0909)),
		run("run-67c762333143", model.KindAccident, summary(0.7030, 0.4061, 0.3085, 0.0881)),
	})
	res.Trigger = events.DatasetUploaded

	e, err := events.New("trained-run-67c762333143-1", events.ModelTrained, events.SourceTrain, "run-67c762333143", TrainedData("file:///bucket", res))
	if err != nil {
		t.Fatal(err)
	}
	testenv.GoldenJSON(t, "model.trained.json", e.Data(), *update)

	// What train sends, register accepts.
	var back events.ModelTrainedData
	if err := events.Decode(e, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Validate(); err != nil {
		t.Errorf("register would refuse the payload: %v", err)
	}
}
