package mlflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to one MLflow tracking server.
type Client struct {
	base     string
	http     *http.Client
	username string
	password string
}

// Option configures a Client.
type Option func(*Client)

// WithBasicAuth sends HTTP basic credentials (MLflow's basic-auth app).
func WithBasicAuth(username, password string) Option {
	return func(c *Client) { c.username, c.password = username, password }
}

// WithHTTPClient replaces the default HTTP client (10 s timeout).
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) { c.http = h }
}

// New returns a client for the server at trackingURI (http or https).
func New(trackingURI string, opts ...Option) (*Client, error) {
	u, err := url.Parse(trackingURI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("mlflow: tracking URI %q is not an http(s) URL", trackingURI)
	}
	c := &Client{base: strings.TrimRight(trackingURI, "/"), http: &http.Client{Timeout: 10 * time.Second}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// URI is the tracking server's address.
func (c *Client) URI() string { return c.base }

// APIError is an error answer from the server.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"error_code"`
	Message string `json:"message"`
	Call    string `json:"-"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("mlflow: %s: %d %s: %s", e.Call, e.Status, e.Code, e.Message)
}

// Error codes callers act on.
const (
	CodeAlreadyExists = "RESOURCE_ALREADY_EXISTS"
	CodeNotFound      = "RESOURCE_DOES_NOT_EXIST"
)

// HasCode reports whether err is an APIError with the given code.
func HasCode(err error, code string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}

// IsNotFound reports a missing resource (by code or by a 404).
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Code == CodeNotFound || ae.Status == http.StatusNotFound)
}

// call sends one request to /api/2.0/mlflow/<path>. A GET carries query
// parameters; other methods a JSON body.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	u := c.base + "/api/2.0/mlflow/" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("mlflow: %s: encode: %w", path, err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("mlflow: %s: %w", path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.do(req, path, out)
}

func (c *Client) do(req *http.Request, call string, out any) error {
	if c.username != "" {
		req.SetBasicAuth(c.username, c.password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("mlflow: %s: %w", call, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("mlflow: %s: read answer: %w", call, err)
	}
	if resp.StatusCode/100 != 2 {
		ae := &APIError{Status: resp.StatusCode, Call: call}
		if json.Unmarshal(data, ae) != nil || ae.Code == "" {
			ae.Code = http.StatusText(resp.StatusCode)
			ae.Message = strings.TrimSpace(string(data))
			if len(ae.Message) > 200 {
				ae.Message = ae.Message[:200] + "..."
			}
		}
		return ae
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("mlflow: %s: decode answer: %w", call, err)
		}
	}
	return nil
}

// Ping checks that the server answers (GET /health).
func (c *Client) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/health", nil)
	if err != nil {
		return fmt.Errorf("mlflow: health: %w", err)
	}
	return c.do(req, "health", nil)
}
