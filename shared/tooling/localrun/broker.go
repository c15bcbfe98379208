package localrun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/claimrisk/claimrisk/shared/events"
)

// ttlExtension bounds reply loops, as Knative's broker does.
const ttlExtension = "knativebrokerttl"

const defaultTTL = 255

// DeadLetter is an event no subscriber accepted.
type DeadLetter struct {
	Time    time.Time `json:"time"`
	Trigger string    `json:"trigger"`
	Status  int       `json:"status"`
	Error   string    `json:"error"`
	// Attempts is how many times the event was delivered: 1 for a refusal
	// the subscriber called permanent (a 4xx), the Trigger's retries plus
	// one for a failure it called transient.
	Attempts int         `json:"attempts"`
	Event    event.Event `json:"event"`
}

// Broker is a local stand-in for a Knative MTChannelBasedBroker: it
// accepts CloudEvents, answers 202, and delivers each to the subscribers
// whose Trigger filters match, with the Trigger's retries; a subscriber's
// reply event is published back into the broker. Events no subscriber
// takes go to OnDeadLetter.
type Broker struct {
	Triggers []Trigger
	// Resolve maps a subscriber Service name to its URL.
	Resolve func(name string) (string, bool)
	Log     *slog.Logger
	// OnDeadLetter receives undeliverable events.
	OnDeadLetter func(DeadLetter)
	clientOnce   sync.Once
	client       *http.Client
	wg           sync.WaitGroup
}

// httpClient is the one client every delivery shares (deliveries run
// concurrently, so it is made once).
func (b *Broker) httpClient() *http.Client {
	b.clientOnce.Do(func() { b.client = &http.Client{Timeout: 11 * time.Minute} })
	return b.client
}

// ServeHTTP accepts one event.
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "the broker accepts CloudEvents by POST", http.StatusMethodNotAllowed)
		return
	}
	e, err := binding.ToEvent(r.Context(), cehttp.NewMessageFromHttpRequest(r))
	if err != nil {
		http.Error(w, "not a CloudEvent: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := e.Validate(); err != nil {
		http.Error(w, "invalid CloudEvent: "+err.Error(), http.StatusBadRequest)
		return
	}
	b.Publish(*e)
	w.WriteHeader(http.StatusAccepted)
}

// Publish routes an event asynchronously.
func (b *Broker) Publish(e event.Event) {
	ttl := defaultTTL
	if v, ok := e.Extensions()[ttlExtension]; ok {
		if n, err := strconv.Atoi(fmt.Sprint(v)); err == nil {
			ttl = n
		}
	}
	if ttl <= 0 {
		b.Log.Warn("dropping an event whose TTL ran out (a reply loop?)", "event_id", e.ID(), "event_type", e.Type())
		return
	}
	e.SetExtension(ttlExtension, strconv.Itoa(ttl))
	attrs := map[string]string{"type": e.Type(), "source": e.Source(), "subject": e.Subject(), "id": e.ID()}
	for k, v := range e.Extensions() {
		attrs[k] = fmt.Sprint(v)
	}
	matched := 0
	for _, t := range b.Triggers {
		if !t.Matches(attrs) {
			continue
		}
		matched++
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.deliver(t, e, ttl)
		}()
	}
	b.Log.Info("event received", "event_id", e.ID(), "event_type", e.Type(), "source", e.Source(), "triggers", matched)
}

func (b *Broker) deliver(t Trigger, e event.Event, ttl int) {
	// A ref with a uri is the ref's address plus the uri as a path, as
	// Knative resolves it; a uri alone is absolute.
	target := t.SubscriberURI
	if t.Subscriber != "" {
		url, ok := b.Resolve(t.Subscriber)
		if !ok {
			b.dead(t, e, 0, 0, fmt.Errorf("subscriber %s is not running", t.Subscriber))
			return
		}
		target = url + t.SubscriberURI
	}
	s := &events.Sender{Client: b.httpClient(), Retries: t.Retry, Backoff: max(t.BackoffDelay, 100*time.Millisecond)}
	log := b.Log.With("trigger", t.Name, "event_id", e.ID(), "event_type", e.Type(), "subscriber", target)
	start := time.Now()
	reply, err := s.Send(context.Background(), target, e)
	if err != nil {
		attempts := 1
		var de *events.DeliveryError
		if errors.As(err, &de) {
			attempts = de.Attempts
		}
		log.Warn("delivery failed", "error", err.Error(), "attempts", attempts)
		b.dead(t, e, events.StatusOf(err), attempts, err)
		return
	}
	log.Info("delivered", "seconds", time.Since(start).Seconds(), "reply", reply != nil)
	if reply != nil {
		reply.SetExtension(ttlExtension, strconv.Itoa(ttl-1))
		b.Publish(*reply)
	}
}

func (b *Broker) dead(t Trigger, e event.Event, status, attempts int, err error) {
	if b.OnDeadLetter != nil {
		b.OnDeadLetter(DeadLetter{Time: time.Now().UTC(), Trigger: t.Name, Status: status, Error: err.Error(), Attempts: attempts, Event: e})
	}
}

// Wait blocks until every delivery in flight has finished.
func (b *Broker) Wait() { b.wg.Wait() }
