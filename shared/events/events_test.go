package events

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
)

func TestSendRetriesServerErrorsButNotRefusals(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch {
		case r.Header.Get("Ce-Type") == "refused":
			http.Error(w, "no such thing", http.StatusBadRequest)
		case n < 3:
			http.Error(w, "busy", http.StatusServiceUnavailable)
		default:
			w.Header().Set("Ce-Id", "reply-1")
			w.Header().Set("Ce-Specversion", "1.0")
			w.Header().Set("Ce-Type", "reply")
			w.Header().Set("Ce-Source", "/test")
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"ok":true}`))
		}
	}))
	defer srv.Close()
	s := &Sender{Client: srv.Client(), Retries: 5, Backoff: time.Millisecond}
	e, _ := New("1", "asked", "/test", "", map[string]int{"n": 1})
	reply, err := s.Send(context.Background(), srv.URL, e)
	if err != nil || reply == nil || reply.Type() != "reply" || calls.Load() != 3 {
		t.Fatalf("Send = %v, %v after %d calls; want the reply on the third", reply, err, calls.Load())
	}
	calls.Store(0)
	e.SetType("refused")
	_, err = s.Send(context.Background(), srv.URL, e)
	var de *DeliveryError
	if StatusOf(err) != 400 || !strings.Contains(err.Error(), "no such thing") || calls.Load() != 1 || !errors.As(err, &de) || de.Attempts != 1 {
		t.Fatalf("Send = %v after %d calls; want one refusal with its message", err, calls.Load())
	}
}

func TestSendGivesUpAfterItsRetries(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	e, _ := New("1", "asked", "/test", "", map[string]int{"n": 1})
	for _, retries := range []int{0, 2} {
		calls.Store(0)
		s := &Sender{Client: srv.Client(), Retries: retries, Backoff: time.Millisecond}
		_, err := s.Send(context.Background(), srv.URL, e)
		var de *DeliveryError
		if !errors.As(err, &de) || de.Status != 503 || de.Attempts != retries+1 || calls.Load() != int32(retries+1) {
			t.Errorf("Retries %d: Send = %v after %d calls; want the 503 after %d", retries, err, calls.Load(), retries+1)
		}
	}
}

func TestDecodeRejectsOtherContent(t *testing.T) {
	t.Parallel()
	e := cloudevents.NewEvent()
	e.SetType(DatasetUploaded)
	_ = e.SetData("text/plain", "hello")
	var d DatasetUploadedData
	if err := Decode(e, &d); err == nil {
		t.Fatal("Decode of text/plain data succeeded")
	}
}
