package localrun_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/config/knative"
	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/deadletter"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// publish posts an event to the broker in binary mode.
func publish(t *testing.T, broker, id, typ string, data any) time.Time {
	t.Helper()
	body, _ := json.Marshal(data)
	req, _ := http.NewRequest(http.MethodPost, broker, bytes.NewReader(body))
	for k, v := range map[string]string{"Ce-Specversion": "1.0", "Ce-Id": id, "Ce-Type": typ, "Ce-Source": "/test", "Content-Type": "application/json"} {
		req.Header.Set(k, v)
	}
	sent := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("the broker answered %d to %s", resp.StatusCode, id)
	}
	return sent
}

// deadLetter waits for the dead letter of event id in the bucket.
func deadLetter(t *testing.T, bucketDir, id string, within time.Duration) (deadletter.Letter, time.Time) {
	t.Helper()
	b, err := blobstore.Open(context.Background(), "file://"+bucketDir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	deadline := time.Now().Add(within)
	for {
		letters, _ := deadletter.List(context.Background(), b)
		for _, l := range letters {
			if l.Event.ID() == id {
				return l, l.Time
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no dead letter for %s after %s", id, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A permanent error goes through the local broker of `claimrisk up` once:
// the subscriber refuses it with a 4xx and its reason, the broker does not
// retry, and the event is in the dead letters before the Trigger's first
// backoff would have ended. Each function logs the refusal once.
func TestPermanentErrorsAreDeliveredOnceAndDeadLetteredAtOnce(t *testing.T) {
	_, _, home := testenv.SystemHome(t, nil, "train", "register")
	urls, err := localrun.ReadState(home)
	if err != nil {
		t.Fatal(err)
	}
	triggers, err := localrun.LoadTriggers(knative.Base, "base")
	if err != nil {
		t.Fatal(err)
	}
	backoff := map[string]time.Duration{}
	for _, tr := range triggers {
		backoff[tr.Name] = tr.BackoffDelay
	}
	// A bucket that holds a dataset and a run, as any bucket in use does:
	// an id too long for a file name then fails as an I/O error (which
	// looks transient) rather than as a missing object.
	for key, body := range map[string]string{
		"datasets/0000000000000001/manifest.json": "{}",
		"runs/run-000000000001/model.json":        `{"kind":"glm"}`,
	} {
		path := filepath.Join(home, "bucket", key)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	long := strings.Repeat("d", 300)
	for _, c := range []struct {
		id, typ, function string
		data              any
		status            int
		reason            string
	}{
		{"perm-dataset-id", events.DatasetUploaded, "train", events.DatasetUploadedData{DatasetID: long}, 400, "dataset_id is 300 characters long"},
		{"perm-run-id", events.ModelTrained, "register", events.ModelTrainedData{RunID: "run-" + long}, 400, "run_id is 304 characters long"},
		{"perm-report-key", events.DriftDetected, "train", events.DriftDetectedData{ReportKey: "runs/run-000000000001/model.json"}, 400, "does not name a drift report"},
		{"perm-missing-run", events.ModelTrained, "register", events.ModelTrainedData{RunID: "run-000000000000"}, 422, "not in the bucket"},
	} {
		t.Run(c.id, func(t *testing.T) {
			sent := publish(t, urls["broker"], c.id, c.typ, c.data)
			d, at := deadLetter(t, filepath.Join(home, "bucket"), c.id, 30*time.Second)
			logged := 0
			if data, err := os.ReadFile(filepath.Join(home, "logs", c.function+".log")); err == nil {
				logged = strings.Count(string(data), `"event_id":"`+c.id+`"`)
			}
			t.Logf("%s: %d attempt(s), %d refusal(s) in %s.log, dead letter after %s: %d %s", c.id, d.Attempts, logged, c.function, at.Sub(sent).Round(time.Millisecond), d.Status, d.Error)
			if d.Attempts != 1 || logged != 1 {
				t.Errorf("%s was delivered %d time(s) (the function logged it %d times); want once", c.id, d.Attempts, logged)
			}
			if d.Status != c.status || !strings.Contains(d.Error, c.reason) {
				t.Errorf("dead letter: %d %q; want %d with %q", d.Status, d.Error, c.status, c.reason)
			}
			if wait := at.Sub(sent); wait >= backoff[d.Trigger] {
				t.Errorf("dead-lettered after %s, not before the first backoff of %s (%s)", wait, d.Trigger, backoff[d.Trigger])
			}
		})
	}
}

// Deliveries run concurrently, four Triggers to one event here, and share
// the broker's client: each event reaches each subscriber once, and the
// client is made once (go test -race).
func TestConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	got := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.URL.Path+" "+r.Header.Get("Ce-Id")]++
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	b := &localrun.Broker{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for i := range 4 {
		b.Triggers = append(b.Triggers, localrun.Trigger{Name: fmt.Sprint("t", i), Attributes: map[string]string{"type": "test.concurrent"}, SubscriberURI: fmt.Sprintf("%s/%d", srv.URL, i)})
	}
	for i := range 50 {
		e, _ := events.New(fmt.Sprint("c", i), "test.concurrent", "/test", "", map[string]int{"i": i})
		b.Publish(e)
	}
	b.Wait()
	if len(got) != 200 {
		t.Fatalf("%d distinct deliveries; want 50 events to each of 4 subscribers", len(got))
	}
	for k, n := range got {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
}
