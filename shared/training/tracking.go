package training

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/mlflow"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"gocloud.dev/gcerrors"
)

// Experiment is the MLflow experiment every run goes to.
const Experiment = "claim-risk"

// Tracker logs runs to an MLflow tracking server.
type Tracker struct {
	Client *mlflow.Client
	Bucket *blobstore.Bucket
}

// artifactsToLog maps run objects to their MLflow artifact paths.
var artifactsToLog = []struct{ object, path string }{
	{runstore.ModelObject, "model/model.json"},
	{runstore.FeaturesObject, "model/features.json"},
	{runstore.MetricsObject, "metrics.json"},
	{runstore.CalibrationObject, "plots/calibration.png"},
	{runstore.ROCObject, "plots/roc.png"},
	{runstore.LorenzObject, "plots/lorenz.png"},
}

// LogRun records a stored run in MLflow: parameters, metrics (calibration
// as steps), tags, the dataset as an input, and the artifacts.
func (t *Tracker) LogRun(ctx context.Context, r runstore.Run) (string, error) {
	// The bucket's claim names the MLflow run that stays for this training
	// run. A run finished but never claimed (its delivery was killed between
	// the two) is adopted rather than logged twice. A claimed run that
	// MLflow no longer holds (its store was replaced) is logged again.
	lost, err := t.claimed(ctx, r.ID)
	if err != nil {
		return "", err
	}
	if lost != "" {
		if _, held, err := t.Client.LookupRun(ctx, lost); err != nil || held {
			return lost, err
		}
	}
	expID, err := t.Client.EnsureExperiment(ctx, Experiment)
	if err != nil {
		return "", err
	}
	first, err := t.firstLogged(ctx, expID, r.ID)
	if err != nil {
		return "", err
	}
	if first != "" {
		return t.claim(ctx, r.ID, first, lost)
	}
	info, err := t.Client.CreateRun(ctx, expID, r.Kind+" · "+r.DatasetID, []mlflow.Tag{
		{Key: "claimrisk.run_id", Value: r.ID},
		{Key: "claimrisk.model_kind", Value: r.Kind},
		{Key: "claimrisk.trigger", Value: r.Trigger},
		{Key: "data_fingerprint", Value: r.Fingerprint},
		{Key: "mlflow.source.git.commit", Value: r.CodeVersion},
		{Key: "mlflow.source.name", Value: "functions/train"},
		{Key: "mlflow.note.content", Value: fmt.Sprintf("%s fitted on dataset %s (%d rows), validated out of time on %d rows starting %s to %s.",
			r.Kind, r.DatasetID, r.TrainRows, r.ValidRows, r.ValidWindow.From.Format(time.DateOnly), r.ValidWindow.To.Format(time.DateOnly))},
	})
	if err != nil {
		return "", err
	}
	if err := t.logData(ctx, info, r); err != nil {
		_ = t.Client.EndRun(ctx, info.RunID, "FAILED")
		return "", err
	}
	if err := t.Client.EndRun(ctx, info.RunID, "FINISHED"); err != nil {
		return "", err
	}
	// Replicas given the same event at once may each have logged a run. The
	// first to claim keeps its run; the others delete theirs. MLflow's
	// end_time cannot decide this: it is the client's clock, stamped before
	// the server commits.
	id, err := t.claim(ctx, r.ID, info.RunID, lost)
	if err != nil {
		return "", err
	}
	if id != info.RunID {
		if err := t.Client.DeleteRun(ctx, info.RunID); err != nil {
			return "", err
		}
	}
	return id, nil
}

// mlflowClaim is the bucket object that names a training run's MLflow run.
type mlflowClaim struct {
	MLflowRunID string `json:"mlflow_run_id"`
}

// claim records mlflowID as runID's MLflow run unless a run is recorded
// already, and returns the recorded one. A claim that still names lost, a
// run MLflow no longer holds, is removed first. (Two replicas replacing
// the same lost claim at once can each keep a run; the bucket cannot
// compare and swap. The claim still names one of them.)
func (t *Tracker) claim(ctx context.Context, runID, mlflowID, lost string) (string, error) {
	key := runstore.Key(runID, runstore.MLflowClaimObject)
	if lost != "" {
		if cur, err := t.claimed(ctx, runID); err != nil {
			return "", err
		} else if cur == lost {
			if err := t.Bucket.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
				return "", fmt.Errorf("training: replace MLflow claim of %s: %w", runID, err)
			}
		}
	}
	err := t.Bucket.CreateJSON(ctx, key, mlflowClaim{MLflowRunID: mlflowID})
	if err == nil {
		return mlflowID, nil
	}
	if !errors.Is(err, blobstore.ErrExists) {
		return "", fmt.Errorf("training: claim MLflow run of %s: %w", runID, err)
	}
	id, err := t.claimed(ctx, runID)
	if err == nil && id == "" {
		err = fmt.Errorf("training: claim MLflow run of %s: the claim names no run", runID)
	}
	return id, err
}

// claimed returns the MLflow run claimed for runID, or "" when none is.
func (t *Tracker) claimed(ctx context.Context, runID string) (string, error) {
	var c mlflowClaim
	err := t.Bucket.ReadJSON(ctx, runstore.Key(runID, runstore.MLflowClaimObject), &c)
	if errors.Is(err, blobstore.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("training: read MLflow claim of %s: %w", runID, err)
	}
	return c.MLflowRunID, nil
}

// firstLogged returns a finished MLflow run of a training run (the first to
// finish, then the lowest id), or "" when none finished.
func (t *Tracker) firstLogged(ctx context.Context, expID, runID string) (string, error) {
	found, err := t.Client.SearchRuns(ctx, []string{expID},
		fmt.Sprintf("tags.`claimrisk.run_id` = '%s' and attributes.status = 'FINISHED'", runID), 100)
	if err != nil {
		return "", err
	}
	first, firstEnd := "", mlflow.Millis(0)
	for _, f := range found {
		if first == "" || f.Info.EndTime < firstEnd || (f.Info.EndTime == firstEnd && f.Info.RunID < first) {
			first, firstEnd = f.Info.RunID, f.Info.EndTime
		}
	}
	return first, nil
}

func (t *Tracker) logData(ctx context.Context, info mlflow.RunInfo, r runstore.Run) error {
	now := time.Now().UnixMilli()
	var rm runstore.Metrics
	if err := t.Bucket.ReadJSON(ctx, runstore.Key(r.ID, runstore.MetricsObject), &rm); err != nil {
		return fmt.Errorf("training: track %s: %w", r.ID, err)
	}
	ms := []mlflow.Metric{
		{Key: "fit_seconds", Value: r.FitSeconds, Timestamp: now},
		{Key: "iterations", Value: float64(r.Iterations), Timestamp: now},
	}
	for _, s := range []struct {
		prefix string
		v      float64
	}{
		{"valid_auc", rm.Validation.AUC}, {"valid_gini", rm.Validation.Gini},
		{"valid_log_loss", rm.Validation.LogLoss}, {"valid_brier", rm.Validation.Brier},
		{"valid_mean_predicted", rm.Validation.MeanPredicted}, {"valid_observed_rate", rm.Validation.ObservedRate},
		{"train_auc", rm.Training.AUC}, {"train_gini", rm.Training.Gini},
		{"train_log_loss", rm.Training.LogLoss}, {"train_brier", rm.Training.Brier},
	} {
		ms = append(ms, mlflow.Metric{Key: s.prefix, Value: s.v, Timestamp: now})
	}
	for i, b := range rm.Validation.Calibration {
		ms = append(ms,
			mlflow.Metric{Key: "calibration_predicted", Value: b.MeanPredicted, Timestamp: now, Step: int64(i + 1)},
			mlflow.Metric{Key: "calibration_observed", Value: b.ObservedRate, Timestamp: now, Step: int64(i + 1)})
	}
	params := []mlflow.Param{
		{Key: "model_kind", Value: r.Kind},
		{Key: "l2", Value: strconv.FormatFloat(r.L2, 'g', -1, 64)},
		{Key: "dataset_id", Value: r.DatasetID},
		{Key: "train_rows", Value: strconv.Itoa(r.TrainRows)},
		{Key: "valid_rows", Value: strconv.Itoa(r.ValidRows)},
		{Key: "train_window", Value: r.TrainWindow.From.Format(time.DateOnly) + " to " + r.TrainWindow.To.Format(time.DateOnly)},
		{Key: "valid_window", Value: r.ValidWindow.From.Format(time.DateOnly) + " to " + r.ValidWindow.To.Format(time.DateOnly)},
		{Key: "code_version", Value: r.CodeVersion},
	}
	if err := t.Client.LogBatch(ctx, info.RunID, ms, params, nil); err != nil {
		return err
	}
	src := t.Bucket.URL + "/" + dataset.Prefix + r.DatasetID + "/"
	if err := t.Client.LogInput(ctx, info.RunID, mlflow.Dataset{
		Name: "claimrisk-" + r.DatasetID, Digest: r.Fingerprint, SourceType: "gocloud-blob",
		Source: fmt.Sprintf(`{"uri": %q}`, src),
	}, "training"); err != nil {
		return err
	}
	for _, a := range artifactsToLog {
		data, err := t.Bucket.Read(ctx, runstore.Key(r.ID, a.object))
		if err != nil {
			return fmt.Errorf("training: track %s: %w", r.ID, err)
		}
		if err := t.Client.LogArtifact(ctx, info, a.path, data); err != nil {
			return err
		}
	}
	return nil
}

// Ensure returns the MLflow run id of a stored run, logging the run to
// MLflow first if it never was (MLflow was down when it was trained) or if
// MLflow no longer holds it (its store was replaced).
func (t *Tracker) Ensure(ctx context.Context, runs *runstore.Store, runID string) (string, error) {
	r, err := runs.Get(ctx, runID)
	if err != nil {
		return "", err
	}
	if r.MLflowRunID != "" {
		if _, held, err := t.Client.LookupRun(ctx, r.MLflowRunID); err != nil || held {
			return r.MLflowRunID, err
		}
	}
	id, err := t.LogRun(ctx, r)
	if err != nil {
		return "", err
	}
	r.MLflowRunID, r.MLflowError = id, ""
	if err := runs.SaveRun(ctx, r); err != nil {
		return "", err
	}
	return id, nil
}
