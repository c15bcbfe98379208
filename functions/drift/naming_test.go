package function

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// Reports are named and ordered by when the check ran on the drift
// function's clock, not by the time the cron event claims; an event dated
// far in the future is refused; and a report an older version named in the
// year 9999 neither poses as the latest nor swallows the next window.
func TestReportsAreNamedByTheCheckClock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bucket")
	bucket := "file://" + dir
	if d := testenv.Train(t, bucket, 42, 8000); !d.Promoted {
		t.Fatalf("no champion: %s", d.Reason)
	}
	ctx := context.Background()
	b, err := blobstore.Open(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// The poisoned stream: a report with a verdict whose window ends in 9999.
	poison := driftcheck.Report{Format: driftcheck.Format, ID: "99991231T235959.000Z", Enough: true,
		WindowFrom: time.Date(9999, 12, 30, 23, 59, 59, 0, time.UTC), WindowTo: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)}
	if err := b.WriteJSON(ctx, driftcheck.Key(poison.ID, "report.json"), poison); err != nil {
		t.Fatal(err)
	}
	// A minute of logged predictions: the champion's validation rows.
	champ, err := registry.Open(b, model.Name).Resolve(ctx, registry.Champion)
	if err != nil {
		t.Fatal(err)
	}
	data, err := b.Read(ctx, champ.Lineage.Validation)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := parquetio.Decode[predlog.ReferenceRow](data)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	rows := make([]predlog.Row, 300)
	for i := range rows {
		rows[i] = ref[i].Row
		rows[i].Time, rows[i].ModelVersion = start.Add(time.Duration(i)*100*time.Millisecond), int32(champ.Version)
	}
	obj, _ := parquetio.Encode(rows)
	if err := b.Write(ctx, predlog.PredictionsPrefix+start.Format("2006/01/02")+"/test.parquet", obj, "application/vnd.apache.parquet"); err != nil {
		t.Fatal(err)
	}

	t.Setenv("CLAIMRISK_BUCKET", bucket)
	t.Setenv("CLAIMRISK_LOG_MAX_AGE", "10ms")
	t.Setenv("CLAIMRISK_LOG_SLACK", "0s")
	t.Setenv("LOG_LEVEL", "error")
	f := New()
	if err := f.Start(ctx, nil); err != nil {
		t.Fatal(err)
	}
	defer f.Stop(ctx)

	// A ping dated 9999 is refused and writes nothing.
	far, _ := localrun.PingEvent(time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC), "drift")
	_, err = f.Handle(ctx, far)
	var res *cehttp.Result
	if !errors.As(err, &res) || res.StatusCode != 400 || !strings.Contains(err.Error(), "ahead of this clock") {
		t.Errorf("a ping dated 9999: %v; want 400 naming the time", err)
	}
	// A ping four minutes ahead (within clock skew) is taken, and its report
	// named by this clock.
	ahead, _ := localrun.PingEvent(time.Now().Add(4*time.Minute), "drift")
	before := time.Now()
	if _, err := f.Handle(ctx, ahead); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	rep, err := driftcheck.Latest(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ID < driftcheck.IDFor(before) || rep.ID > driftcheck.IDFor(after) || rep.EventID != ahead.ID() || !rep.EventTime.Equal(ahead.Time()) {
		t.Errorf("latest report %s for event %s at %s; want one named between %s and %s for event %s",
			rep.ID, rep.EventID, rep.EventTime, driftcheck.IDFor(before), driftcheck.IDFor(after), ahead.ID())
	}
	if rep.Rows != len(rows) || !rep.WindowFrom.Before(start) {
		t.Errorf("the window %s to %s holds %d rows; want the %d logged since %s (the 9999 report ends no window)", rep.WindowFrom, rep.WindowTo, rep.Rows, len(rows), start)
	}
	if ids, _ := b.Dirs(ctx, driftcheck.Prefix); len(ids) != 2 {
		t.Errorf("reports %v; want the poisoned one and one new", ids)
	}
}
