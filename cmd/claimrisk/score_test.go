package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/synth"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// policyRecords are n records of a generated portfolio.
func policyRecords(t testing.TB, n int) []schema.PolicyRecord {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Policies = 7, max(n, 100)
	d, err := synth.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	customers := map[string]schema.Customer{}
	for _, c := range d.Customers {
		customers[c.CustomerID] = c
	}
	recs := make([]schema.PolicyRecord, n)
	for i := range recs {
		p := d.Policies[i%len(d.Policies)]
		recs[i] = schema.RecordFor(customers[p.CustomerID], p)
	}
	return recs
}

func writeRecords(t testing.TB, path string, recs []schema.PolicyRecord) {
	t.Helper()
	data, err := parquetio.Encode(recs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// champion trains a small model into a new file:// bucket.
func champion(t testing.TB) (string, *model.Model) {
	t.Helper()
	bucket := "file://" + filepath.Join(t.TempDir(), "bucket")
	testenv.Train(t, bucket, 42, 8000)
	b, err := blobstore.Open(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ver, err := registry.Open(b, model.Name).Resolve(context.Background(), registry.Champion)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ver.LoadModel()
	if err != nil {
		t.Fatal(err)
	}
	return bucket, m
}

func TestScoreWritesEveryRecordInOrder(t *testing.T) {
	bucket, m := champion(t)
	dir := t.TempDir()
	// More than one chunk, and a partial last one.
	recs := policyRecords(t, scoreChunk+123)
	in, out := filepath.Join(dir, "in.parquet"), filepath.Join(dir, "scores.parquet")
	writeRecords(t, in, recs)
	stdout, stderr, code := cli(t, "score", "--input", in, "--output", out, "--bucket", bucket)
	if code != 0 || !strings.Contains(stdout, "scored "+thousands(len(recs))+" records") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := parquetio.Decode[ScoreRow](data)
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
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the directory holds %d entries, want the input and the output", len(entries))
	}
}

func TestScoreBadInputLeavesNoOutput(t *testing.T) {
	bucket, _ := champion(t)
	dir := t.TempDir()
	recs := policyRecords(t, 500)
	recs[41].VehicleType = "tank"
	bad := filepath.Join(dir, "bad.parquet")
	writeRecords(t, bad, recs)
	notParquet := filepath.Join(dir, "notes.parquet")
	os.WriteFile(notParquet, []byte("policy_id,age\nP1,40\n"), 0o644)
	wrongColumns := filepath.Join(dir, "customers.parquet")
	data, _ := parquetio.Encode([]schema.Customer{{CustomerID: "C1"}})
	os.WriteFile(wrongColumns, data, 0o644)
	empty := filepath.Join(dir, "empty.parquet")
	writeRecords(t, empty, nil)
	tests := []struct {
		name, input, want string
		code              int
	}{
		{"invalid record", bad, `bad.parquet: row 42 (policy_id "` + recs[41].PolicyID + `"): vehicle_type: "tank" is not one of`, 1},
		{"not Parquet", notParquet, "not a Parquet file", 1},
		{"other columns", wrongColumns, "column policy_id is missing", 1},
		{"no records", empty, "holds no records", 1},
		{"missing file", filepath.Join(dir, "nothing.parquet"), "no such file", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, "out-"+strconv.Itoa(len(tt.name))+".parquet")
			stdout, stderr, code := cli(t, "score", "--input", tt.input, "--output", out, "--bucket", bucket)
			if code != tt.code || stdout != "" || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and one line with %q", code, stdout, stderr, tt.code, tt.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a failed run left %s", out)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 4 {
		t.Errorf("the directory holds %d entries, want only the 4 inputs (no temporary files)", len(entries))
	}
	if _, stderr, code := cli(t, "score", "--input", bad, "--bucket", bucket); code != 2 || !strings.Contains(stderr, "--output") {
		t.Errorf("without --output: exit %d, stderr %q; want 2", code, stderr)
	}
	if _, stderr, code := cli(t, "score", "--input", bad, "--output", filepath.Join(dir, "x.parquet"), "--bucket", bucket, "--version", "99"); code != 1 || !strings.Contains(stderr, "no version 99") {
		t.Errorf("--version 99: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code := cli(t, "score", "--input", bad, "--output", filepath.Join(dir, "x.parquet"), "--bucket", t.TempDir()); code != 1 || !strings.Contains(stderr, "no champion") {
		t.Errorf("empty bucket: exit %d, stderr %q", code, stderr)
	}
}

// BenchmarkScore scores CLAIMRISK_SCORE_ROWS records (default 200,000) per
// iteration; make bench takes its CPU and memory profiles.
func BenchmarkScore(b *testing.B) {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("CLAIMRISK_SCORE_ROWS")); err == nil && v > 0 {
		n = v
	}
	_, m := champion(b)
	dir := b.TempDir()
	in, out := filepath.Join(dir, "in.parquet"), filepath.Join(dir, "out.parquet")
	writeRecords(b, in, policyRecords(b, n))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := scoreFile(context.Background(), m, in, out, func(int64, int64) {}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
	b.ReportMetric(math.Round(float64(n)*float64(b.N)/b.Elapsed().Seconds()), "records/s")
}
