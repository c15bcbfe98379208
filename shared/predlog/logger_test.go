package predlog

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/parquetio"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func rowsIn(t *testing.T, b *blobstore.Bucket) int {
	t.Helper()
	keys, err := b.Keys(context.Background(), FeedbackPrefix)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, k := range keys {
		data, err := b.Read(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := parquetio.Decode[Feedback](data)
		if err != nil {
			t.Fatal(err)
		}
		n += len(rows)
	}
	return n
}

func add(t *testing.T, l *Logger[Feedback], n int) {
	t.Helper()
	for i := range n {
		if err := l.Add(Feedback{RequestID: "r", PolicyID: "p", Claim: int32(i % 2)}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFlushBySizeAgeAndClose holds with the background flush paced, as
// the predict function runs it, and without.
func TestFlushBySizeAgeAndClose(t *testing.T) {
	t.Parallel()
	for _, pace := range []time.Duration{0, time.Millisecond} {
		t.Run("pace "+pace.String(), func(t *testing.T) {
			t.Parallel()
			b, _ := blobstore.Open(context.Background(), "mem://")
			defer b.Close()
			l := NewLogger[Feedback](b, Options{Prefix: FeedbackPrefix, Instance: "t", BatchRows: 10, MaxAge: 300 * time.Millisecond, Log: quiet, Pace: pace})
			add(t, l, 25) // two batches by size; five rows wait for their age
			waitFor(t, func() bool { return rowsIn(t, b) == 25 })
			add(t, l, 3)
			if err := l.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := rowsIn(t, b); n != 28 {
				t.Fatalf("%d rows written, want 28", n)
			}
			if err := l.Add(Feedback{}); err == nil {
				t.Error("Add after Close succeeded")
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestOutageIsRetriedWithoutLossOrDuplicates(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "bucket")
	b, err := blobstore.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	os.Rename(dir, dir+".away")
	os.WriteFile(dir, nil, 0o644) // the bucket is gone
	l := NewLogger[Feedback](b, Options{Prefix: FeedbackPrefix, Instance: "t", BatchRows: 5, MaxAge: 50 * time.Millisecond, MaxPending: 40, Log: quiet})
	add(t, l, 40)
	if err := l.Add(Feedback{}); !errors.Is(err, ErrFull) {
		t.Fatalf("Add beyond MaxPending = %v, want ErrFull", err)
	}
	time.Sleep(500 * time.Millisecond)
	os.Remove(dir)
	os.Rename(dir+".away", dir) // it is back
	waitFor(t, func() bool { return l.Pending() == 0 })
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := rowsIn(t, b); n != 40 {
		t.Fatalf("%d rows after the outage, want exactly 40", n)
	}
}

func TestCloseReportsRowsItCouldNotWrite(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "bucket")
	b, _ := blobstore.Open(context.Background(), dir)
	defer b.Close()
	os.RemoveAll(dir)
	os.WriteFile(dir, nil, 0o644)
	l := NewLogger[Feedback](b, Options{Prefix: FeedbackPrefix, Instance: "t", Log: quiet})
	add(t, l, 7)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := l.Close(ctx); err == nil || l.Pending() != 7 {
		t.Fatalf("Close = %v with %d pending; want an error naming the 7 rows", err, l.Pending())
	}
}
