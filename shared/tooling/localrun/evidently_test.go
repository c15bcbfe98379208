package localrun_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
)

// The follower that runs the Evidently job after each drift check runs it
// for every new report once, even after a report named in the year 9999
// (written by a version that named reports by the event's time): the next
// real check still gets its Evidently run.
func TestFollowerRunsEveryNewReportOnceWhateverItsName(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := blobstore.Open(ctx, "file://"+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	write := func(id string) {
		t.Helper()
		rep := driftcheck.Report{Format: driftcheck.Format, ID: id, Enough: true}
		if err := b.WriteJSON(ctx, driftcheck.Key(id, "report.json"), rep); err != nil {
			t.Fatal(err)
		}
	}
	write("20260101T000000.000Z") // history: there before the follower
	var mu sync.Mutex
	var ran []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		localrun.FollowReports(ctx, b, 10*time.Millisecond, []string{"20260101T000000.000Z"}, func(r driftcheck.Report) {
			mu.Lock()
			ran = append(ran, r.ID)
			mu.Unlock()
		})
	}()
	got := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(ran)
	}
	waitFor := func(want []string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !slices.Equal(got(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("the follower ran %v; want %v", got(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	write("99991231T235959.000Z")
	waitFor([]string{"99991231T235959.000Z"})
	write("20261203T120000.000Z")
	waitFor([]string{"99991231T235959.000Z", "20261203T120000.000Z"})
	time.Sleep(50 * time.Millisecond) // several more looks: each report runs once
	if g := got(); len(g) != 2 {
		t.Fatalf("the follower ran %v; want each new report once", g)
	}
	cancel()
	<-done
}
