package predictapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/claimrisk/claimrisk/shared/retry"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// Client calls a prediction API.
type Client struct {
	BaseURL string
	Token   string
	// Host, when set, is the Host header: a Knative ingress picks the
	// Service by it, so the API is reached through the ingress's address
	// without DNS for the Service's name.
	Host string
	HTTP *http.Client
}

// NewClient returns a client for the API at baseURL.
func NewClient(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// APIError is an error answer of the API.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// retries is how a call that is safe to send again (retryable) is sent
// again: three attempts in all, 250 ms and then 1 s apart.
var retries = retry.Policy{Attempts: 3, Initial: 250 * time.Millisecond, Multiplier: 4, Max: time.Second}

// retryable is an error that says nothing was decided by the API: the
// connection failed or its answer was cut short (a pod that Knative scales
// down, or a proxy in front of it), or a proxy answered 502 Bad Gateway.
type retryable struct{ err error }

func (e *retryable) Error() string { return e.err.Error() }
func (e *retryable) Unwrap() error { return e.err }

// do sends one call. Calls that are safe to repeat (again: a prediction,
// which changes nothing but the payload log, or a flush) are sent up to
// three times while the failure is retryable; the payload log may then hold
// a batch twice when only its answer was lost.
func (c *Client) do(ctx context.Context, method, path string, in, out any, again bool) error {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return err
		}
	}
	if !again {
		return c.once(ctx, method, path, payload, out)
	}
	return retry.Do(ctx, retries, func(ctx context.Context) error {
		err := c.once(ctx, method, path, payload, out)
		var r *retryable
		if errors.As(err, &r) {
			return r.err
		}
		return retry.Permanent(err)
	})
}

// once sends one attempt; a nil payload is a call without a body.
func (c *Client) once(ctx context.Context, method, path string, payload []byte, out any) error {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return err
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.Host != "" {
		req.Host = c.Host
	}
	// With an idempotency key Go's transport may send the request again when
	// a kept-alive connection turns out closed before any answer: a proxy or
	// a pod that Knative scales down closes idle connections at any moment.
	req.Header.Set("Idempotency-Key", idempotencyKey())
	resp, err := c.HTTP.Do(req)
	if err != nil {
		var nerr net.Error
		if errors.As(err, &nerr) && nerr.Timeout() {
			return err // a slow API is not helped by more load
		}
		return &retryable{err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return &retryable{fmt.Errorf("%s %s: the answer was cut short: %w", method, path, err)}
	}
	if resp.StatusCode/100 != 2 {
		var e ErrorResponse
		if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
			return &APIError{Status: resp.StatusCode, Message: e.Error.Message}
		}
		apiErr := &APIError{Status: resp.StatusCode, Message: strings.TrimSpace(string(data))}
		if resp.StatusCode == http.StatusBadGateway {
			return &retryable{apiErr}
		}
		return apiErr
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// Predict asks for the claim probabilities of records.
func (c *Client) Predict(ctx context.Context, records []schema.PolicyRecord) (PredictResponse, error) {
	var out PredictResponse
	err := c.do(ctx, http.MethodPost, "/v1/predict", PredictRequest{Records: records}, &out, true)
	return out, err
}

// Feedback sends observed outcomes.
func (c *Client) Feedback(ctx context.Context, outcomes []Outcome) (FeedbackResponse, error) {
	var out FeedbackResponse
	err := c.do(ctx, http.MethodPost, "/v1/feedback", FeedbackRequest{Outcomes: outcomes}, &out, false)
	return out, err
}

// Flush asks the API to write its buffered payload-log rows now.
func (c *Client) Flush(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/admin/flush", map[string]string{}, nil, true)
}

// Model describes the model that answers.
func (c *Client) Model(ctx context.Context) (ModelInfo, error) {
	var out ModelInfo
	err := c.do(ctx, http.MethodGet, "/v1/model", nil, &out, true)
	return out, err
}

func idempotencyKey() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
