// Package function is the predict function: a Knative Functions HTTP
// function that answers claim probabilities from the registry's champion,
// logs every answered prediction to the bucket, stores observed outcomes,
// and swaps in a new champion without failing a request in flight. The API
// contract is shared/predictapi; the payload log is shared/predlog.
package function

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/funcmain"
	"github.com/claimrisk/claimrisk/shared/logging"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/pseudonym"
	"github.com/claimrisk/claimrisk/shared/registry"
)

// loaded is a champion in memory.
type loaded struct {
	model    *model.Model
	version  registry.Version
	loadedAt time.Time
}

// Function serves predictions.
type Function struct {
	cfg         config.Predict
	log         *slog.Logger
	bucket      *blobstore.Bucket
	reg         *registry.Registry
	pseudo      *pseudonym.Pseudonymiser
	signer      *events.Signer
	predictions *predlog.Logger[predlog.Row]
	feedback    *predlog.Logger[predlog.Feedback]
	shadowLog   *predlog.Logger[predlog.ShadowRow]
	metrics     *metricSet
	// handler serves the API once Start has set up what it uses: func-go
	// runs Start in a goroutine while the server already serves.
	handler atomic.Pointer[http.Handler]

	current   atomic.Pointer[loaded]
	shadow    atomic.Pointer[loaded] // the challenger, scored in shadow
	regStatus atomic.Pointer[predictapi.RegistryStatus]
	reload    chan struct{}
	ready     atomic.Bool
	started   atomic.Bool
	stopOnce  sync.Once
	stop      chan struct{}
	loops     sync.WaitGroup
}

// New returns an unstarted function.
func New() *Function {
	f := &Function{log: logging.New(os.Stderr, "info", "predict"), reload: make(chan struct{}, 1), stop: make(chan struct{})}
	starting := http.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusServiceUnavailable, "predict: starting")
	}))
	f.handler.Store(&starting)
	return f
}

// RefreshTimeout bounds one look at the registry, so that a bucket that
// stops answering neither stalls the watcher for good nor holds up Stop.
const RefreshTimeout = 30 * time.Second

// Start reads the configuration, opens the bucket and the payload logs,
// and loads the champion in the background; Ready turns true once it is.
func (f *Function) Start(ctx context.Context, _ map[string]string) error {
	var cfg config.Predict
	if err := config.Load(&cfg); err != nil {
		return err
	}
	if cfg.RequireToken && cfg.APIToken == "" {
		return errors.New("predict: start: CLAIMRISK_REQUIRE_API_TOKEN is set but CLAIMRISK_API_TOKEN is empty, and the API would take predictions and labels from anyone; put the token in the claimrisk-api-token Secret (docs/deploy.md)")
	}
	if cfg.Instance == "" {
		cfg.Instance = randomID(4)
	}
	f.cfg = cfg
	log, b, err := funcmain.Open(ctx, "predict", cfg.Common)
	if err != nil {
		return err
	}
	f.log = log
	if f.pseudo, err = pseudonym.New(cfg.PseudonymKey); err != nil {
		return fmt.Errorf("predict: start: %w", err)
	}
	f.bucket, f.reg = b, registry.Open(b, model.Name)
	f.signer = events.NewSigner(cfg.EventKey)
	f.metrics = newMetrics()
	// logPace spreads each background flush of the logs over the requests
	// it shares the CPU with (predlog.Options.Pace).
	const logPace = time.Millisecond
	f.predictions = predlog.NewLogger[predlog.Row](b, predlog.Options{
		Prefix: predlog.PredictionsPrefix, Instance: cfg.Instance, BatchRows: cfg.LogBatchRows, MaxAge: cfg.LogMaxAge,
		Log: f.log, OnFlush: f.metrics.flushed("predictions"), Pace: logPace,
	})
	f.feedback = predlog.NewLogger[predlog.Feedback](b, predlog.Options{
		Prefix: predlog.FeedbackPrefix, Instance: cfg.Instance, BatchRows: cfg.LogBatchRows, MaxAge: cfg.LogMaxAge,
		Log: f.log, OnFlush: f.metrics.flushed("feedback"), Pace: logPace,
	})
	f.shadowLog = predlog.NewLogger[predlog.ShadowRow](b, predlog.Options{
		Prefix: predlog.ShadowPrefix, Instance: cfg.Instance, BatchRows: cfg.LogBatchRows, MaxAge: cfg.LogMaxAge,
		Log: f.log, OnFlush: f.metrics.flushed("shadow"), Pace: logPace,
	})
	f.metrics.pending(func() float64 {
		return float64(f.predictions.Pending() + f.feedback.Pending() + f.shadowLog.Pending())
	})
	routes := f.routes()
	f.handler.Store(&routes)
	f.started.Store(true)
	f.loops.Add(1)
	go f.watchChampion()
	f.log.Info("predict function started; loading the champion", "bucket", b.URL, "max_records", cfg.MaxRecords, "instance", cfg.Instance)
	return nil
}

// Stop turns readiness off, stops watching the registry and writes every
// buffered payload-log row; Knative sends SIGTERM before scaling to zero,
// and the runtime calls Stop after in-flight requests have finished.
func (f *Function) Stop(ctx context.Context) error {
	f.ready.Store(false)
	if !f.started.Load() {
		return nil
	}
	f.stopOnce.Do(func() { close(f.stop) })
	// The watcher stops at once unless a look at the registry is under way;
	// that look gives up within RefreshTimeout, and Stop waits no longer
	// than ctx allows: the payload log comes first.
	watched := make(chan struct{})
	go func() { f.loops.Wait(); close(watched) }()
	var errW error
	select {
	case <-watched:
	case <-ctx.Done():
		errW = fmt.Errorf("predict: stop: the registry watcher is still waiting for the bucket: %w", ctx.Err())
	}
	errP := f.predictions.Close(ctx)
	errF := f.feedback.Close(ctx)
	errS := f.shadowLog.Close(ctx)
	f.log.Info("predict function stopped; payload log flushed", "unwritten_rows", f.predictions.Pending()+f.feedback.Pending()+f.shadowLog.Pending())
	if errW != nil {
		// The bucket stays open for the watcher, which still uses it.
		return errors.Join(errW, errP, errF, errS)
	}
	return errors.Join(errP, errF, errS, f.bucket.Close())
}

// Ready reports whether a champion is loaded.
func (f *Function) Ready(context.Context) (bool, error) { return f.ready.Load(), nil }

// Alive reports that the process is serving.
func (f *Function) Alive(context.Context) (bool, error) { return true, nil }

// Handle serves every path but the runtime's health endpoints.
func (f *Function) Handle(w http.ResponseWriter, r *http.Request) {
	(*f.handler.Load()).ServeHTTP(w, r)
}

// watchChampion loads the champion, then reloads it on a promotion event or
// when the poll sees the alias move.
func (f *Function) watchChampion() {
	defer f.loops.Done()
	wait := 500 * time.Millisecond
	// A look at the registry ends when Stop is called, or after RefreshTimeout.
	stopped, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-f.stop:
			cancel()
		case <-stopped.Done():
		}
	}()
	for {
		ctx, done := context.WithTimeout(stopped, RefreshTimeout)
		err := f.refresh(ctx)
		done()
		if stopped.Err() != nil {
			return
		}
		switch {
		case err != nil && f.current.Load() == nil:
			f.log.Warn("no champion to serve yet; retrying", "error", err.Error(), "retry_in", wait.String())
		case err != nil:
			f.log.Warn("cannot check the registry; serving the current champion", "version", f.current.Load().version.Version, "error", err.Error())
		}
		next := f.cfg.PollInterval
		if f.current.Load() == nil {
			next, wait = wait, min(wait*2, f.cfg.PollInterval)
		}
		select {
		case <-f.stop:
			return
		case <-f.reload:
		case <-time.After(next):
		}
	}
}

// refresh loads the champion if it is not the one in memory.
func (f *Function) refresh(ctx context.Context) error {
	state, err := f.reg.Aliases(ctx)
	now := time.Now().UTC()
	if err != nil {
		f.regStatus.Store(&predictapi.RegistryStatus{Reachable: false, CheckedAt: now, Error: err.Error()})
		return err
	}
	f.regStatus.Store(&predictapi.RegistryStatus{Reachable: true, CheckedAt: now})
	v, ok := state.Aliases[registry.Champion]
	if !ok {
		return fmt.Errorf("%s has no champion yet", f.reg.Name())
	}
	f.refreshShadow(ctx, state.Aliases[registry.Challenger], v, now)
	if cur := f.current.Load(); cur != nil && cur.version.Version == v {
		return nil
	}
	ver, err := f.reg.Get(ctx, v)
	if err != nil {
		return err
	}
	m, err := ver.LoadModel()
	if err != nil {
		f.regStatus.Store(&predictapi.RegistryStatus{Reachable: true, CheckedAt: now, Error: err.Error()})
		return fmt.Errorf("champion v%d cannot be served: %w", v, err)
	}
	prev := f.current.Swap(&loaded{model: m, version: ver, loadedAt: now})
	f.ready.Store(true)
	if prev == nil {
		f.log.Info("champion loaded; ready", "version", v, "kind", ver.Kind, "run_id", ver.Lineage.RunID)
	} else {
		f.log.Info("new champion swapped in", "version", v, "previous", prev.version.Version)
	}
	f.metrics.model(v)
	return nil
}

// requestReload asks the watcher to look at the registry now.
func (f *Function) requestReload() {
	select {
	case f.reload <- struct{}{}:
	default:
	}
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// requestID names one request: "req-" and 16 random hex digits, in one
// allocation.
func requestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	var out [4 + 16]byte
	copy(out[:], "req-")
	hex.Encode(out[4:], b[:])
	return string(out[:])
}
