package predictapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
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
