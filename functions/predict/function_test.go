package function

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/promotion"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

func record(i int) schema.PolicyRecord {
	return schema.PolicyRecord{
		PolicyID:   fmt.Sprintf("P%06d", i),
		CustomerID: fmt.Sprintf("C%06d", i),
		Driver: schema.Driver{
			Age:           20 + float64(i%60),
			YearsLicensed: min(2+float64(i%40), 4+float64(i%60)),
			HomeArea:      schema.Areas[i%len(schema.Areas)],
		},
		Cover: schema.Cover{
			VehicleType:   schema.VehicleTypes[i%5],
			VehicleAge:    i % 15,
			Usage:         schema.Usages[i%3],
			AnnualMileage: 3000 + float64(i%40)*700,
			Coverage:      schema.Coverages[i%3],
			Deductible:    []int{250, 500, 1000, 2000}[i%4],
		},
	}
}

func records(n int) []schema.PolicyRecord {
	out := make([]schema.PolicyRecord, n)
	for i := range out {
		out[i] = record(i)
	}
	return out
}

// served starts the predict binary on a bucket with a champion.
func served(t *testing.T, env ...string) (*testenv.Function, string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bucket")
	bucket := "file://" + dir
	if d := testenv.Train(t, bucket, 42, 8000); !d.Promoted {
		t.Fatalf("no champion to serve: %s", d.Reason)
	}
	fn := testenv.StartFunction(t, "predict", append([]string{"CLAIMRISK_BUCKET=" + bucket, "CLAIMRISK_LOG_MAX_AGE=200ms", "CLAIMRISK_POLL_INTERVAL=500ms"}, env...)...)
	return fn, bucket, dir
}

func TestPredictBatchesOfOneAndAThousand(t *testing.T) {
	fn, _, _ := served(t)
	c := predictapi.NewClient(fn.URL, "")
	for _, n := range []int{1, 1000} {
		resp, err := c.Predict(context.Background(), records(n))
		if err != nil {
			t.Fatalf("%d records: %v", n, err)
		}
		if len(resp.Predictions) != n || resp.Model.Version != 1 || resp.Model.Name != "claim-risk" || !strings.HasPrefix(resp.RequestID, "req-") {
			t.Fatalf("%d records: %d predictions from %+v, request %q", n, len(resp.Predictions), resp.Model, resp.RequestID)
		}
		for i, p := range resp.Predictions {
			if p.PolicyID != records(n)[i].PolicyID || p.ClaimProbability <= 0 || p.ClaimProbability >= 1 || p.RiskBand == "" {
				t.Fatalf("prediction %d = %+v", i, p)
			}
		}
	}
	info, err := c.Model(context.Background())
	if err != nil || info.Version != 1 || info.Alias != "champion" || info.RunID == "" || info.Metrics.AUC <= 0.5 || !info.Registry.Reachable {
		t.Fatalf("/v1/model = %+v, %v", info, err)
	}
	for _, path := range []string{"/openapi.json", "/docs", "/metrics"} {
		resp, err := http.Get(fn.URL + path)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", path, resp, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if path == "/metrics" && !strings.Contains(string(body), `claimrisk_predictions_total{model_version="1"} 1001`) {
			t.Errorf("/metrics does not count the 1,001 predictions:\n%s", body)
		}
	}
}

func post(t *testing.T, url, contentType string, body []byte) (int, string) {
	t.Helper()
	return postWith(t, url, map[string]string{"Content-Type": contentType}, body)
}

// postWith posts body with headers and returns the status and, for a
// refusal, the error's message.
func postWith(t *testing.T, url string, headers map[string]string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e predictapi.ErrorResponse
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		if err := json.Unmarshal(data, &e); err != nil {
			t.Fatalf("status %d with a body that is not the error JSON: %s", resp.StatusCode, data)
		}
	}
	return resp.StatusCode, e.Error.Message
}

func TestBadInputGetsA4xxThatNamesTheProblem(t *testing.T) {
	fn, _, _ := served(t, "CLAIMRISK_MAX_RECORDS=50", "CLAIMRISK_MAX_BODY_BYTES=20000")
	good, _ := json.Marshal(record(1))
	with := func(field, value string) []byte {
		var m map[string]json.RawMessage
		json.Unmarshal(good, &m)
		if value == "" {
			delete(m, field)
		} else {
			m[field] = json.RawMessage(value)
		}
		r, _ := json.Marshal(m)
		return []byte(`{"records":[` + string(r) + `]}`)
	}
	many := func(n int) []byte {
		b, _ := json.Marshal(predictapi.PredictRequest{Records: records(n)})
		return b
	}
	tests := []struct {
		name, contentType string
		body              []byte
		status            int
		msg               string
	}{
		{"missing field", "application/json", with("age", ""), 400, "records[0].age: missing"},
		{"unknown field", "application/json", with("colour", `"red"`), 400, "records[0].colour: unknown field"},
		{"wrong type", "application/json", with("age", `"forty"`), 400, `records[0].age: must be a number, got the string "forty"`},
		{"NaN", "application/json", []byte(strings.Replace(string(with("age", "1")), `"age":1`, `"age":NaN`, 1)), 400, "not a JSON object"},
		{"Infinity", "application/json", []byte(strings.Replace(string(with("age", "1")), `"age":1`, `"age":Infinity`, 1)), 400, "not a JSON object"},
		{"number too large", "application/json", with("age", "1e999"), 400, "records[0].age: 1e999 is not a finite number"},
		{"negative age", "application/json", with("age", "-4"), 422, "records[0].age: -4 is below the minimum 16 years"},
		{"a mileage of 10^9", "application/json", with("annual_mileage", "1e9"), 422, "records[0].annual_mileage: 1e+09 is above the maximum 100000 miles per year"},
		{"fractional district", "application/json", with("home_area", "18.5"), 400, "records[0].home_area: must be a whole number"},
		{"unknown district", "application/json", with("home_area", "13"), 422, `records[0].home_area: "13" is not one of`},
		{"null", "application/json", with("usage", "null"), 400, "records[0].usage: missing"},
		{"empty batch", "application/json", []byte(`{"records":[]}`), 422, "records: the batch is empty"},
		{"batch over the limit", "application/json", many(51), 413, "51 items is more than the limit of 50"},
		{"not JSON", "application/json", []byte("age=40"), 400, "not a JSON object"},
		{"not an object", "application/json", []byte(`[1,2]`), 400, "not a JSON object"},
		{"records not an array", "application/json", []byte(`{"records":{}}`), 400, "records: must be an array of objects"},
		{"trailing data", "application/json", append(many(1), []byte(`{}`)...), 400, "unexpected data after the JSON value"},
		{"oversized body", "application/json", bytes.Repeat([]byte(" "), 30000), 413, "larger than 20000 bytes"},
		{"wrong content type", "text/plain", many(1), 415, `content type "text/plain"`},
		{"no content type", "", many(1), 415, "send application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, msg := post(t, fn.URL+"/v1/predict", tt.contentType, tt.body)
			if status != tt.status || !strings.Contains(msg, tt.msg) {
				t.Errorf("got %d %q; want %d containing %q", status, msg, tt.status, tt.msg)
			}
		})
	}
	// What the contract forbids and encoding/json lets through (issue 14):
	// duplicate keys, trailing data, identifiers over the limit or with
	// control characters, bytes that are not UTF-8, and content encodings.
	one := string(many(1))
	rec := strings.TrimSuffix(strings.TrimPrefix(one, `{"records":[`), `]}`)
	withID := func(field, value string) []byte {
		return []byte(strings.Replace(one, fmt.Sprintf(`%q:%q`, field, record(0).PolicyID), fmt.Sprintf(`%q:%s`, field, value), 1))
	}
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	jsonCT := map[string]string{"Content-Type": "application/json"}
	gzipCT := map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}
	for _, tt := range []struct {
		name, path string
		headers    map[string]string
		body       []byte
		status     int
		msg        string
	}{
		{"records twice", "/v1/predict", jsonCT, []byte(`{"records":[],"records":[` + rec + `]}`), 400, "records: the key appears twice"},
		{"a feature twice", "/v1/predict", jsonCT, []byte(`{"records":[{"age":99,` + rec[1:] + `]}`), 400, "records[0].age: the key appears twice"},
		{"a feature twice, escaped", "/v1/predict", jsonCT, []byte(`{"records":[{"ag\u0065":99,` + rec[1:] + `]}`), 400, "records[0].age: the key appears twice"},
		{"trailing }", "/v1/predict", jsonCT, []byte(one + "}"), 400, "unexpected data after the JSON value"},
		{"trailing ]", "/v1/predict", jsonCT, []byte(one + "]"), 400, "unexpected data after the JSON value"},
		{"trailing } on the slow path", "/v1/explain", jsonCT, []byte(strings.Replace(one, `"P000000"`, `"P\u0030"`, 1) + "}"), 400, "unexpected data after the JSON value"},
		{"policy_id of 201 characters", "/v1/predict", jsonCT, withID("policy_id", `"`+strings.Repeat("P", 201)+`"`), 422, "records[0].policy_id: 201 characters is more than the limit of 200"},
		{"policy_id of 9,000 characters", "/v1/explain", jsonCT, withID("policy_id", `"`+strings.Repeat("P", 9000)+`"`), 422, "records[0].policy_id: 9000 characters"},
		{"policy_id with NUL", "/v1/predict", jsonCT, withID("policy_id", `"P\u0000"`), 422, "records[0].policy_id: has the control character U+0000"},
		{"policy_id with ESC", "/v1/predict", jsonCT, withID("policy_id", `"P\u001b[2J"`), 422, "control character U+001B"},
		{"policy_id not UTF-8", "/v1/predict", jsonCT, withID("policy_id", "\"P\xff\xfe\""), 400, "not valid UTF-8 (at byte"},
		{"policy_id a lone surrogate", "/v1/predict", jsonCT, withID("policy_id", `"P\ud800"`), 422, "U+FFFD"},
		{"nested 20 deep", "/v1/predict", jsonCT, []byte(`{"records":` + strings.Repeat("[", 20) + strings.Repeat("]", 20) + `}`), 400, "nested more than 16 deep"},
		{"gzip named, plain body", "/v1/predict", gzipCT, many(1), 400, "not gzip data"},
		{"gzip body of 2 MB", "/v1/predict", gzipCT, gz(bytes.Repeat([]byte(" "), 2<<20)), 413, "larger than 20000 bytes once decompressed"},
		{"brotli", "/v1/predict", map[string]string{"Content-Type": "application/json", "Content-Encoding": "br"}, many(1), 415, `Content-Encoding "br" is not supported`},
		{"gzip twice", "/v1/predict", map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip, gzip"}, gz(gz(many(1))), 415, "not supported"},
		{"feedback: claim twice", "/v1/feedback", jsonCT, []byte(`{"outcomes":[{"policy_id":"P1","claim":true,"claim":false}]}`), 400, "outcomes[0].claim: the key appears twice"},
		{"feedback: outcomes twice", "/v1/feedback", jsonCT, []byte(`{"outcomes":[{"policy_id":"P1","claim":true}],"outcomes":[]}`), 400, "outcomes: the key appears twice"},
		{"feedback: trailing ]", "/v1/feedback", jsonCT, []byte(`{"outcomes":[{"policy_id":"P1","claim":true}]}]`), 400, "unexpected data"},
		{"feedback: NUL in an id", "/v1/feedback", jsonCT, []byte(`{"outcomes":[{"request_id":"r\u0000","claim":true}]}`), 422, "outcomes[0].request_id: has the control character U+0000"},
		{"feedback: request_id of 201", "/v1/feedback", jsonCT, []byte(`{"outcomes":[{"request_id":"` + strings.Repeat("r", 201) + `","claim":true}]}`), 422, "outcomes[0].request_id: 201 characters"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, msg := postWith(t, fn.URL+tt.path, tt.headers, tt.body)
			if status != tt.status || !strings.Contains(msg, tt.msg) {
				t.Errorf("got %d %q; want %d containing %q", status, msg, tt.status, tt.msg)
			}
		})
	}
	// A gzip body is read, and 200 characters (not bytes) is the limit.
	for name, body := range map[string][]byte{
		"a gzip body":                         gz(many(1)),
		"a policy_id of 200 two-byte letters": withID("policy_id", `"`+strings.Repeat("é", 200)+`"`),
	} {
		headers := jsonCT
		if name == "a gzip body" {
			headers = gzipCT
		}
		if status, msg := postWith(t, fn.URL+"/v1/predict", headers, body); status != http.StatusOK {
			t.Errorf("%s: %d %s; want 200", name, status, msg)
		}
	}

	// Wrong methods and paths are 4xx too, and the service stays up.
	req, _ := http.NewRequest(http.MethodGet, fn.URL+"/v1/predict", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 405 {
		t.Errorf("GET /v1/predict: %v %v, want 405", resp, err)
	}
	if status, _ := post(t, fn.URL+"/v2/predict", "application/json", many(1)); status != 404 {
		t.Errorf("POST /v2/predict: %d, want 404", status)
	}
	if resp, err := http.Get(fn.URL + "/health/readiness"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("not ready after the bad requests: %v %v", resp, err)
	}
}

// logged reads every row of one payload log in the bucket directory.
func logged[T any](t *testing.T, dir, prefix string) []T {
	t.Helper()
	return testenv.Rows[T](t, dir, prefix)
}

func TestFeedbackIsStored(t *testing.T) {
	fn, _, dir := served(t)
	c := predictapi.NewClient(fn.URL, "")
	resp, err := c.Predict(context.Background(), records(3))
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	ack, err := c.Feedback(context.Background(), []predictapi.Outcome{
		{RequestID: resp.RequestID, PolicyID: "P000000", Claim: &yes},
		{PolicyID: "P000001", Claim: &no},
	})
	if err != nil || ack.Accepted != 2 {
		t.Fatalf("feedback: %+v %v", ack, err)
	}
	for _, bad := range []string{`{"outcomes":[{"claim":true}]}`, `{"outcomes":[{"policy_id":"P1"}]}`, `{"outcomes":[{"policy_id":"P1","claim":"yes"}]}`} {
		if status, msg := post(t, fn.URL+"/v1/feedback", "application/json", []byte(bad)); status != 400 || msg == "" {
			t.Errorf("%s: %d %q, want 400 with a message", bad, status, msg)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows := logged[predlog.Feedback](t, dir, predlog.FeedbackPrefix)
		if len(rows) == 2 {
			if rows[0].RequestID != resp.RequestID || rows[0].Claim != 1 || rows[0].PolicyID == "P000000" || !strings.HasPrefix(rows[0].PolicyID, "p_") {
				t.Fatalf("feedback row = %+v; want the request id, claim 1 and a pseudonymised policy id", rows[0])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("feedback rows in the bucket: %d, want 2", len(rows))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// load sends batches of n records from workers goroutines until stop is
// closed, recording every answer.
type load struct {
	mu       sync.Mutex
	answered map[string]int // request id -> records
	versions map[int]int
	failures atomic.Int64
	lastErr  atomic.Value
}

func runLoad(url string, workers, n int, stop <-chan struct{}, tolerateErrors bool) *load {
	l := &load{answered: map[string]int{}, versions: map[int]int{}}
	c := predictapi.NewClient(url, "")
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs := records(n + w)[w:]
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := c.Predict(context.Background(), recs)
				if err != nil {
					l.failures.Add(1)
					l.lastErr.Store(err.Error())
					if tolerateErrors {
						time.Sleep(5 * time.Millisecond)
					}
					continue
				}
				l.mu.Lock()
				l.answered[resp.RequestID] = len(resp.Predictions)
				l.versions[resp.Model.Version]++
				l.mu.Unlock()
			}
		}()
	}
	go func() { <-stop; wg.Wait() }()
	return l
}

func TestPromotionIsPickedUpWithoutFailingARequest(t *testing.T) {
	fn, bucket, _ := served(t, "CLAIMRISK_POLL_INTERVAL=1h") // the event, not the poll, must do it
	stop := make(chan struct{})
	l := runLoad(fn.URL, 4, 5, stop, false)
	time.Sleep(500 * time.Millisecond)
	if d := testenv.Train(t, bucket, 7, 8000); !d.Promoted || d.Version != 2 {
		t.Fatalf("second training: %+v", d)
	}
	e, _ := events.New("promoted-2", events.ModelPromoted, events.SourceRegister, "", events.Decision{Version: 2, Promoted: true})
	s, _ := events.NewSender()
	if _, err := s.Send(context.Background(), fn.URL+"/v1/events", e); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		l.mu.Lock()
		v2 := l.versions[2]
		l.mu.Unlock()
		if v2 > 20 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	time.Sleep(200 * time.Millisecond)
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.failures.Load(); f != 0 {
		t.Fatalf("%d requests failed during the promotion (last: %v)", f, l.lastErr.Load())
	}
	if l.versions[1] == 0 || l.versions[2] == 0 {
		t.Fatalf("answers by version %v; want both v1 and v2", l.versions)
	}
}

func TestSIGTERMUnderLoadLogsEveryAnsweredPrediction(t *testing.T) {
	fn, _, dir := served(t, "CLAIMRISK_LOG_MAX_AGE=1h", "CLAIMRISK_LOG_BATCH_ROWS=1000000") // only shutdown writes
	stop := make(chan struct{})
	l := runLoad(fn.URL, 8, 20, stop, true)
	time.Sleep(1500 * time.Millisecond)
	if err := syscall.Kill(fn.Process.Pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-fn.Done():
	case <-time.After(40 * time.Second):
		t.Fatal("predict did not exit after SIGTERM")
	}
	close(stop)
	time.Sleep(100 * time.Millisecond)
	rows := logged[predlog.Row](t, dir, predlog.PredictionsPrefix)
	perRequest := map[string]int{}
	for _, r := range rows {
		perRequest[r.RequestID]++
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	answered := 0
	for id, n := range l.answered {
		answered += n
		if perRequest[id] != n {
			t.Errorf("request %s answered %d predictions, logged %d", id, n, perRequest[id])
		}
	}
	if answered == 0 || len(rows) != answered {
		t.Fatalf("answered %d predictions in %d requests, logged %d rows; want exactly one row each", answered, len(l.answered), len(rows))
	}
	t.Logf("SIGTERM during load: %d requests (%d predictions) answered and logged", len(l.answered), answered)
}

func TestBucketOutageLosesNothing(t *testing.T) {
	fn, _, dir := served(t, "CLAIMRISK_LOG_MAX_AGE=100ms")
	c := predictapi.NewClient(fn.URL, "")
	answered := 0
	send := func(n int) {
		for i := 0; i < n; i++ {
			resp, err := c.Predict(context.Background(), records(3))
			if err != nil {
				t.Fatalf("request failed: %v", err)
			}
			answered += len(resp.Predictions)
		}
	}
	send(5)
	// The bucket goes away: its directory is replaced by a file.
	away := dir + ".away"
	if err := os.Rename(dir, away); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a bucket"), 0o644); err != nil {
		t.Fatal(err)
	}
	send(20)
	time.Sleep(1500 * time.Millisecond) // flushes fail and are retried
	info, err := c.Model(context.Background())
	if err != nil || info.Registry.Reachable {
		t.Errorf("/v1/model during the outage: %+v %v; want the registry reported unreachable", info.Registry, err)
	}
	// It comes back.
	os.Remove(dir)
	if err := os.Rename(away, dir); err != nil {
		t.Fatal(err)
	}
	send(5)
	deadline := time.Now().Add(30 * time.Second)
	for {
		rows := logged[predlog.Row](t, dir, predlog.PredictionsPrefix)
		if len(rows) == answered {
			break
		}
		if len(rows) > answered {
			t.Fatalf("logged %d rows for %d answered predictions: duplicates", len(rows), answered)
		}
		if time.Now().After(deadline) {
			t.Fatalf("logged %d rows for %d answered predictions after the bucket returned", len(rows), answered)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	if rows := logged[predlog.Row](t, dir, predlog.PredictionsPrefix); len(rows) != answered {
		t.Fatalf("logged %d rows for %d answered predictions", len(rows), answered)
	}
}

func TestExplainAndCard(t *testing.T) {
	fn, _, _ := served(t)
	body, _ := json.Marshal(predictapi.PredictRequest{Records: records(3)})
	resp, err := http.Post(fn.URL+"/v1/explain", "application/json", bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("explain: %v %v", resp, err)
	}
	var ex predictapi.ExplainResponse
	json.NewDecoder(resp.Body).Decode(&ex)
	resp.Body.Close()
	pred, _ := predictapi.NewClient(fn.URL, "").Predict(context.Background(), records(3))
	if len(ex.Explanations) != 3 || !strings.Contains(ex.Reference, "average policy of the training data") {
		t.Fatalf("explain = %+v", ex)
	}
	for i, e := range ex.Explanations {
		sum := e.ReferenceLogit
		for _, c := range e.Contributions {
			sum += c.Contribution
		}
		if diff := sum - e.Logit; diff > 1e-9 || diff < -1e-9 || e.Probability != pred.Predictions[i].ClaimProbability {
			t.Errorf("record %d: contributions add to %v, logit %v; probability %v vs predict's %v", i, sum, e.Logit, e.Probability, pred.Predictions[i].ClaimProbability)
		}
	}
	for accept, want := range map[string]string{"": "# Factsheet: claim-risk v1", "text/html": "<title>Factsheet: claim-risk v1</title>"} {
		req, _ := http.NewRequest(http.MethodGet, fn.URL+"/v1/model/card", nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("card: %v %v", resp, err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(data), want) {
			t.Errorf("card with Accept %q lacks %q", accept, want)
		}
	}
}

func TestBearerTokenAndSignedEvents(t *testing.T) {
	const token, key = "s3cr3t-api-token-for-tests", "an-event-key-for-tests"
	fn, _, _ := served(t, "CLAIMRISK_API_TOKEN="+token, "CLAIMRISK_EVENT_KEY="+key)
	body, _ := json.Marshal(predictapi.PredictRequest{Records: records(1)})
	call := func(method, path, auth string) int {
		var rd io.Reader
		if method == http.MethodPost {
			rd = bytes.NewReader(body)
		}
		req, _ := http.NewRequest(method, fn.URL+path, rd)
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, ep := range []struct{ method, path string }{
		{"POST", "/v1/predict"}, {"POST", "/v1/explain"}, {"GET", "/v1/model"}, {"GET", "/v1/model/card"}, {"POST", "/v1/admin/flush"},
	} {
		for _, auth := range []string{"", "Bearer wrong", "Basic " + token, token} {
			if got := call(ep.method, ep.path, auth); got != 401 {
				t.Errorf("%s %s with Authorization %q: %d, want 401", ep.method, ep.path, auth, got)
			}
		}
		if got := call(ep.method, ep.path, "Bearer "+token); got != 200 {
			t.Errorf("%s %s with the token: %d, want 200", ep.method, ep.path, got)
		}
	}
	for _, path := range []string{"/health/readiness", "/health/liveness", "/metrics", "/openapi.json", "/docs"} {
		if got := call("GET", path, ""); got != 200 {
			t.Errorf("GET %s without a token: %d, want 200 (probes and scrapers hold no token)", path, got)
		}
	}
	// The broker holds no bearer token: events are checked by signature.
	s, _ := events.NewSender()
	s.Retries = 0
	e, _ := events.New("promoted-x", events.ModelPromoted, events.SourceRegister, "", events.Decision{Version: 1, Promoted: true})
	if _, err := s.Send(context.Background(), fn.URL+"/v1/events", e); events.StatusOf(err) != 401 {
		t.Errorf("unsigned promotion event: %v, want 401", err)
	}
	events.NewSigner(key).Sign(&e)
	if _, err := s.Send(context.Background(), fn.URL+"/v1/events", e); err != nil {
		t.Errorf("signed promotion event: %v", err)
	}
	// The CLI sends the token from the environment.
	out := testenv.CLI(t, []string{"CLAIMRISK_API_TOKEN=" + token}, "predict", "--example", "--url", fn.URL)
	if !strings.Contains(out, "claim-risk v1") {
		t.Errorf("claimrisk predict with CLAIMRISK_API_TOKEN: %q", out)
	}
}

// challenger registers a second model that the gate rejects, so that it
// stays the registry's challenger beside champion v1.
func challenger(t *testing.T, bucket string) registry.Version {
	t.Helper()
	ctx := context.Background()
	trained := testenv.Trained(t, bucket, 7, 8000)
	b, err := blobstore.Open(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	policy := promotion.DefaultPolicy()
	policy.Margin = 1 // no Gini can win by that much
	policy.LogLossMargin = 1
	gate := &promotion.Gate{Registry: registry.Open(b, model.Name), Runs: runstore.New(b), Policy: policy, Actor: "test", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	d, err := gate.Judge(ctx, trained.Best.ID)
	if err != nil || d.Promoted {
		t.Fatalf("challenger: %+v %v", d, err)
	}
	v, err := gate.Registry.Get(ctx, d.Version)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestShadowChallenger: with a challenger in the registry, predict answers
// with the champion alone and logs both models' answers with their versions;
// with CLAIMRISK_SHADOW=false it scores the champion only.
func TestShadowChallenger(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprintf("shadow=%v", on), func(t *testing.T) {
			fn, bucket, dir := served(t, fmt.Sprintf("CLAIMRISK_SHADOW=%v", on))
			ch := challenger(t, bucket)
			m, err := ch.LoadModel()
			if err != nil {
				t.Fatal(err)
			}
			c := predictapi.NewClient(fn.URL, "")
			ctx := context.Background()
			deadline := time.Now().Add(10 * time.Second)
			for on {
				info, err := c.Model(ctx)
				if err == nil && info.Shadow != nil && info.Shadow.Version == ch.Version {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("predict never took challenger v%d into shadow: %+v %v", ch.Version, info, err)
				}
				time.Sleep(100 * time.Millisecond)
			}
			recs := records(50)
			resp, err := c.Predict(ctx, recs)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Model.Version != 1 {
				t.Fatalf("answered by v%d, want the champion v1", resp.Model.Version)
			}
			if err := c.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			rows := logged[predlog.ShadowRow](t, dir, predlog.ShadowPrefix)
			if !on {
				if len(rows) != 0 {
					t.Fatalf("%d shadow rows with CLAIMRISK_SHADOW=false", len(rows))
				}
				return
			}
			if len(rows) != len(recs) {
				t.Fatalf("%d shadow rows, want %d", len(rows), len(recs))
			}
			for i, r := range rows {
				if r.RequestID != resp.RequestID || r.ModelVersion != int32(ch.Version) || r.ChampionVersion != 1 ||
					r.ChampionProbability != resp.Predictions[i].ClaimProbability || r.Probability != m.Predict(recs[i]) || !r.Time.Equal(resp.PredictedAt) {
					t.Fatalf("shadow row %d = %+v; want request %s, v%d's probability %v beside the champion's %v", i, r, resp.RequestID, ch.Version, m.Predict(recs[i]), resp.Predictions[i].ClaimProbability)
				}
			}
		})
	}
}

// TestCollectorSettings checks predict's collector defaults (GOGC 400, a
// 384 MiB soft limit) as its /metrics reports them, and that GOGC and
// GOMEMLIMIT in the environment still win over them.
func TestCollectorSettings(t *testing.T) {
	fn, bucket, _ := served(t)
	overridden := testenv.StartFunction(t, "predict", "CLAIMRISK_BUCKET="+bucket, "GOGC=150", "GOMEMLIMIT=100MiB")
	for _, c := range []struct {
		url         string
		gogc, limit string
	}{
		{fn.URL, "go_gc_gogc_percent 400", "go_gc_gomemlimit_bytes 4.02653184e+08"},
		{overridden.URL, "go_gc_gogc_percent 150", "go_gc_gomemlimit_bytes 1.048576e+08"},
	} {
		resp, err := http.Get(c.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{c.gogc, c.limit} {
			if !strings.Contains(string(body), "\n"+want+"\n") {
				t.Errorf("%s/metrics has no line %q", c.url, want)
			}
		}
	}
}
