// Package reliability holds the system tests of issue 9 that run the real
// function binaries on loopback: the bounded load test (make soak runs it
// longer), schemathesis against the predict API, and the checks that no
// credential reaches a log.
package reliability

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// SoakEnv names the variable that sets the load test's duration (make soak:
// 10m). Without it the test runs for defaultLoad.
const SoakEnv = "CLAIMRISK_SOAK"

const (
	defaultLoad = 12 * time.Second
	concurrency = 64
	batch       = 5 // records per request
)

func loadDuration(t *testing.T) time.Duration {
	v := os.Getenv(SoakEnv)
	if v == "" {
		return defaultLoad
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 5*time.Second {
		t.Fatalf("%s=%q: want a duration of at least 5s", SoakEnv, v)
	}
	return d
}

// rssKiB reads a process's resident set size from /proc.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		testenv.Require(t, "no /proc/%d/status to read the RSS from: %v", pid, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatalf("VmRSS line %q: %v", line, err)
			}
			return n
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

func policy(i int) schema.PolicyRecord {
	return schema.PolicyRecord{
		PolicyID:   fmt.Sprintf("L%07d", i),
		CustomerID: fmt.Sprintf("C%07d", i),
		Driver: schema.Driver{
			Age:           20 + float64(i%60),
			YearsLicensed: float64(i % 20),
			HomeArea:      schema.Areas[i%len(schema.Areas)],
		},
		Cover: schema.Cover{
			VehicleType:   schema.VehicleTypes[i%len(schema.VehicleTypes)],
			VehicleAge:    i % 15,
			Usage:         schema.Usages[i%len(schema.Usages)],
			AnnualMileage: 3000 + float64(i%40)*700,
			Coverage:      schema.Coverages[i%len(schema.Coverages)],
			Deductible:    []int{250, 500, 1000, 2000}[i%4],
		},
	}
}

// traffic is what the clients saw.
type traffic struct {
	mu        sync.Mutex
	latencies []time.Duration   // answered requests sent before the SIGTERM
	answered  map[string]int    // request id -> predictions, every 200
	versions  map[int]int       // answers by model version
	errs      []string          // failures before the SIGTERM, first few
	failed    atomic.Int64      // failures before the SIGTERM
	refused   atomic.Int64      // failures after the SIGTERM (scaled to zero)
	firstV2   atomic.Int64      // unix nanos of the first answer by v2
	sigterm   atomic.Int64      // unix nanos of the SIGTERM, 0 before
	lastAt    map[int]time.Time // last answer by version
	done      chan struct{}     // closed when every client has returned
}

// drive runs concurrency clients until stop closes and returns when every
// client has finished its last request.
func drive(url, token string, stop <-chan struct{}) *traffic {
	tr := &traffic{answered: map[string]int{}, versions: map[int]int{}, lastAt: map[int]time.Time{}}
	c := predictapi.NewClient(url, token)
	c.HTTP = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency}}
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs := make([]schema.PolicyRecord, batch)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				for j := range recs {
					recs[j] = policy(w*1_000_000 + i*batch + j)
				}
				afterTerm := tr.sigterm.Load() != 0
				start := time.Now()
				resp, err := c.Predict(context.Background(), recs)
				took := time.Since(start)
				if err != nil {
					if afterTerm || tr.sigterm.Load() != 0 {
						// Connection refused once the process has gone:
						// Knative would not route here any more.
						tr.refused.Add(1)
						time.Sleep(5 * time.Millisecond)
						continue
					}
					tr.failed.Add(1)
					tr.mu.Lock()
					if len(tr.errs) < 5 {
						tr.errs = append(tr.errs, err.Error())
					}
					tr.mu.Unlock()
					continue
				}
				tr.mu.Lock()
				tr.answered[resp.RequestID] = len(resp.Predictions)
				tr.versions[resp.Model.Version]++
				tr.lastAt[resp.Model.Version] = time.Now()
				if !afterTerm {
					tr.latencies = append(tr.latencies, took)
				}
				tr.mu.Unlock()
				if resp.Model.Version == 2 {
					tr.firstV2.CompareAndSwap(0, time.Now().UnixNano())
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tr.done = done
	return tr
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// TestLoad runs 64 clients against the predict binary on loopback for a
// fixed time (CLAIMRISK_SOAK, else 12 s). A third of the way in the champion
// is promoted by hand (claimrisk registry promote); at the end the process
// gets a SIGTERM, as Knative sends on scale to zero, while the clients are
// still sending. It wants zero failed requests before the SIGTERM, both
// versions answering, a resident set that stops growing once warm, and one
// payload-log row for every prediction answered, the last ones included.
// It is not parallel: the package's parallel tests wait until it is done,
// so its figures are the binary's, not the machine's other work.
func TestLoad(t *testing.T) {
	duration := loadDuration(t)
	dir := filepath.Join(t.TempDir(), "bucket")
	bucket := "file://" + dir
	// Two versions: v2 is trained first and then the champion goes back to
	// v1, so that the run can promote v2.
	for v, seed := range []uint64{42, 7} {
		if d := testenv.Train(t, bucket, seed, 8000); !d.Promoted || d.Version != v+1 {
			t.Fatalf("training v%d: %+v", v+1, d)
		}
	}
	promote := func(v int) {
		testenv.CLI(t, []string{"CLAIMRISK_BUCKET=" + bucket}, "registry", "promote", strconv.Itoa(v), "--reason", "tests/reliability TestLoad")
	}
	promote(1)
	token := "load-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	fn := testenv.StartFunction(t, "predict", "CLAIMRISK_BUCKET="+bucket, "CLAIMRISK_API_TOKEN="+token,
		"CLAIMRISK_POLL_INTERVAL=1s", "LOG_LEVEL=warn")
	pid := fn.Process.Pid()
	rssStart := rssKiB(t, pid)

	stop := make(chan struct{})
	began := time.Now()
	tr := drive(fn.URL, token, stop)

	time.Sleep(duration / 3)
	promotedAt := time.Now()
	promote(2)
	// Warm: the new champion serves and the heap has seen the full load.
	time.Sleep(duration / 3)
	rssWarm := rssKiB(t, pid)
	time.Sleep(duration - time.Since(began))
	rssEnd := rssKiB(t, pid)

	tr.sigterm.Store(time.Now().UnixNano())
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-fn.Done():
	case <-time.After(40 * time.Second):
		t.Fatal("predict did not exit within 40 s of the SIGTERM")
	}
	close(stop)
	select {
	case <-tr.done:
	case <-time.After(40 * time.Second):
		t.Fatal("the clients did not finish")
	}
	elapsed := time.Since(began)

	rows := testenv.Rows[predlog.Row](t, dir, predlog.PredictionsPrefix)
	perRequest := map[string]int{}
	for _, r := range rows {
		perRequest[r.RequestID]++
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	predictions, missing := 0, 0
	for id, n := range tr.answered {
		predictions += n
		if perRequest[id] != n {
			missing++
			if missing <= 5 {
				t.Errorf("request %s answered %d predictions, logged %d", id, n, perRequest[id])
			}
		}
	}
	slices.Sort(tr.latencies)
	p50, p99 := percentile(tr.latencies, 0.50), percentile(tr.latencies, 0.99)
	var pickup time.Duration
	if v2 := tr.firstV2.Load(); v2 != 0 {
		pickup = time.Unix(0, v2).Sub(promotedAt)
	}
	t.Logf("load: %d clients for %s: %d requests answered (%.0f/s), %d failed before the SIGTERM, p50 %s, p99 %s",
		concurrency, elapsed.Round(time.Second), len(tr.answered), float64(len(tr.latencies))/duration.Seconds(),
		tr.failed.Load(), p50.Round(time.Microsecond), p99.Round(time.Microsecond))
	t.Logf("load: RSS start %d KiB, warm %d KiB, end %d KiB", rssStart, rssWarm, rssEnd)
	t.Logf("load: promotion v1 -> v2 during the run: answers by version %v, v2 serving %s after the promote command",
		tr.versions, pickup.Round(time.Millisecond))
	t.Logf("load: SIGTERM under load: %d predictions in %d requests answered, %d rows logged, %d requests refused after the SIGTERM",
		predictions, len(tr.answered), len(rows), tr.refused.Load())

	if n := tr.failed.Load(); n != 0 {
		t.Errorf("%d requests failed before the SIGTERM; first: %q", n, tr.errs)
	}
	if tr.versions[1] == 0 || tr.versions[2] == 0 {
		t.Errorf("answers by version %v: want both v1 and v2", tr.versions)
	}
	if last1, first2 := tr.lastAt[1], time.Unix(0, tr.firstV2.Load()); first2.Before(promotedAt) || last1.After(first2.Add(5*time.Second)) {
		t.Errorf("v2 first answered at %s (promoted at %s), v1 last at %s: want v1 gone soon after v2 arrives",
			first2.Format(time.StampMilli), promotedAt.Format(time.StampMilli), last1.Format(time.StampMilli))
	}
	if len(rows) != predictions || missing != 0 {
		t.Errorf("%d predictions answered, %d rows logged, %d requests not logged exactly: the SIGTERM lost or duplicated records",
			predictions, len(rows), missing)
	}
	// Once warm, the resident set may breathe with the garbage collector
	// but not grow with the number of requests served.
	if limit := rssWarm*3/2 + 32<<10; rssEnd > limit {
		t.Errorf("RSS grew from %d KiB (warm) to %d KiB at the end, over %d KiB", rssWarm, rssEnd, limit)
	}
	if err := fn.Err(); err != nil {
		t.Errorf("predict exited with %v after the SIGTERM; want a clean exit", err)
	}
}
