package events

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

// Sender delivers events over HTTP in binary mode.
type Sender struct {
	client cloudevents.Client
	// Retries is how many times a failed delivery is tried again.
	Retries int
	// Backoff is the first wait between tries; it doubles each time.
	Backoff time.Duration
}

// NewSender returns a sender that retries five times from 200 ms.
func NewSender() (*Sender, error) {
	p, err := cloudevents.NewHTTP(cehttp.WithIsRetriableFunc(retriable))
	if err != nil {
		return nil, fmt.Errorf("events: new sender: %w", err)
	}
	c, err := cloudevents.NewClient(p)
	if err != nil {
		return nil, fmt.Errorf("events: new sender: %w", err)
	}
	return &Sender{client: c, Retries: 5, Backoff: 200 * time.Millisecond}, nil
}

// retriable mirrors the Knative dispatcher: server errors, 404, 408, 409
// and 429 are tried again; other client errors are final.
func retriable(status int) bool {
	return status >= 500 || status == 404 || status == 408 || status == 409 || status == 429
}

// Send delivers e to target and returns the reply event, if the receiver
// answered with one. A non-2xx answer is an error that names the status.
func (s *Sender) Send(ctx context.Context, target string, e event.Event) (*event.Event, error) {
	ctx = cloudevents.ContextWithTarget(ctx, target)
	if s.Retries > 0 {
		ctx = cloudevents.ContextWithRetriesExponentialBackoff(ctx, s.Backoff, s.Retries)
	}
	reply, res := s.client.Request(ctx, e)
	var hr *cehttp.Result
	if cloudevents.ResultAs(res, &hr) {
		if hr.StatusCode < 200 || hr.StatusCode > 299 {
			return nil, &DeliveryError{Target: target, Type: e.Type(), Status: hr.StatusCode, Message: fmt.Sprintf(hr.Format, hr.Args...)}
		}
		return reply, nil
	}
	if !cloudevents.IsACK(res) {
		return nil, &DeliveryError{Target: target, Type: e.Type(), Message: res.Error()}
	}
	return reply, nil
}

// DeliveryError is a delivery the receiver refused or never answered.
type DeliveryError struct {
	Target  string
	Type    string
	Status  int // 0 when there was no HTTP answer
	Message string
}

func (e *DeliveryError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("events: deliver %s to %s: %s", e.Type, e.Target, e.Message)
	}
	return fmt.Sprintf("events: deliver %s to %s: %d %s: %s", e.Type, e.Target, e.Status, http.StatusText(e.Status), e.Message)
}

// StatusOf is the HTTP status of a delivery error, or 0.
func StatusOf(err error) int {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Status
	}
	return 0
}
