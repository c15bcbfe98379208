package function

import (
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/training"
)

// This file is the one place that knows both a training's result and the
// "model trained" payload: shared/training speaks no events, shared/events
// knows no training.

// TrainedData is the "model trained" payload that announces r, whose runs
// are in the bucket at bucketURL: the best run, its objects' keys, and
// every candidate's figures in r.Runs' order. The reliability tests send
// it to register as train would.
func TrainedData(bucketURL string, r training.Result) events.ModelTrainedData {
	best := r.Best
	out := events.ModelTrainedData{
		Bucket:      bucketURL,
		RunID:       best.ID,
		Kind:        best.Kind,
		ModelKey:    runstore.Key(best.ID, runstore.ModelObject),
		RunKey:      runstore.Key(best.ID, runstore.RunObject),
		DatasetID:   best.DatasetID,
		Fingerprint: best.Fingerprint,
		Validation:  runstore.Key(best.ID, runstore.ValidationObject),
		Metrics:     best.Metrics,
		CodeVersion: best.CodeVersion,
		Trigger:     r.Trigger,
	}
	for _, run := range r.Runs {
		out.Candidates = append(out.Candidates, events.Candidate{RunID: run.ID, Kind: run.Kind,
			AUC: run.Metrics.AUC, Gini: run.Metrics.Gini, LogLoss: run.Metrics.LogLoss, Brier: run.Metrics.Brier})
	}
	return out
}
