package training

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/customers"
	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/features"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/parallel"
	"github.com/claimrisk/claimrisk/shared/runstore"
)

// Trainer trains candidates and stores them as runs.
type Trainer struct {
	Bucket *blobstore.Bucket
	Runs   *runstore.Store
	// Tracker logs runs to MLflow; nil when no server is configured.
	Tracker     *Tracker
	L2          float64
	CodeVersion string
	// ReferenceRows is the size of each run's reference sample
	// (DefaultReferenceRows when 0).
	ReferenceRows int
	// Pseudonymise must be safe for concurrent use: runs are built on
	// all cores.
	Pseudonymise func(string) string
	Log          *slog.Logger
}

// ErrNoData marks a training whose data does not exist (any more).
var ErrNoData = errors.New("training: no such data")

// TrainDataset trains on a stored dataset: every policy year but the last
// for fitting, the last for out-of-time validation.
func (t *Trainer) TrainDataset(ctx context.Context, datasetID, trigger string) (Result, error) {
	d, m, err := dataset.Load(ctx, t.Bucket, datasetID)
	if errors.Is(err, blobstore.ErrNotFound) {
		return Result{}, fmt.Errorf("%w: dataset %s is not in %s", ErrNoData, datasetID, t.Bucket.URL)
	}
	if err != nil {
		return Result{}, err
	}
	// The customers' attribute is written beside the training, which does
	// not read it; both must succeed for the training to.
	stored := make(chan error, 1)
	go func() { stored <- t.storeAttributes(ctx, d, m.ID()) }()
	res, err := t.trainInput(ctx, d, m, trigger)
	if serr := <-stored; serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

func (t *Trainer) trainInput(ctx context.Context, d *dataset.Dataset, m dataset.Manifest, trigger string) (Result, error) {
	in, err := InputFor(d, m)
	if err != nil {
		return Result{}, err
	}
	in.Trigger = trigger
	return t.Train(ctx, in)
}

// storeAttributes writes the dataset's customers' protected attribute,
// pseudonymised, for the drift function's fairness checks.
func (t *Trainer) storeAttributes(ctx context.Context, d *dataset.Dataset, id string) error {
	attrs := make([]customers.Attribute, len(d.Customers))
	parallel.For(len(d.Customers), parallel.Rows, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			c := &d.Customers[i]
			attrs[i] = customers.Attribute{Customer: t.Pseudonymise(c.CustomerID), Sex: c.Sex}
		}
	})
	return customers.Write(ctx, t.Bucket, "dataset-"+id, attrs)
}

// InputFor splits a dataset out of time: the last policy year validates.
func InputFor(d *dataset.Dataset, m dataset.Manifest) (Input, error) {
	exs, err := features.Examples(d.Customers, d.Policies, d.Claims, d.Accidents)
	if err != nil {
		return Input{}, fmt.Errorf("training: dataset %s: %w", m.ID(), err)
	}
	years := d.PolicyYears()
	if len(years) < 2 {
		return Input{}, fmt.Errorf("training: dataset %s has policies in %d year(s); out-of-time validation needs two or more", m.ID(), len(years))
	}
	train, valid := features.SplitByYear(exs, years[len(years)-1])
	return Input{
		DatasetID:   m.ID(),
		Fingerprint: m.Fingerprint,
		Train:       train,
		Valid:       valid,
		Accidents:   features.NewAccidentIndex(d.Accidents),
	}, nil
}

// Train fits every kind not yet trained on this input and reports the best
// candidate by out-of-time Gini.
func (t *Trainer) Train(ctx context.Context, in Input) (Result, error) {
	var runs []runstore.Run
	for _, kind := range model.Kinds {
		r, err := t.trainKind(ctx, in, kind)
		if err != nil {
			return Result{}, err
		}
		runs = append(runs, r)
	}
	out := ResultOf(runs)
	out.Trigger = in.Trigger
	return out, nil
}

// Result is what one training produced: a run of every kind, and the best
// of them, which goes on to the promotion gate.
type Result struct {
	// Runs holds one run per kind, in model.Kinds order.
	Runs []runstore.Run
	// Best is the best of Runs by out-of-time Gini, the first of equals.
	Best runstore.Run
	// Trigger names what asked for the training. A reused run keeps the
	// trigger it was first fitted for; this is the current training's.
	Trigger string
}

// ResultOf is the result of a training's runs, one per kind in
// model.Kinds order, with the best run's trigger. The register function
// rebuilds it from the stored runs when the "model trained" event was lost.
func ResultOf(runs []runstore.Run) Result {
	best := runs[0]
	for _, r := range runs[1:] {
		if r.Metrics.Gini > best.Metrics.Gini {
			best = r
		}
	}
	return Result{Runs: runs, Best: best, Trigger: best.Trigger}
}

func (t *Trainer) trainKind(ctx context.Context, in Input, kind string) (runstore.Run, error) {
	id := RunID(in.Fingerprint, kind, t.L2, t.CodeVersion)
	log := t.Log.With("run_id", id, "kind", kind)
	r, err := t.Runs.Get(ctx, id)
	switch {
	case err == nil:
		log.Info("run already trained; reusing it")
		return t.track(ctx, r, log)
	case !errors.Is(err, runstore.ErrNotFound):
		return runstore.Run{}, err
	}
	log.Info("fitting", "train_rows", len(in.Train), "valid_rows", len(in.Valid))
	if in.ReferenceRows == 0 {
		in.ReferenceRows = t.ReferenceRows
	}
	f, err := Fit(in, kind, t.L2, t.Pseudonymise)
	if err != nil {
		return runstore.Run{}, err
	}
	modelJSON, err := f.Model.Encode()
	if err != nil {
		return runstore.Run{}, fmt.Errorf("training: encode %s: %w", kind, err)
	}
	r = runstore.Run{
		ID:          id,
		Kind:        kind,
		Created:     time.Now().UTC(),
		DatasetID:   in.DatasetID,
		Fingerprint: in.Fingerprint,
		TrainWindow: features.WindowOf(in.Train),
		ValidWindow: features.WindowOf(in.Valid),
		TrainRows:   len(in.Train),
		ValidRows:   len(in.Valid),
		L2:          t.L2,
		CodeVersion: t.CodeVersion,
		Trigger:     in.Trigger,
		LabelledKey: in.LabelledKey,
		FitSeconds:  f.Duration.Seconds(),
		Iterations:  f.Fit.Iterations,
		Metrics:     f.Metrics.Validation,
	}
	err = t.Runs.Save(ctx, r, runstore.Artifacts{
		Model:      modelJSON,
		Metrics:    f.Metrics,
		Features:   runstore.Describe(f.Model),
		Validation: f.Validation,
		Reference:  f.Reference,
		Plots:      f.Plots,
	})
	if err != nil {
		return runstore.Run{}, err
	}
	log.Info("run stored", "auc", r.Metrics.AUC, "gini", r.Metrics.Gini, "log_loss", r.Metrics.LogLoss, "fit_seconds", r.FitSeconds)
	return t.track(ctx, r, log)
}

// track logs a run to MLflow once. A failure is recorded in the run and
// logged; it never fails the training.
func (t *Trainer) track(ctx context.Context, r runstore.Run, log *slog.Logger) (runstore.Run, error) {
	if t.Tracker == nil || r.MLflowRunID != "" {
		return r, nil
	}
	mlflowID, err := t.Tracker.LogRun(ctx, r)
	if err != nil {
		log.Warn("MLflow tracking failed; the run is stored in the bucket and will be logged on a later delivery", "error", err.Error())
		r.MLflowError = err.Error()
	} else {
		log.Info("run logged to MLflow", "mlflow_run_id", mlflowID)
		r.MLflowRunID, r.MLflowError = mlflowID, ""
	}
	if err := t.Runs.SaveRun(ctx, r); err != nil {
		return runstore.Run{}, err
	}
	return r, nil
}
