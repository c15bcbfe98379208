package funcmain

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/logging"
)

// Lifecycle is the part every CloudEvent function shares, embedded in its
// Function type: it gives the type the runtime's Stop, Ready and Alive
// methods (so each function keeps the Knative Functions shape) and checks
// each event before the function looks at it.
type Lifecycle struct {
	name   string
	mu     sync.Mutex
	bucket *blobstore.Bucket
	signer *events.Signer
	log    *slog.Logger
	ready  atomic.Bool
}

// Started records what Start opened and turns readiness on.
func (l *Lifecycle) Started(name string, b *blobstore.Bucket, signer *events.Signer, log *slog.Logger) {
	l.mu.Lock()
	l.name, l.bucket, l.signer, l.log = name, b, signer, log
	l.mu.Unlock()
	l.ready.Store(true)
}

// Stop turns readiness off and closes the bucket.
func (l *Lifecycle) Stop(context.Context) error {
	l.ready.Store(false)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bucket != nil {
		return l.bucket.Close()
	}
	return nil
}

// Ready reports whether Start has finished.
func (l *Lifecycle) Ready(context.Context) (bool, error) { return l.ready.Load(), nil }

// Alive reports that the process is serving.
func (l *Lifecycle) Alive(context.Context) (bool, error) { return true, nil }

// Admit refuses an event that arrives before Start finished (503, which the
// broker retries), without a valid signature (401, which it does not), or
// that breaks the rules of events.CheckEvent, such as a time far from now
// (400).
func (l *Lifecycle) Admit(e event.Event) error {
	if !l.ready.Load() {
		// Start runs while the server already serves: nothing Start sets
		// may be read before ready is.
		return cehttp.NewResult(http.StatusServiceUnavailable, "not ready yet")
	}
	if err := l.signer.Verify(e); err != nil {
		l.log.Warn("event refused", "event_id", e.ID(), "event_type", e.Type(), "status", http.StatusUnauthorized, "error", err.Error())
		return cehttp.NewResult(http.StatusUnauthorized, "%s: %v", l.name, err)
	}
	if err := events.CheckEvent(e, time.Now()); err != nil {
		return l.Fail(e, err)
	}
	return nil
}

// Fail is the answer to an event the function could not handle: Result's
// status and message, logged with the event's id. Call it only after
// Admit.
func (l *Lifecycle) Fail(e event.Event, err error, permanent ...error) error {
	status := Status(err, permanent...)
	msg := "event failed; the broker retries it"
	if status < 500 {
		msg = "event refused; the broker does not retry it"
	}
	l.log.Warn(msg, "event_id", e.ID(), "event_type", e.Type(), "status", status, "error", OneLine(err.Error()))
	return Result(l.name, err, permanent...)
}

// Sign signs a reply event.
func (l *Lifecycle) Sign(e *event.Event) { l.signer.Sign(e) }

// Open is the start every function shares once its configuration is
// loaded: its logger at the configured level and its bucket, with an error
// that names the function.
func Open(ctx context.Context, name string, c config.Common) (*slog.Logger, *blobstore.Bucket, error) {
	log := logging.New(os.Stderr, c.LogLevel, name)
	b, err := blobstore.Open(ctx, c.Bucket)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: start: %w", name, err)
	}
	return log, b, nil
}
