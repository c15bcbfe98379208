// Package function is the drift function: a Knative Functions CloudEvent
// function that, on the cron event, compares a window of the payload log
// with the champion's reference rows, writes a report to the bucket, and
// replies with "drift detected" when the thresholds are crossed. The check
// itself is shared/driftcheck.
package function

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/deadletter"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/funcmain"
	"github.com/claimrisk/claimrisk/shared/governance"
	"github.com/claimrisk/claimrisk/shared/logging"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/promotion"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
)

// RequestTimeout is how long one check may take; it matches the Knative
// Service's timeoutSeconds in config/knative.
const RequestTimeout = 300 * time.Second

// CheckExtension is the CloudEvent extension that tells the cron events
// apart: the drift schedule's pings carry check=drift.
const CheckExtension = "check"

// Function checks for drift.
type Function struct {
	funcmain.Lifecycle
	checker *driftcheck.Checker
	window  time.Duration
	bucket  *blobstore.Bucket
	log     *slog.Logger
	// one check at a time: each window starts where the last one ended
	checking sync.Mutex
}

// New returns an unstarted function.
func New() *Function { return &Function{log: logging.New(os.Stderr, "info", "drift")} }

// Start reads the configuration and opens the bucket.
func (f *Function) Start(ctx context.Context, _ map[string]string) error {
	var cfg config.Drift
	if err := config.Load(&cfg); err != nil {
		return err
	}
	log, b, err := funcmain.Open(ctx, "drift", cfg.Common)
	if err != nil {
		return err
	}
	policy, err := driftcheck.ParsePolicy(cfg.WeightFloor, cfg.FeatureRules, cfg.FeatureWeights)
	if err != nil {
		return fmt.Errorf("drift: start: %w", err)
	}
	c := &driftcheck.Checker{Bucket: b, Policy: policy, LabelHorizon: cfg.LabelHorizon, Registry: registry.Open(b, model.Name), Thresholds: driftcheck.Thresholds{
		MinRows: cfg.MinRows, MinLabels: cfg.MinLabels, DriftShare: cfg.DriftShare,
		MaxAUCDrop: cfg.MaxAUCDrop, MaxCalibrationGap: cfg.MaxCalibrationGap,
	}, Fairness: governance.PolicyWithin(cfg.FairnessLower, cfg.FairnessUpper),
		LogWait: cfg.LogMaxAge + cfg.LogSlack}
	f.checker, f.window, f.bucket, f.log = c, cfg.Window, b, log
	f.Started("drift", b, events.NewSigner(cfg.EventKey), log)
	log.Info("drift function ready", "bucket", b.URL, "window", cfg.Window.String(), "log_wait", c.LogWait.String(), "thresholds", fmt.Sprintf("%+v", c.Thresholds))
	return nil
}

// Handle runs a check on the drift schedule's cron event, and keeps the
// dead letters Knative's broker sends here.
func (f *Function) Handle(ctx context.Context, e event.Event) (*event.Event, error) {
	if l, ok := deadletter.FromKnative(e, time.Now()); ok {
		return nil, f.keepDeadLetter(ctx, l)
	}
	if err := f.Admit(e); err != nil {
		return nil, err
	}
	if e.Type() != events.Ping {
		return nil, cehttp.NewResult(http.StatusBadRequest, "drift: unsupported event type %q; want %s", e.Type(), events.Ping)
	}
	if v, ok := e.Extensions()[CheckExtension]; ok && fmt.Sprint(v) != "drift" {
		return nil, cehttp.NewResult(http.StatusBadRequest, "drift: this cron event asks for check=%v, not drift", v)
	}
	// The window ends now, on this function's clock, whatever time the
	// event claims (Admit refuses times far from now): reports are named
	// and ordered by when their checks ran.
	f.checking.Lock()
	defer f.checking.Unlock()
	log := f.log.With("event_id", e.ID())
	rep, err := f.checker.CheckFor(context.WithoutCancel(ctx), time.Now(), f.window, driftcheck.Trigger{EventID: e.ID(), EventTime: e.Time()})
	if errors.Is(err, driftcheck.ErrNoChampion) {
		log.Info("nothing to check: no champion yet")
		return nil, nil
	}
	if err != nil {
		return nil, f.Fail(e, err)
	}
	log.Info("drift check done", "report", rep.ID, "rows", rep.Rows, "drift_detected", rep.DriftDetected, "rules_fired", rep.RulesFired, "reasons", rep.Reasons)
	// The champion's factsheet plots its estimated and realised performance
	// window by window; this check added a window.
	if rep.Enough {
		if err := promotion.WriteFactsheets(context.WithoutCancel(ctx), f.checker.Registry, runstore.New(f.bucket), rep.ChampionVersion); err != nil {
			log.Warn("could not update the champion's factsheet", "version", rep.ChampionVersion, "error", err.Error())
		}
	}
	if rep.FairnessAlert {
		log.Warn("fairness alert", "report", rep.ID, "reasons", rep.FairnessReasons)
	}
	if !rep.DriftDetected {
		return nil, nil
	}
	data := events.DriftDetectedData{
		Bucket: f.bucket.URL, ReportKey: driftcheck.Key(rep.ID, "report.json"), ChampionVersion: rep.ChampionVersion,
		WindowFrom: rep.WindowFrom, WindowTo: rep.WindowTo, Reasons: rep.Reasons, RulesFired: rep.RulesFired, LabelledKey: rep.LabelledKey,
	}
	for _, c := range rep.DriftedColumns {
		data.DriftedColumns = append(data.DriftedColumns, events.DriftedColumn{Column: c.Column, Test: c.Test, Score: c.Score, Threshold: c.Threshold})
	}
	reply, err := events.New("drift-"+rep.ID, events.DriftDetected, events.SourceDrift, rep.ID, data)
	if err != nil {
		return nil, cehttp.NewResult(http.StatusInternalServerError, "drift: %v", err)
	}
	f.Sign(&reply)
	return &reply, nil
}

// keepDeadLetter writes an event the broker gave up on to the bucket under
// deadletter/, where `claimrisk deadletter list` shows it, so a restart of
// the sink loses nothing. It is taken without a signature check: it is only
// recorded, never acted on, and its signature may be why it was refused.
func (f *Function) keepDeadLetter(ctx context.Context, l deadletter.Letter) error {
	if ready, _ := f.Ready(ctx); !ready {
		return cehttp.NewResult(http.StatusServiceUnavailable, "drift: not ready yet")
	}
	key, err := deadletter.Write(context.WithoutCancel(ctx), f.bucket, l)
	if err != nil {
		f.log.Error("cannot keep a dead letter", "event_id", l.Event.ID(), "error", err.Error())
		return cehttp.NewResult(http.StatusServiceUnavailable, "drift: %v", err)
	}
	f.log.Warn("dead letter kept", "event_id", l.Event.ID(), "event_type", l.Event.Type(), "subscriber", l.Subscriber,
		"status", l.Status, "error", l.Error, "key", key)
	return nil
}
