package function

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// Checks = 20 drift checks run while predictions flow without a pause.
const checks = 20

// Predictions are answered without a pause while 20 drift checks run, as
// they are in production: every logged prediction lands in exactly one
// check's window, each report counts the rows of its window, and the
// windows meet without a gap. The payload log flushes every 400 ms, so
// every check finds predictions still buffered when it starts.
func TestEveryPredictionIsCheckedOnceAcrossTwentyChecks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bucket")
	bucket := "file://" + dir
	if d := testenv.Train(t, bucket, 42, 8000); !d.Promoted {
		t.Fatalf("no champion: %s", d.Reason)
	}
	common := []string{"CLAIMRISK_BUCKET=" + bucket, "CLAIMRISK_LOG_MAX_AGE=400ms", "LOG_LEVEL=warn"}
	predict := testenv.StartFunction(t, "predict", common...)
	drift := testenv.StartFunction(t, "drift", append(common, "CLAIMRISK_LOG_SLACK=600ms",
		"CLAIMRISK_DRIFT_MIN_ROWS=1", "CLAIMRISK_DRIFT_MIN_LABELS=1000000")...)

	// Traffic: one to three policies a request, until the checks are done.
	client := predictapi.NewClient(predict.URL, "")
	var answered atomic.Int64
	stop := make(chan struct{})
	var traffic sync.WaitGroup
	traffic.Add(1)
	go func() {
		defer traffic.Done()
		rng := rand.New(rand.NewPCG(14, 20))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			recs := make([]schema.PolicyRecord, 1+rng.IntN(3))
			for j := range recs {
				recs[j] = policy(rng, fmt.Sprintf("W%06d-%d", i, j))
			}
			if _, err := client.Predict(context.Background(), recs); err != nil {
				t.Errorf("predict: %v", err)
				return
			}
			answered.Add(int64(len(recs)))
			time.Sleep(time.Duration(5+rng.IntN(10)) * time.Millisecond)
		}
	}()

	s, _ := events.NewSender()
	s.Retries = 0
	for i := range checks {
		time.Sleep(time.Duration(100+37*i%150) * time.Millisecond)
		ping, _ := localrun.PingEvent(time.Now(), "drift")
		if _, err := s.Send(context.Background(), drift.URL, ping); err != nil {
			t.Fatalf("check %d: %v", i+1, err)
		}
	}
	close(stop)
	traffic.Wait()
	if err := client.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	reports := readReports(t, dir)
	rows := testenv.Rows[predlog.Row](t, dir, predlog.PredictionsPrefix)
	if len(reports) != checks {
		t.Fatalf("%d reports; want %d", len(reports), checks)
	}
	if int64(len(rows)) != answered.Load() {
		t.Errorf("%d predictions answered, %d logged", answered.Load(), len(rows))
	}
	inWindow := make([]int, len(reports))
	checked, missed, twice, after := 0, 0, 0, 0
	last := reports[len(reports)-1].WindowTo
	for _, r := range rows {
		n := 0
		for i, rep := range reports {
			if !r.Time.Before(rep.WindowFrom) && r.Time.Before(rep.WindowTo) {
				n++
				inWindow[i]++
			}
		}
		switch {
		case !r.Time.Before(last):
			after++ // for the next check
		case n == 0:
			missed++
		case n > 1:
			twice++
		default:
			checked++
		}
	}
	sum := 0
	for i, rep := range reports {
		sum += rep.Rows
		if i > 0 && !rep.WindowFrom.Equal(reports[i-1].WindowTo) {
			t.Errorf("report %s: window starts %s, the one before ends %s", rep.ID, rep.WindowFrom, reports[i-1].WindowTo)
		}
		if rep.Rows != inWindow[i] || !rep.Enough {
			t.Errorf("report %s counts %d rows (enough %v); %d logged predictions fall in its window", rep.ID, rep.Rows, rep.Enough, inWindow[i])
		}
	}
	t.Logf("%d checks: %d predictions answered and logged; %d checked once, %d in no window, %d in two, %d after the last window; the reports count %d; windows of %v rows",
		checks, len(rows), checked, missed, twice, after, sum, inWindow)
	if missed != 0 || twice != 0 || sum != checked {
		t.Errorf("%d predictions fell between windows and %d into two; the reports count %d of the %d before the last window's end", missed, twice, sum, checked+missed+twice)
	}
}

// policy is a valid policy record drawn from rng.
func policy(rng *rand.Rand, id string) schema.PolicyRecord {
	age := float64(20 + rng.IntN(60))
	return schema.PolicyRecord{
		PolicyID:   id,
		CustomerID: "C" + id,
		Driver: schema.Driver{
			Age:           age,
			YearsLicensed: float64(rng.IntN(int(age) - 15)),
			HomeArea:      schema.Areas[rng.IntN(len(schema.Areas))],
		},
		Cover: schema.Cover{
			VehicleType:   schema.VehicleTypes[rng.IntN(len(schema.VehicleTypes))],
			VehicleAge:    rng.IntN(15),
			Usage:         schema.Usages[rng.IntN(len(schema.Usages))],
			AnnualMileage: float64(3000 + rng.IntN(30000)),
			Coverage:      schema.Coverages[rng.IntN(len(schema.Coverages))],
			Deductible:    []int{250, 500, 1000, 2000}[rng.IntN(4)],
		},
	}
}

// readReports reads every drift report in a file:// bucket's directory,
// in the order of their names.
func readReports(t *testing.T, dir string) []driftcheck.Report {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, driftcheck.Prefix, "*", "report.json"))
	sort.Strings(paths)
	var out []driftcheck.Report
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var r driftcheck.Report
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, r)
	}
	return out
}
