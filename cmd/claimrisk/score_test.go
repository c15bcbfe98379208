package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/batchscore"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// champion trains a small model into a new file:// bucket.
func champion(t testing.TB) (string, *model.Model) {
	t.Helper()
	bucket := "file://" + filepath.Join(t.TempDir(), "bucket")
	return bucket, testenv.Champion(t, bucket, 42, 8000)
}

func TestScoreWritesEveryRecordInOrder(t *testing.T) {
	bucket, m := champion(t)
	dir := t.TempDir()
	// More than one chunk, and a partial last one.
	recs := testenv.PolicyRecords(t, 7, batchscore.Chunk+123)
	in, out := filepath.Join(dir, "in.parquet"), filepath.Join(dir, "scores.parquet")
	testenv.WriteParquet(t, in, recs)
	stdout, stderr, code := cli(t, "score", "--input", in, "--output", out, "--bucket", bucket)
	if code != 0 || !strings.Contains(stdout, "scored "+thousands(len(recs))+" records") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// The command scores with the champion as batchscore.File does, whose
	// own test checks each row against the model: the files are the same.
	lib := filepath.Join(t.TempDir(), "scores.parquet")
	if _, err := batchscore.File(context.Background(), m, in, lib, func(int64, int64) {}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := os.ReadFile(lib); !bytes.Equal(got, want) || len(got) == 0 {
		t.Errorf("claimrisk score wrote %d bytes, not the %d batchscore.File writes with the champion", len(got), len(want))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the directory holds %d entries, want the input and the output", len(entries))
	}
	// The scores get the mode any new file gets here (0666 less the umask),
	// not a temporary file's 0600.
	ref := filepath.Join(t.TempDir(), "ref")
	f, err := os.Create(ref)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := os.Stat(ref); st.Mode().Perm() != want.Mode().Perm() {
		t.Errorf("the scores' mode is %v; a new file's is %v", st.Mode().Perm(), want.Mode().Perm())
	}
}

// An --output that cannot be written is refused before any scoring, in
// one line that names it, not at the rename after the whole file.
func TestScoreRefusesAnOutputItCannotWrite(t *testing.T) {
	bucket, _ := champion(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.parquet")
	testenv.WriteParquet(t, in, testenv.PolicyRecords(t, 7, 300))
	outDir := filepath.Join(dir, "scores")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for out, want := range map[string]string{
		outDir: "the output " + outDir + " is a directory",
		filepath.Join(dir, "missing", "s.parquet"): "the output's directory " + filepath.Join(dir, "missing") + " does not exist",
		filepath.Join(in, "s.parquet"):             "the output's directory " + in + " is not a directory",
	} {
		stdout, stderr, code := cli(t, "score", "--input", in, "--output", out, "--bucket", bucket)
		if code != 1 || stdout != "" || !strings.Contains(stderr, want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("--output %s: exit %d, stdout %q, stderr %q; want 1 and one line with %q", out, code, stdout, stderr, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the directory holds %d entries, want the input and the output directory", len(entries))
	}
}

// An --output that is the input, by any path, would replace the records
// with their scores: it is refused, and the input is left as it was.
func TestScoreRefusesToReplaceItsInput(t *testing.T) {
	bucket, _ := champion(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.parquet")
	testenv.WriteParquet(t, in, testenv.PolicyRecords(t, 7, 300))
	before, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.parquet")
	if err := os.Symlink(in, link); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{in, dir + "/./in.parquet", link} {
		stdout, stderr, code := cli(t, "score", "--input", in, "--output", out, "--bucket", bucket)
		if code != 2 || stdout != "" || !strings.Contains(stderr, "the output is the input file") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("--output %s: exit %d, stdout %q, stderr %q; want 2 and one line", out, code, stdout, stderr)
		}
	}
	if after, _ := os.ReadFile(in); !bytes.Equal(after, before) {
		t.Fatal("the input file changed")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the directory holds %d entries, want the input and the link", len(entries))
	}
}

func TestScoreBadInputLeavesNoOutput(t *testing.T) {
	bucket, _ := champion(t)
	dir := t.TempDir()
	recs := testenv.PolicyRecords(t, 7, 500)
	recs[41].VehicleType = "tank"
	bad := filepath.Join(dir, "bad.parquet")
	testenv.WriteParquet(t, bad, recs)
	notParquet := filepath.Join(dir, "notes.parquet")
	os.WriteFile(notParquet, []byte("policy_id,age\nP1,40\n"), 0o644)
	wrongColumns := filepath.Join(dir, "customers.parquet")
	testenv.WriteParquet(t, wrongColumns, []schema.Customer{{CustomerID: "C1"}})
	empty := filepath.Join(dir, "empty.parquet")
	testenv.WriteParquet[schema.PolicyRecord](t, empty, nil)
	tests := []struct {
		name, input, want string
		code              int
	}{
		{"invalid record", bad, `bad.parquet: row 42 (policy_id "` + recs[41].PolicyID + `"): vehicle_type: "tank" is not one of`, 1},
		{"not Parquet", notParquet, "not a Parquet file", 1},
		{"other columns", wrongColumns, "column policy_id is missing", 1},
		{"no records", empty, "holds no records", 1},
		{"missing file", filepath.Join(dir, "nothing.parquet"), "no such file", 1},
		{"a directory", t.TempDir(), "is a directory, not a Parquet file", 1},
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

// A run killed with SIGKILL leaves its hidden temporary file beside the
// output (nothing can remove it then); the next run for that output
// removes it, and leaves only the input and the scores.
func TestScoreRemovesAKilledRunsTemporaryFile(t *testing.T) {
	bucket, _ := champion(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.parquet"), filepath.Join(dir, "scores.parquet")
	testenv.WriteParquet(t, in, testenv.PolicyRecords(t, 3, 500))
	// What a killed run leaves: its temporary file, whose lock went with it.
	left := filepath.Join(dir, ".scores.parquet.K1LL3DRUN0.tmp")
	if err := os.WriteFile(left, []byte("PAR1 half a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	killed := time.Now().Add(-time.Minute) // its run was killed a minute ago
	if err := os.Chtimes(left, killed, killed); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := cli(t, "score", "--input", in, "--output", out, "--bucket", bucket); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "in.parquet scores.parquet" {
		t.Errorf("the directory holds %v, want only the input and the scores", names)
	}
}
