package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/claimrisk/claimrisk/shared/retry"
)

// Sender delivers events over HTTP in binary mode. The SDK encodes and
// decodes; the sender does the HTTP itself so that a refusal's message
// reaches the caller, which the SDK's request-reply client drops.
type Sender struct {
	Client *http.Client
	// Retries is how many times a failed delivery is tried again.
	Retries int
	// Backoff is the first wait between tries; it doubles each time.
	Backoff time.Duration
}

// NewSender returns a sender that retries five times from 200 ms.
func NewSender() (*Sender, error) {
	return &Sender{Client: &http.Client{}, Retries: 5, Backoff: 200 * time.Millisecond}, nil
}

// Retriable mirrors the Knative dispatcher: server errors, 404, 408, 409
// and 429 are tried again; other client errors are final.
func Retriable(status int) bool {
	return status >= 500 || status == 404 || status == 408 || status == 409 || status == 429
}

// Send delivers e to target and returns the reply event, if the receiver
// answered with one. A non-2xx answer is a *DeliveryError with the status
// and the receiver's message.
func (s *Sender) Send(ctx context.Context, target string, e event.Event) (*event.Event, error) {
	policy := retry.Policy{Attempts: max(s.Retries, 0) + 1, Initial: max(s.Backoff, 0), Multiplier: 2}
	var reply *event.Event
	attempts := 0
	err := retry.Do(ctx, policy, func(ctx context.Context) error {
		attempts++
		var err error
		reply, err = s.sendOnce(ctx, target, e)
		var de *DeliveryError
		if !errors.As(err, &de) {
			return retry.Permanent(err) // nil, or not a delivery: sending again cannot help
		}
		de.Attempts = attempts
		if de.Status != 0 && !Retriable(de.Status) {
			return retry.Permanent(err)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return reply, nil
}

func (s *Sender) sendOnce(ctx context.Context, target string, e event.Event) (*event.Event, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, nil)
	if err != nil {
		return nil, fmt.Errorf("events: deliver %s to %s: %w", e.Type(), target, err)
	}
	if err := cehttp.WriteRequest(ctx, binding.ToMessage(&e), req); err != nil {
		return nil, fmt.Errorf("events: encode %s: %w", e.Type(), err)
	}
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, &DeliveryError{Target: target, Type: e.Type(), Message: err.Error()}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return nil, &DeliveryError{Target: target, Type: e.Type(), Status: resp.StatusCode, Message: strings.TrimSpace(string(body))}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, &DeliveryError{Target: target, Type: e.Type(), Message: "read reply: " + err.Error()}
	}
	if resp.Header.Get("Ce-Id") == "" && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/cloudevents") {
		return nil, nil // acknowledged without a reply
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	reply, err := binding.ToEvent(ctx, cehttp.NewMessageFromHttpResponse(resp))
	if err != nil {
		return nil, fmt.Errorf("events: reply to %s from %s: %w", e.Type(), target, err)
	}
	return reply, nil
}

// DeliveryError is a delivery the receiver refused or never answered.
type DeliveryError struct {
	Target  string
	Type    string
	Status  int // 0 when there was no HTTP answer
	Message string
	// Attempts is how many times the event was sent.
	Attempts int
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
