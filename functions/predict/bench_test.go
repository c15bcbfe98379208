package function

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// BenchmarkStartToReady measures the time from starting the predict binary
// to its readiness, the champion loaded from a file:// bucket.
func BenchmarkStartToReady(b *testing.B) {
	bucket := "file://" + filepath.Join(b.TempDir(), "bucket")
	testenv.Train(b, bucket, 42, 8000)
	bin := testenv.Binary(b, "predict")
	var times []float64
	for b.Loop() {
		addr := testenv.FreeAddr(b)
		start := time.Now()
		p, err := localrun.StartProcess(context.Background(), localrun.Spec{
			Name: "predict", Path: bin, Addr: addr, Ready: "/health/readiness", Timeout: 30 * time.Second,
			Env: []string{"LISTEN_ADDRESS=" + addr, "CLAIMRISK_BUCKET=" + bucket},
		}, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		times = append(times, float64(time.Since(start).Microseconds())/1000)
		p.Stop(5 * time.Second)
	}
	b.ReportMetric(median(times), "ms-to-ready-p50")
}

// BenchmarkPredictHTTP measures one request at a time with a keep-alive
// client against the running binary, and reports the median latency.
func BenchmarkPredictHTTP(b *testing.B) {
	bucket := "file://" + filepath.Join(b.TempDir(), "bucket")
	testenv.Train(b, bucket, 42, 8000)
	fn := testenv.StartFunction(b, "predict", "CLAIMRISK_BUCKET="+bucket)
	for _, n := range []int{1, 1000} {
		b.Run(map[int]string{1: "records=1", 1000: "records=1000"}[n], func(b *testing.B) {
			body, _ := json.Marshal(predictapi.PredictRequest{Records: records(n)})
			client := &http.Client{}
			var lat []float64
			for b.Loop() {
				start := time.Now()
				resp, err := client.Post(fn.URL+"/v1/predict", "application/json", bytes.NewReader(body))
				if err != nil || resp.StatusCode != 200 {
					b.Fatalf("%v %v", resp, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, float64(time.Since(start).Microseconds())/1000)
			}
			b.ReportMetric(median(lat), "ms-p50")
		})
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkHandle calls the started function's handler with one record per
// request, without a socket: what predict adds on top of the HTTP server
// (decoding, scoring, the payload log, the answer), with its allocations.
func BenchmarkHandle(b *testing.B) {
	bucket := "file://" + filepath.Join(b.TempDir(), "bucket")
	testenv.Train(b, bucket, 42, 8000)
	b.Setenv("CLAIMRISK_BUCKET", bucket)
	b.Setenv("LOG_LEVEL", "error")
	b.Setenv("CLAIMRISK_POLL_INTERVAL", "1h")
	fn := New()
	ctx := context.Background()
	if err := fn.Start(ctx, nil); err != nil {
		b.Fatal(err)
	}
	defer fn.Stop(ctx)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if ok, _ := fn.Ready(ctx); ok {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("no champion loaded")
		}
	}
	recs := records(200)
	bodies := make([][]byte, len(recs))
	for i, r := range recs {
		bodies[i], _ = json.Marshal(predictapi.PredictRequest{Records: []schema.PolicyRecord{r}})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/predict", bytes.NewReader(bodies[i%len(bodies)]))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		fn.Handle(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("answered %d: %s", w.Code, w.Body)
		}
		i++
	}
}
