package driftcheck_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/predlog"
)

// TestReadWindowReadsEveryObjectInOrder writes a window's log as many
// objects over two days and reads it back: every row in [from, to) once, in
// the objects' order, while the next object is read ahead; a corrupt
// object fails the read with its key, and a cancelled context stops it.
func TestReadWindowReadsEveryObjectInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, err := blobstore.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	prefix := "log/"
	from := time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC)
	to := from.Add(2 * time.Hour)
	var want []string
	for obj := range 12 {
		var rows []predlog.Feedback
		for k := range 50 {
			at := from.Add(time.Duration(obj*50+k-40) * 10 * time.Second) // starts before from, ends after to
			id := fmt.Sprintf("o%02d-r%02d", obj, k)
			rows = append(rows, predlog.Feedback{Time: at, RequestID: id})
			if !at.Before(from) && at.Before(to) {
				want = append(want, id)
			}
		}
		data, err := parquetio.Encode(rows)
		if err != nil {
			t.Fatal(err)
		}
		day := rows[0].Time.Format("2006/01/02")
		if err := b.Write(ctx, fmt.Sprintf("%s%s/%02d.parquet", prefix, day, obj), data, ""); err != nil {
			t.Fatal(err)
		}
	}
	at := func(f predlog.Feedback) time.Time { return f.Time }
	got, err := driftcheck.ReadWindow(ctx, b, prefix, from, to, at)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(got))
	for i, r := range got {
		ids[i] = r.RequestID
	}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Fatalf("ReadWindow read %d rows:\n%v\nwant %d:\n%v", len(ids), ids, len(want), want)
	}

	if err := b.Write(ctx, prefix+"2026/03/02/05.parquet", []byte("not parquet"), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := driftcheck.ReadWindow(ctx, b, prefix, from, to, at); err == nil || !strings.Contains(err.Error(), "2026/03/02/05.parquet") {
		t.Errorf("ReadWindow with a corrupt object: err = %v, want one naming it", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := driftcheck.ReadWindow(cancelled, b, prefix, from, to, at); err == nil {
		t.Error("ReadWindow with a cancelled context: no error")
	}
}
