package funcmain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	fce "knative.dev/func-go/cloudevents"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/logging"
)

// MaxEventBytes bounds the HTTP body of one event. claimrisk's events are
// a few kilobytes; the broker's own limit is larger.
const MaxEventBytes = 1 << 20

// Refusal is an HTTP answer to a request that is not a well-formed event.
type Refusal struct {
	Status int
	Reason string
}

func (r *Refusal) Error() string { return r.Reason }

func refuse(status int, format string, args ...any) *Refusal {
	reason := OneLine(fmt.Sprintf(format, args...))
	if len(reason) > maxReason {
		reason = reason[:maxReason-3] + "..."
	}
	return &Refusal{Status: status, Reason: reason}
}

// maxReason bounds a refusal's message; the SDK's parse errors quote the
// input at length.
const maxReason = 300

// ReadEvent reads one CloudEvent from a request exactly as the SDK will
// (binary or structured mode), and says in one line what is wrong with a
// malformed one: 413 for a body over MaxEventBytes, 415 for a batch or
// a request that is no CloudEvent encoding, 400 for anything the SDK
// cannot decode or validate. The body stays readable for the next handler.
func ReadEvent(w http.ResponseWriter, r *http.Request) (*event.Event, *Refusal) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxEventBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, refuse(http.StatusRequestEntityTooLarge, "the event is larger than %d bytes", MaxEventBytes)
	}
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "could not read the request body: %v", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	probe := r.Clone(r.Context())
	probe.Body = io.NopCloser(bytes.NewReader(body))
	msg := cehttp.NewMessageFromHttpRequest(probe)
	switch msg.ReadEncoding() {
	case binding.EncodingBatch:
		return nil, refuse(http.StatusUnsupportedMediaType, "batched events (%s) are not accepted; send one event per request", r.Header.Get("Content-Type"))
	case binding.EncodingUnknown:
		if v := r.Header.Get("Ce-Specversion"); v != "" {
			return nil, refuse(http.StatusBadRequest, "ce-specversion %q is not supported; send 1.0", v)
		}
		return nil, refuse(http.StatusUnsupportedMediaType, "not a CloudEvent: send binary mode (ce-specversion and the other ce-* headers) or structured mode (Content-Type: application/cloudevents+json)")
	}
	e, err := binding.ToEvent(r.Context(), msg)
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "not a well-formed CloudEvent: %v", err)
	}
	if err := e.Validate(); err != nil {
		return nil, refuse(http.StatusBadRequest, "invalid CloudEvent: %v", err)
	}
	return e, nil
}

// OneLine joins the lines of a message, so that every refusal and log
// line stays one line.
func OneLine(s string) string {
	return strings.Join(strings.Fields(strings.TrimSpace(s)), " ")
}

// Guard answers every request that is not one well-formed CloudEvent
// itself, with a 4xx and a one-line reason, before the runtime sees it: the
// CloudEvents SDK answers some of them 500 with an empty body, which a
// broker would retry in vain. The runtime's health endpoints pass through.
func Guard(name string, next http.Handler) http.Handler {
	log := logging.New(os.Stderr, "info", name)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/health/") {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, name+": send CloudEvents by POST", http.StatusMethodNotAllowed)
			return
		}
		if _, ref := ReadEvent(w, r); ref != nil {
			log.Warn("event refused", "status", ref.Status, "reason", ref.Reason, "ce_id", OneLine(r.Header.Get("Ce-Id")))
			http.Error(w, name+": "+ref.Reason, ref.Status)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// NewEventService is func-go's CloudEvents runtime for f behind Guard,
// with the server's read and write timeouts set to timeout (0 keeps the
// runtime's 30 s).
func NewEventService(name string, f any, timeout time.Duration) *fce.Service {
	svc := fce.New(f)
	svc.Handler = Guard(name, svc.Handler)
	if timeout > 0 {
		svc.ReadTimeout, svc.WriteTimeout = timeout, timeout
	}
	return svc
}

// ErrPermanent marks a failure the same event can never get past (the
// event names another bucket, an object of the wrong kind); Result
// answers it with 422.
var ErrPermanent = errors.New("permanent failure")

// Status classifies an error of handling an event. Permanent failures are
// 4xx, which the broker does not retry: 400 for an event that breaks the
// catalogue's rules (events.ErrInvalid), 422 for one that refers to
// something missing or unusable (blobstore.ErrNotFound, ErrPermanent and
// the function's own permanent errors). Everything else is transient, 503:
// the bucket, MLflow, a timeout; the broker retries it.
func Status(err error, permanent ...error) int {
	if errors.Is(err, events.ErrInvalid) {
		return http.StatusBadRequest
	}
	for _, p := range append([]error{ErrPermanent, blobstore.ErrNotFound}, permanent...) {
		if errors.Is(err, p) {
			return http.StatusUnprocessableEntity
		}
	}
	return http.StatusServiceUnavailable
}

// Result is the answer to an event the function could not handle: the
// status by Status, and the error's message in one line.
func Result(name string, err error, permanent ...error) error {
	return cehttp.NewResult(Status(err, permanent...), "%s: %s", name, OneLine(err.Error()))
}

// RunEvents is the main of a CloudEvents function: --help, the runtime's
// log level, the guarded service (a malformed event gets a 4xx with its
// reason, not the SDK's empty 500), and exit status 1 when it stops on an
// error. spec is the function's envconfig struct.
func RunEvents(name, summary string, spec, f any, timeout time.Duration) {
	HandleArgs(name, summary, spec)
	fce.SetLogLevel(fce.LogWarn)
	Exit(name, NewEventService(name, f, timeout).Start(context.Background()))
}
