// Package function is the train function: a Knative Functions CloudEvent
// function in the instanced Go style (New, Handle, Start, Stop, Ready,
// Alive). It trains on "dataset uploaded" events and replies with
// "model trained". The training pipeline itself is shared/training.
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
	"golang.org/x/sync/singleflight"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/funcmain"
	"github.com/claimrisk/claimrisk/shared/logging"
	"github.com/claimrisk/claimrisk/shared/mlflow"
	"github.com/claimrisk/claimrisk/shared/pseudonym"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/training"
	"github.com/claimrisk/claimrisk/shared/version"
)

// RequestTimeout is how long one delivery may train. It matches the
// Knative Service's timeoutSeconds (600, Knative's maximum) in
// config/knative; cmd/main.go sets the server's timeouts to it.
const RequestTimeout = 600 * time.Second

// Function trains models on data events.
type Function struct {
	funcmain.Lifecycle
	trainer *training.Trainer
	bucket  *blobstore.Bucket
	log     *slog.Logger
	flight  singleflight.Group
}

// New returns an unstarted function.
func New() *Function {
	return &Function{log: logging.New(os.Stderr, "info", "train")}
}

// Start reads the configuration and opens the bucket.
func (f *Function) Start(ctx context.Context, _ map[string]string) error {
	var cfg config.Train
	if err := config.Load(&cfg); err != nil {
		return err
	}
	if cfg.ReferenceRows < 100 {
		return fmt.Errorf("train: start: CLAIMRISK_REFERENCE_ROWS is %d; a reference needs at least 100 rows (default 5000)", cfg.ReferenceRows)
	}
	log, b, err := funcmain.Open(ctx, "train", cfg.Common)
	if err != nil {
		return err
	}
	p, err := pseudonym.New(cfg.PseudonymKey)
	if err != nil {
		return fmt.Errorf("train: start: %w", err)
	}
	codeVersion := cfg.CodeVersion
	if codeVersion == "" {
		codeVersion = version.String()
	}
	t := &training.Trainer{
		Bucket: b, Runs: runstore.New(b), L2: cfg.L2, CodeVersion: codeVersion, ReferenceRows: cfg.ReferenceRows,
		Pseudonymise: p.Of, Log: log,
	}
	if cfg.MLflowURI != "" {
		c, err := mlflow.New(cfg.MLflowURI, mlflow.WithBasicAuth(cfg.MLflowUser, cfg.MLflowPassword))
		if err != nil {
			return fmt.Errorf("train: start: %w", err)
		}
		t.Tracker = &training.Tracker{Client: c, Bucket: b}
	}
	f.trainer, f.bucket, f.log = t, b, log
	f.Started("train", b, events.NewSigner(cfg.EventKey), log)
	log.Info("train function ready", "bucket", b.URL, "mlflow", logging.Redact(cfg.MLflowURI), "code_version", codeVersion)
	return nil
}

// Handle trains on a data event and replies with "model trained".
func (f *Function) Handle(ctx context.Context, e event.Event) (*event.Event, error) {
	if err := f.Admit(e); err != nil {
		return nil, err
	}
	log := f.log.With("event_id", e.ID(), "event_type", e.Type())
	// Training finishes even if the caller goes away: the result is stored
	// and a redelivery finds it. Concurrent deliveries share one training.
	work := context.WithoutCancel(ctx)
	var (
		key   string
		train func() (training.Result, error)
	)
	switch e.Type() {
	case events.DatasetUploaded:
		var d events.DatasetUploadedData
		if err := events.Decode(e, &d); err != nil {
			return nil, f.Fail(e, err)
		}
		if err := d.Validate(); err != nil {
			return nil, f.Fail(e, err)
		}
		if err := f.sameBucket(d.Bucket); err != nil {
			return nil, f.Fail(e, err)
		}
		key = d.DatasetID
		train = func() (training.Result, error) { return f.trainer.TrainDataset(work, d.DatasetID, e.Type()) }
	case events.DriftDetected:
		var d events.DriftDetectedData
		if err := events.Decode(e, &d); err != nil {
			return nil, f.Fail(e, err)
		}
		if err := d.Validate(); err != nil {
			return nil, f.Fail(e, err)
		}
		if err := f.sameBucket(d.Bucket); err != nil {
			return nil, f.Fail(e, err)
		}
		rep, err := driftcheck.ReadReport(work, f.bucket, d.ReportKey)
		if err != nil {
			return nil, f.Fail(e, err, driftcheck.ErrNotAReport)
		}
		key = "drift:" + rep.ID
		train = func() (training.Result, error) {
			return f.trainer.TrainDrift(work, rep.DatasetID, rep.LabelledKey, e.Type())
		}
	case events.Ping:
		if v := fmt.Sprint(e.Extensions()[CheckExtension]); v != "datasets" {
			return nil, cehttp.NewResult(http.StatusBadRequest, "train: this cron event asks for check=%s; train answers check=datasets", v)
		}
		ids, err := f.trainer.Untrained(work)
		if err != nil {
			return nil, f.Fail(e, fmt.Errorf("scan datasets: %w", err))
		}
		if len(ids) == 0 {
			log.Debug("dataset scan: every dataset is trained")
			return nil, nil
		}
		log.Info("dataset scan found untrained datasets; training the first", "datasets", ids)
		key = ids[0]
		train = func() (training.Result, error) { return f.trainer.TrainDataset(work, ids[0], "dataset scan") }
	default:
		return nil, cehttp.NewResult(http.StatusBadRequest, "train: unsupported event type %q; want %s, %s or %s (check=datasets)",
			e.Type(), events.DatasetUploaded, events.DriftDetected, events.Ping)
	}
	log.Info("training requested", "data", key)
	v, err, _ := f.flight.Do(key, func() (any, error) { return train() })
	if errors.Is(err, training.ErrNothingToLearn) {
		log.Info("not retraining: " + err.Error())
		return nil, nil
	}
	if err != nil {
		// Missing or invalid data cannot get better by retrying: 422, and
		// the broker sends the event to the dead letters at once.
		return nil, f.Fail(e, err, training.ErrNoData, dataset.ErrInvalid)
	}
	out := TrainedData(f.bucket.URL, v.(training.Result))
	reply, err := events.New("trained-"+out.RunID+"-"+e.ID(), events.ModelTrained, events.SourceTrain, out.RunID, out)
	if err != nil {
		return nil, cehttp.NewResult(http.StatusInternalServerError, "train: %v", err)
	}
	log.Info("training finished", "best_run_id", out.RunID, "kind", out.Kind, "gini", out.Metrics.Gini)
	f.Sign(&reply)
	return &reply, nil
}

// CheckExtension tells the cron events apart; the dataset scan's carry
// check=datasets.
const CheckExtension = "check"

func (f *Function) sameBucket(raw string) error {
	if raw != "" && !blobstore.SameBucket(raw, f.bucket.URL) {
		return fmt.Errorf("%w: the event names bucket %s but this function uses %s", funcmain.ErrPermanent, raw, f.bucket.URL)
	}
	return nil
}
