// Package function is the register function: a Knative Functions CloudEvent
// function that registers each trained candidate and lets the promotion
// gate decide whether it replaces the champion. It replies with
// "model promoted" or "model rejected". The gate is shared/promotion; the
// registry is shared/registry.
package function

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/funcmain"
	"github.com/claimrisk/claimrisk/shared/governance"
	"github.com/claimrisk/claimrisk/shared/logging"
	"github.com/claimrisk/claimrisk/shared/mlflow"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/promotion"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/training"
)

// Function judges trained models.
type Function struct {
	funcmain.Lifecycle
	gate           *promotion.Gate
	minShadow      int
	bucket         *blobstore.Bucket
	log            *slog.Logger
	reconcileAfter time.Duration
}

// New returns an unstarted function.
func New() *Function { return &Function{log: logging.New(os.Stderr, "info", "register")} }

// Start reads the configuration, opens the bucket and, with MLflow
// configured, heals the mirror in the background.
func (f *Function) Start(ctx context.Context, _ map[string]string) error {
	var cfg config.Register
	if err := config.Load(&cfg); err != nil {
		return err
	}
	log, b, err := funcmain.Open(ctx, "register", cfg.Common)
	if err != nil {
		return err
	}
	runs := runstore.New(b)
	reg := registry.Open(b, model.Name)
	gate := &promotion.Gate{
		Registry: reg, Runs: runs, Actor: "functions/register", Log: log,
		Policy: promotion.Policy{Margin: cfg.Margin, LogLossMargin: cfg.LogLossMargin, GiniTolerance: cfg.GiniTolerance,
			MinAUC: cfg.MinAUC, MinGini: cfg.MinGini, MaxCalibrationError: cfg.MaxCalibrationError,
			Slices:   governance.SliceCheck{MinRows: cfg.MinSliceRows, MinGini: cfg.MinSliceGini, LargeRows: cfg.LargeSliceRows},
			Fairness: governance.PolicyWithin(cfg.FairnessLower, cfg.FairnessUpper)},
	}
	if cfg.MLflowURI != "" {
		c, err := mlflow.New(cfg.MLflowURI, mlflow.WithBasicAuth(cfg.MLflowUser, cfg.MLflowPassword))
		if err != nil {
			return fmt.Errorf("register: start: %w", err)
		}
		tracker := &training.Tracker{Client: c, Bucket: b}
		mirror := &registry.Mirror{Client: c, Registry: reg, MLflowRun: func(ctx context.Context, runID string) (string, error) {
			return tracker.Ensure(ctx, runs, runID)
		}}
		gate.AfterChange = func(ctx context.Context) {
			if rep, err := mirror.Sync(ctx); err != nil {
				log.Warn("MLflow mirror is behind; the bucket stays the source of truth and the next sync heals it", "error", err.Error())
			} else if len(rep.Created) > 0 || len(rep.AliasesSet) > 0 || len(rep.AliasesClear) > 0 {
				log.Info("MLflow mirror synced", "created", rep.Created, "aliases_set", rep.AliasesSet, "aliases_cleared", rep.AliasesClear)
			}
		}
		go gate.AfterChange(context.WithoutCancel(ctx))
	}
	if cfg.ShadowMinLabels < 1 {
		return fmt.Errorf("register: start: CLAIMRISK_SHADOW_MIN_LABELS is %d; judging on shadow traffic needs at least 1 outcome", cfg.ShadowMinLabels)
	}
	f.gate, f.bucket, f.log, f.reconcileAfter, f.minShadow = gate, b, log, cfg.ReconcileAfter, cfg.ShadowMinLabels
	f.Started("register", b, events.NewSigner(cfg.EventKey), log)
	log.Info("register function ready", "bucket", b.URL, "mlflow", logging.Redact(cfg.MLflowURI), "policy", fmt.Sprintf("%+v", gate.Policy))
	return nil
}

// Handle judges a "model trained" event and replies with the decision.
func (f *Function) Handle(ctx context.Context, e event.Event) (*event.Event, error) {
	if err := f.Admit(e); err != nil {
		return nil, err
	}
	switch {
	case e.Type() == events.Ping && fmt.Sprint(e.Extensions()[CheckExtension]) == "datasets":
		return f.reconcile(ctx, e)
	case e.Type() == events.Ping && fmt.Sprint(e.Extensions()[CheckExtension]) == "shadow":
		return f.judgeShadow(ctx, e)
	case e.Type() == events.Ping:
		return nil, cehttp.NewResult(http.StatusBadRequest, "register: this cron event asks for check=%v; register answers check=datasets and check=shadow", e.Extensions()[CheckExtension])
	case e.Type() != events.ModelTrained:
		return nil, cehttp.NewResult(http.StatusBadRequest, "register: unsupported event type %q; want %s or %s (check=datasets or check=shadow)", e.Type(), events.ModelTrained, events.Ping)
	}
	var t events.ModelTrainedData
	if err := events.Decode(e, &t); err != nil {
		return nil, f.Fail(e, err)
	}
	if err := t.Validate(); err != nil {
		return nil, f.Fail(e, err)
	}
	if t.Bucket != "" && !blobstore.SameBucket(t.Bucket, f.bucket.URL) {
		return nil, f.Fail(e, fmt.Errorf("%w: the event names bucket %s but this function uses %s", funcmain.ErrPermanent, t.Bucket, f.bucket.URL))
	}
	d, err := f.gate.Judge(context.WithoutCancel(ctx), t.RunID)
	if err != nil {
		return nil, f.Fail(e, err, promotion.ErrInvalidCandidate)
	}
	return f.reply(d)
}

// reply is the event that announces a decision.
func (f *Function) reply(d promotion.Outcome) (*event.Event, error) {
	typ := events.ModelRejected
	if d.Promoted {
		typ = events.ModelPromoted
	}
	reply, err := events.New(fmt.Sprintf("decision-%s-v%d", model.Name, d.Version), typ, events.SourceRegister, fmt.Sprintf("%s/v%d", model.Name, d.Version), decisionData(f.gate.Registry, d))
	if err != nil {
		return nil, cehttp.NewResult(http.StatusInternalServerError, "register: %v", err)
	}
	f.Sign(&reply)
	return &reply, nil
}

// CheckExtension tells the cron events apart; the dataset scan's carry
// check=datasets.
const CheckExtension = "check"

// reconcile judges, on the dataset scan's cron event, every finished
// training whose "model trained" event never reached the registry (a
// broker that lost it, a dead letter), as if the event had come. It
// replies with the last promotion, else the last decision, so that a lost
// promotion reaches predict too; nothing to do is a plain acknowledgement.
func (f *Function) reconcile(ctx context.Context, e event.Event) (*event.Event, error) {
	work := context.WithoutCancel(ctx)
	log := f.log.With("event_id", e.ID())
	pending, err := promotion.Undecided(work, f.gate.Runs, f.gate.Registry, time.Now().Add(-f.reconcileAfter))
	if err != nil {
		return nil, f.Fail(e, fmt.Errorf("reconcile: %w", err))
	}
	var last *promotion.Outcome
	for _, r := range pending {
		runID := r.Best.ID
		log.Info("a training without a decision: judging it now", "run_id", runID, "dataset_id", r.Best.DatasetID, "trigger", r.Trigger)
		d, err := f.gate.Judge(work, runID)
		if errors.Is(err, promotion.ErrInvalidCandidate) {
			log.Warn("cannot judge it; it stays undecided", "run_id", runID, "error", err.Error())
			continue
		}
		if err != nil {
			return nil, f.Fail(e, fmt.Errorf("reconcile %s: %w", runID, err))
		}
		if last == nil || d.Promoted || !last.Promoted {
			last = &d
		}
	}
	if last == nil {
		log.Debug("dataset scan: every training has a decision")
		return nil, nil
	}
	return f.reply(*last)
}
