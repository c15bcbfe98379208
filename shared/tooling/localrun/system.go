package localrun

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/claimrisk/claimrisk/config/knative"
	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/deadletter"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/fnspec"
)

// Options configure a local system.
type Options struct {
	// BinDir holds the function binaries.
	BinDir string
	// Bucket is the bucket URL every function shares.
	Bucket string
	// Home holds logs, MLflow's data and the state file.
	Home string
	// BasePort is the broker's port; each function takes BasePort plus
	// its PortOffset in shared/fnspec.
	BasePort int
	// MLflow is the mlflow command, or "" to run without a tracking server.
	MLflow     string
	MLflowPort int
	// Python runs the Evidently job and UI, or "" to run without them.
	Python        string
	EvidentlyPort int
	// DriftInterval is how often the cron event is sent (0: never).
	DriftInterval time.Duration
	// Env is added to every function's environment.
	Env []string
	// Only, when set, limits the functions started to these names.
	Only []string
	// Triggers are applied by the broker beside those of config/knative/base.
	Triggers []Trigger
	Log      *slog.Logger
}

// Component is a running part of the system.
type Component struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// System is a running local claimrisk.
type System struct {
	Components []Component
	Broker     *Broker
	procs      []*Process
	server     *http.Server
	stopCron   context.CancelFunc
	cronDone   chan struct{}
	stopJobs   context.CancelFunc
	jobsDone   chan struct{}
	home       string
	// wroteState is set once this system wrote the state file, which Stop
	// then removes: a start that fails (a port in use by another system in
	// the same home) must not remove the other's.
	wroteState bool
}

// LocalDefaults are the settings a local system gives its functions unless
// the environment sets them: on one machine the payload log can be flushed
// every 2 s, so that a drift check, which waits for the flush interval and
// the slack after its window ends, answers in 3 s, not 13.
func LocalDefaults() []string {
	var out []string
	for _, kv := range [][2]string{{"CLAIMRISK_LOG_MAX_AGE", "2s"}, {"CLAIMRISK_LOG_SLACK", "1s"}} {
		if _, set := os.LookupEnv(kv[0]); !set {
			out = append(out, kv[0]+"="+kv[1])
		}
	}
	return out
}

// StateFile is where a running system writes its component URLs.
func StateFile(home string) string { return filepath.Join(home, "up.json") }

// ReadState returns the component URLs of a running `claimrisk up`.
func ReadState(home string) (map[string]string, error) {
	data, err := os.ReadFile(StateFile(home))
	if err != nil {
		return nil, err
	}
	var comps []Component
	if err := json.Unmarshal(data, &comps); err != nil {
		return nil, fmt.Errorf("localrun: %s: %w", StateFile(home), err)
	}
	out := map[string]string{}
	for _, c := range comps {
		out[c.Name] = c.URL
	}
	return out, nil
}

// URL of a component.
func (s *System) URL(name string) string {
	for _, c := range s.Components {
		if c.Name == name {
			return c.URL
		}
	}
	return ""
}

// Start brings the system up: MLflow (when configured), the broker, and
// every function binary found in BinDir. On error, and when ctx ends
// before it is up (Ctrl-C while MLflow starts, say), it stops everything
// it started and returns the error.
func Start(ctx context.Context, o Options) (*System, error) {
	sys := &System{home: o.Home}
	if err := sys.start(ctx, o); err != nil {
		sys.Stop()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("localrun: interrupted while starting; stopped everything started so far: %w", ctx.Err())
		}
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		sys.Stop()
		return nil, fmt.Errorf("localrun: interrupted while starting; stopped everything started so far: %w", err)
	}
	return sys, nil
}

func (sys *System) start(ctx context.Context, o Options) error {
	logDir := filepath.Join(o.Home, "logs")
	b, err := blobstore.Open(ctx, o.Bucket)
	if err != nil {
		return err
	}
	bucketURL := b.URL
	addr := func(i int) string { return "127.0.0.1:" + strconv.Itoa(o.BasePort+i) }
	env := append(append([]string{"CLAIMRISK_BUCKET=" + bucketURL, "K_SINK=http://" + addr(0)}, LocalDefaults()...), o.Env...)

	if o.MLflow != "" {
		dir := filepath.Join(o.Home, "mlflow")
		mlAddr := "127.0.0.1:" + strconv.Itoa(o.MLflowPort)
		o.Log.Info("starting MLflow (the first start creates its database and takes a little while)", "url", "http://"+mlAddr)
		p, err := StartProcess(ctx, MLflowSpec(o.MLflow, dir, mlAddr), logDir)
		if err != nil {
			return err
		}
		sys.procs = append(sys.procs, p)
		sys.Components = append(sys.Components, Component{"mlflow", p.URL})
		env = append(env, "MLFLOW_TRACKING_URI="+p.URL)
	}

	triggers, err := LoadTriggers(knative.Base, "base")
	if err != nil {
		return err
	}
	for _, t := range o.Triggers {
		if slices.ContainsFunc(triggers, func(b Trigger) bool { return b.Name == t.Name }) {
			return fmt.Errorf("localrun: Trigger %s is already one of config/knative/base's; give the new one another name", t.Name)
		}
		triggers = append(triggers, t)
	}
	urls := map[string]string{}
	var mu sync.Mutex
	sys.Broker = &Broker{
		Triggers: triggers,
		Log:      o.Log.With("component", "broker"),
		Resolve: func(name string) (string, bool) {
			mu.Lock()
			defer mu.Unlock()
			u, ok := urls[name]
			return u, ok
		},
		OnDeadLetter: func(d DeadLetter) {
			o.Log.Error("dead letter: no subscriber accepted the event", "trigger", d.Trigger, "event_id", d.Event.ID(), "event_type", d.Event.Type(), "status", d.Status, "attempts", d.Attempts, "error", d.Error)
			// The same objects as a cluster's dead letters (the drift function
			// writes those): claimrisk deadletter list reads both.
			if _, err := deadletter.Write(context.Background(), b, deadletter.Letter{
				Time: d.Time, Trigger: d.Trigger, Status: d.Status, Attempts: d.Attempts, Error: d.Error, Event: d.Event,
			}); err != nil {
				o.Log.Error("cannot keep the dead letter", "event_id", d.Event.ID(), "error", err.Error())
			}
		},
	}
	if err := CheckFree("broker", addr(0)); err != nil {
		return err
	}
	l, err := net.Listen("tcp", addr(0))
	if err != nil {
		return fmt.Errorf("localrun: broker: %w", err)
	}
	sys.server = &http.Server{Handler: sys.Broker, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = sys.server.Serve(l) }()
	sys.Components = append(sys.Components, Component{"broker", "http://" + addr(0)})

	// The functions in the table's order, each on its port; start-up waits
	// for each one's Ready path (predict's liveness: it is ready only once
	// a champion exists, which may be minutes away).
	for _, f := range fnspec.All() {
		name := f.Name
		if len(o.Only) > 0 && !slices.Contains(o.Only, name) {
			continue
		}
		path := filepath.Join(o.BinDir, name)
		if _, err := os.Stat(path); err != nil {
			o.Log.Warn("no binary; running without it", "function", name, "path", path)
			continue
		}
		p, err := StartProcess(ctx, Spec{
			Name: name, Path: path, Addr: addr(f.PortOffset), Ready: f.Ready,
			Env: append([]string{"LISTEN_ADDRESS=" + addr(f.PortOffset)}, env...), Timeout: 60 * time.Second,
		}, logDir)
		if err != nil {
			return err
		}
		sys.procs = append(sys.procs, p)
		mu.Lock()
		urls[name] = p.URL
		mu.Unlock()
		sys.Components = append(sys.Components, Component{name, p.URL})
	}

	if o.Python != "" {
		if err := sys.evidently(ctx, o, b, logDir); err != nil {
			return err
		}
	}
	if o.DriftInterval > 0 {
		cctx, cancel := context.WithCancel(context.Background())
		sys.stopCron, sys.cronDone = cancel, make(chan struct{})
		go sys.cron(cctx, o.DriftInterval)
		sys.Components = append(sys.Components, Component{"cron", "every " + o.DriftInterval.String()})
	}
	if err := os.MkdirAll(o.Home, 0o755); err != nil {
		return err
	}
	data, _ := json.MarshalIndent(sys.Components, "", "  ")
	if err := os.WriteFile(StateFile(o.Home), data, 0o644); err != nil {
		return fmt.Errorf("localrun: write state: %w", err)
	}
	sys.wroteState = true
	return nil
}

// cron sends the ping a PingSource would send, every interval.
func (s *System) cron(ctx context.Context, every time.Duration) {
	defer close(s.cronDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for _, check := range []string{"datasets", "drift", "shadow"} {
				if e, err := PingEvent(now, check); err == nil {
					s.Broker.Publish(e)
				}
			}
		}
	}
}

// Stop stops the cron, lets deliveries in flight finish (up to 30 s), then
// stops every process it started, newest first.
func (s *System) Stop() {
	if s.stopCron != nil {
		s.stopCron()
		<-s.cronDone
	}
	if s.stopJobs != nil {
		s.stopJobs()
		<-s.jobsDone
	}
	if s.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.server.Shutdown(ctx)
		cancel()
		done := make(chan struct{})
		go func() { s.Broker.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
		}
	}
	for i := len(s.procs) - 1; i >= 0; i-- {
		s.procs[i].Stop(15 * time.Second)
	}
	if s.home != "" && s.wroteState {
		_ = os.Remove(StateFile(s.home))
	}
}

// Wait returns when a process exits on its own, or ctx ends.
func (s *System) Wait(ctx context.Context) error {
	exited := make(chan *Process, len(s.procs))
	for _, p := range s.procs {
		go func() { <-p.Done(); exited <- p }()
	}
	select {
	case <-ctx.Done():
		return nil
	case p := <-exited:
		return fmt.Errorf("%s exited unexpectedly (%v); see %s", p.Name, p.Err(), p.LogPath)
	}
}

// PingEvent is the event one of the PingSources in config/knative sends on
// schedule: check is "drift" (the drift schedule), "datasets" (the dataset
// scan) or "shadow" (the shadow judgement), carried as an extension
// attribute the Triggers filter on.
func PingEvent(now time.Time, check string) (event.Event, error) {
	source := map[string]string{"drift": "drift-schedule", "datasets": "dataset-scan", "shadow": "shadow-schedule"}[check]
	e, err := events.New(fmt.Sprintf("ping-%s-%s", check, strconv.FormatInt(now.UnixNano(), 36)), events.Ping,
		"/apis/v1/namespaces/claimrisk/pingsources/"+source, "", map[string]string{"check": check})
	if err != nil {
		return e, err
	}
	e.SetTime(now.UTC())
	e.SetExtension("check", check)
	return e, nil
}
