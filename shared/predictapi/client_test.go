package predictapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestClientSurvivesAClosedKeptAliveConnection: a proxy, or a pod that
// Knative scales down, may close a kept-alive connection just as the next
// request goes out on it. The client must send that request again on a new
// connection rather than fail with "unexpected EOF" (seen on the cluster
// when predict scaled to zero during `claimrisk simulate`).
func TestClientSurvivesAClosedKeptAliveConnection(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 2 {
			// The second request arrives on the first one's connection:
			// close it without an answer.
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"request_id":"r","model":{"name":"claim-risk","version":1},"predictions":[]}`))
	}))
	defer srv.Close()
	c := NewClient(srv.URL, "")
	for i := 1; i <= 2; i++ {
		if _, err := c.Predict(context.Background(), ExampleRecords[:1]); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if got := calls.Load(); got != 3 {
		t.Errorf("the server saw %d requests, want 3 (the second sent again)", got)
	}
}

// TestClientSendsAPredictionAgainWhenItsAnswerIsCut: on the cluster the
// answer of a prediction was once cut after its headers ("unexpected EOF"
// while reading the body) as predict's pod scaled down, and `claimrisk
// simulate` failed after 2,600 policies. A prediction is sent again; a
// feedback, which records labels, is not.
func TestClientSendsAPredictionAgainWhenItsAnswerIsCut(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"request_id\":")
			_ = buf.Flush()
			conn.Close()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"request_id":"r","model":{"name":"claim-risk","version":1},"predictions":[],"accepted":1}`))
	}))
	defer srv.Close()
	c := NewClient(srv.URL, "")
	if _, err := c.Predict(context.Background(), ExampleRecords[:1]); err != nil {
		t.Fatalf("a prediction whose first answer was cut: %v", err)
	}
	if got := calls.Load(); got != 2 {
		t.Errorf("the server saw %d requests, want 2", got)
	}

	calls.Store(0)
	_, err := c.Feedback(context.Background(), []Outcome{{PolicyID: "Q-1001"}})
	if err == nil || !strings.Contains(err.Error(), "cut short") {
		t.Errorf("a feedback whose answer was cut: want the error, got %v", err)
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("a feedback was sent %d times, want once", got)
	}
}

// TestClientGivesUpAfterThreeAttempts: a call that is safe to repeat is
// sent three times in all, 250 ms and then 1 s apart, and the last answer
// comes back; an answer that decided something (here 503) is not sent again.
func TestClientGivesUpAfterThreeAttempts(t *testing.T) {
	t.Parallel()
	var calls, status atomic.Int32
	status.Store(http.StatusBadGateway)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "upstream gone", int(status.Load()))
	}))
	defer srv.Close()
	c := NewClient(srv.URL, "")
	start := time.Now()
	_, err := c.Predict(context.Background(), ExampleRecords[:1])
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadGateway || calls.Load() != 3 {
		t.Fatalf("Predict = %v after %d calls; want the 502 after 3", err, calls.Load())
	}
	if took := time.Since(start); took < 1250*time.Millisecond {
		t.Errorf("three attempts took %v, want at least the 1.25 s of pauses", took)
	}

	calls.Store(0)
	status.Store(http.StatusServiceUnavailable)
	if _, err := c.Predict(context.Background(), ExampleRecords[:1]); !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable || calls.Load() != 1 {
		t.Errorf("Predict = %v after %d calls; want the 503 after 1", err, calls.Load())
	}
}
