package batchscore

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// champion trains a small model into a new file:// bucket.
func champion(t testing.TB) *model.Model {
	t.Helper()
	return testenv.Champion(t, "file://"+filepath.Join(t.TempDir(), "bucket"), 42, 8000)
}

func TestFileScoresEveryRecordInOrder(t *testing.T) {
	m := champion(t)
	dir := t.TempDir()
	// More than one chunk, a partial last one, and more than one chunk's
	// worth of progress.
	recs := testenv.PolicyRecords(t, 7, 2*Chunk+123)
	in, out := filepath.Join(dir, "in.parquet"), filepath.Join(dir, "scores.parquet")
	testenv.WriteParquet(t, in, recs)
	var calls []int64
	n, err := File(context.Background(), m, in, out, func(done, total int64) {
		if total != int64(len(recs)) {
			t.Errorf("progress total %d, want %d", total, len(recs))
		}
		calls = append(calls, done)
	})
	if err != nil || n != int64(len(recs)) {
		t.Fatalf("File = %d, %v; want %d records", n, err, len(recs))
	}
	if len(calls) < 3 || calls[len(calls)-1] != n {
		t.Errorf("progress %v; want one call per chunk, ending at %d", calls, n)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := parquetio.Decode[Row](data)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(recs) {
		t.Fatalf("%d rows scored, want %d", len(rows), len(recs))
	}
	for i, r := range rows {
		// The same model on the same record: the prediction API's answer.
		p := m.Predict(recs[i])
		if r.PolicyID != recs[i].PolicyID || r.ClaimProbability != p || r.RiskBand != model.Band(p) {
			t.Fatalf("row %d = %+v, want %s %v %s", i, r, recs[i].PolicyID, p, model.Band(p))
		}
	}
}

func TestFileStopsWhenCancelled(t *testing.T) {
	m := champion(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.parquet"), filepath.Join(dir, "scores.parquet")
	testenv.WriteParquet(t, in, testenv.PolicyRecords(t, 7, 3*Chunk))
	ctx, cancel := context.WithCancel(context.Background())
	_, err := File(ctx, m, in, out, func(int64, int64) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("File after cancel: %v; want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want only the input (no output, no temporary file)", len(entries))
	}
}

// BenchmarkScore scores CLAIMRISK_SCORE_ROWS records (default 200,000) per
// iteration; make bench takes its CPU and memory profiles.
func BenchmarkScore(b *testing.B) {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("CLAIMRISK_SCORE_ROWS")); err == nil && v > 0 {
		n = v
	}
	m := champion(b)
	dir := b.TempDir()
	in, out := filepath.Join(dir, "in.parquet"), filepath.Join(dir, "out.parquet")
	testenv.WriteParquet(b, in, testenv.PolicyRecords(b, 7, n))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := File(context.Background(), m, in, out, func(int64, int64) {}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
	b.ReportMetric(math.Round(float64(n)*float64(b.N)/b.Elapsed().Seconds()), "records/s")
}
