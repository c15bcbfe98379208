package predictapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

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

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return err
	}
	if in != nil {
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
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e ErrorResponse
		if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
			return &APIError{Status: resp.StatusCode, Message: e.Error.Message}
		}
		return &APIError{Status: resp.StatusCode, Message: strings.TrimSpace(string(data))}
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// Predict asks for the claim probabilities of records.
func (c *Client) Predict(ctx context.Context, records []schema.PolicyRecord) (PredictResponse, error) {
	var out PredictResponse
	err := c.do(ctx, http.MethodPost, "/v1/predict", PredictRequest{Records: records}, &out)
	return out, err
}

// Feedback sends observed outcomes.
func (c *Client) Feedback(ctx context.Context, outcomes []Outcome) (FeedbackResponse, error) {
	var out FeedbackResponse
	err := c.do(ctx, http.MethodPost, "/v1/feedback", FeedbackRequest{Outcomes: outcomes}, &out)
	return out, err
}

// Flush asks the API to write its buffered payload-log rows now.
func (c *Client) Flush(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/admin/flush", map[string]string{}, nil)
}

// Model describes the model that answers.
func (c *Client) Model(ctx context.Context) (ModelInfo, error) {
	var out ModelInfo
	err := c.do(ctx, http.MethodGet, "/v1/model", nil, &out)
	return out, err
}

func idempotencyKey() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
