package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spf13/cobra"

	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// cli runs the command line in-process and returns stdout, stderr and the
// exit status.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestEveryCommandHasHelp(t *testing.T) {
	t.Setenv("CLAIMRISK_BUCKET", t.TempDir())
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		t.Run(strings.Join(append([]string{"claimrisk"}, path...), " "), func(t *testing.T) {
			out, _, code := cli(t, append(path, "--help")...)
			if code != 0 || !strings.Contains(out, "Usage:") || c.Short == "" {
				t.Errorf("--help exited %d, printed %q; short description %q", code, out, c.Short)
			}
		})
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			walk(sub, append(append([]string{}, path...), sub.Name()))
		}
	}
	walk((&app{}).rootCmd(), nil)
}

func TestMistakesGetOneLineAndStatus2(t *testing.T) {
	t.Setenv("CLAIMRISK_BUCKET", t.TempDir())
	for _, args := range [][]string{
		{"no-such-command"},
		{"data", "generate", "--policies", "many"},
		{"data", "generate", "--policies", "5"},
		{"data", "generate", "--no-such-flag"},
		{"data", "fetch-crashes", "--from", "yesterday"},
		{"runs", "list", "extra"},
		{"simulate", "--scenario", "broker", "--windows", "0"},
		{"simulate", "--scenario", "broker", "--windows", "3", "--shift-from", "4"},
		{"simulate", "--scenario", "broker", "--label-delay", "-1"},
		{"simulate", "--scenario", "broker", "--label-delay", "2", "--no-feedback"},
		{"simulate", "--scenario", "unknown-scenario"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, errOut, code := cli(t, args...)
			if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "claimrisk: ") {
				t.Errorf("exit %d, stdout %q, stderr %q; want status 2 and one line on stderr", code, out, errOut)
			}
		})
	}
}

func TestGenerateValidateAndBadData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	out, _, code := cli(t, "data", "generate", "--policies", "1200", "--out", dir)
	if code != 0 || !strings.Contains(out, "1,200 policies") {
		t.Fatalf("generate: %d %q", code, out)
	}
	first, _ := os.ReadFile(filepath.Join(dir, dataset.ManifestObject))
	cli(t, "data", "generate", "--policies", "1200", "--out", dir)
	second, _ := os.ReadFile(filepath.Join(dir, dataset.ManifestObject))
	if !bytes.Equal(first, second) {
		t.Error("generating twice with the same seed gave different manifests")
	}
	if out, _, code := cli(t, "data", "validate", "--dir", dir); code != 0 || !strings.HasPrefix(out, "valid: ") {
		t.Fatalf("validate: %d %q", code, out)
	}

	// Break one value: validation and upload name it and write nothing.
	data, _ := os.ReadFile(filepath.Join(dir, dataset.PoliciesObject))
	policies, _ := parquetio.Decode[schema.Policy](data)
	policies[7].AnnualMileage = 1e9
	broken, _ := parquetio.Encode(policies)
	os.WriteFile(filepath.Join(dir, dataset.PoliciesObject), broken, 0o644)
	bucket := t.TempDir()
	for _, args := range [][]string{{"data", "validate", "--dir", dir}, {"data", "upload", "--dir", dir, "--bucket", bucket, "--sink", ""}} {
		_, errOut, code := cli(t, args...)
		want := "claimrisk: dataset: invalid data: policies.parquet: row 8 (policy_id P00000008): annual_mileage: 1e+09 is above the maximum 100000 miles per year\n"
		if code != 1 || errOut != want {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", args[1], code, errOut, want)
		}
	}
	if entries, _ := os.ReadDir(bucket); len(entries) != 0 {
		t.Errorf("a failed upload wrote %d entries into the bucket", len(entries))
	}
}

func TestUploadWithoutAReceiver(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cli(t, "data", "generate", "--policies", "300", "--out", dir)
	_, errOut, code := cli(t, "data", "upload", "--dir", dir, "--bucket", t.TempDir(), "--sink", "http://127.0.0.1:1")
	if code != 1 || !strings.Contains(errOut, "the data is uploaded, but nothing answered at http://127.0.0.1:1") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestFetchCrashesFromAFile(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "crashes.csv")
	os.WriteFile(csv, []byte("crash_record_id,crash_date,injuries_total,beat_of_occurrence\n"+
		"x1,2024-01-05T08:30:00.000,1,1834\nx2,2024-02-06T08:30:00.000,0,1834\nx3,2024-02-07T08:30:00.000,0,\n"), 0o644)
	out := filepath.Join(dir, "accidents.parquet")
	stdout, errOut, code := cli(t, "data", "fetch-crashes", "--file", csv, "--from", "2024-01-01", "--to", "2024-02-29", "--out", out)
	if code != 0 || !strings.Contains(stdout, "aggregated 3 crashes (1 skipped") {
		t.Fatalf("fetch-crashes: %d %q %q", code, stdout, errOut)
	}
	data, _ := os.ReadFile(out)
	rows, err := parquetio.Decode[schema.AccidentMonth](data)
	if err != nil || len(rows) != 2*len(schema.Areas) {
		t.Fatalf("accident table: %d rows, %v", len(rows), err)
	}
}

func TestRunsListOnAnEmptyBucket(t *testing.T) {
	bucket := t.TempDir()
	out, _, code := cli(t, "runs", "list", "--json", "--bucket", bucket)
	var runs []any
	if code != 0 || json.Unmarshal([]byte(out), &runs) != nil || len(runs) != 0 {
		t.Errorf("runs list --json on an empty bucket: %d %q; want []", code, out)
	}
	out, _, _ = cli(t, "runs", "list", "--bucket", bucket)
	if !strings.Contains(out, "no runs in") {
		t.Errorf("runs list on an empty bucket printed %q", out)
	}
}

func TestRegistryCard(t *testing.T) {
	bucket := "file://" + t.TempDir()
	testenv.Train(t, bucket, 42, 8000)
	out, errOut, code := cli(t, "registry", "card", "1", "--bucket", bucket)
	if code != 0 || !strings.Contains(out, "# Factsheet: claim-risk v1") || !strings.Contains(out, "## Fairness") {
		t.Fatalf("card: %d %q %q", code, out[:min(len(out), 200)], errOut)
	}
	if _, errOut, code := cli(t, "registry", "card", "7", "--bucket", bucket); code != 1 || !strings.Contains(errOut, "no factsheet for claim-risk v7") {
		t.Errorf("card of a missing version: %d %q", code, errOut)
	}
	if _, _, code := cli(t, "registry", "card", "1", "--format", "pdf", "--bucket", bucket); code != 2 {
		t.Errorf("card --format pdf exited %d, want 2", code)
	}
}

// A --dir that is missing or a file is named as such, not as a missing
// table inside it or a failed read of one.
func TestValidateAndUploadNameAMissingDirectory(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tables")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "no-such-dir")
	bucket := filepath.Join(dir, "bucket")
	for _, tc := range []struct{ dir, want string }{
		{missing, "claimrisk: dataset: invalid data: directory " + missing + " does not exist\n"},
		{file, "claimrisk: dataset: invalid data: " + file + " is a file, not a directory of tables\n"},
	} {
		for _, args := range [][]string{{"data", "validate", "--dir", tc.dir}, {"data", "upload", "--dir", tc.dir, "--bucket", bucket, "--sink", ""}} {
			_, errOut, code := cli(t, args...)
			if code != 1 || errOut != tc.want {
				t.Errorf("%s --dir %s: exit %d, stderr %q; want 1 and %q", args[1], tc.dir, code, errOut, tc.want)
			}
		}
	}
	if _, err := os.Stat(bucket); err == nil {
		t.Error("an upload that found no tables created the bucket")
	}
}

// A command that reads the bucket, given a bucket path that does not exist
// (a typo), says so in one line and creates nothing; it used to create the
// directory and answer "no versions yet". (lab check is the exception: on
// a fresh machine its answer is the list of what is still to do.)
func TestReadingCommandsRefuseAMissingBucket(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "typo")
	for _, args := range [][]string{
		{"runs", "list"},
		{"registry", "list"},
		{"registry", "show", "1"},
		{"deadletter", "list"},
		{"drift", "report"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, errOut, code := cli(t, append(args, "--bucket", missing)...)
			want := "claimrisk: no bucket at " + missing + ": check --bucket"
			if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1 and one line starting %q", code, out, errOut, want)
			}
			if _, err := os.Stat(missing); err == nil {
				t.Fatalf("%s created the mistyped bucket %s", args, missing)
			}
		})
	}
}

// drift check with a bucket that does not exist says so before it asks the
// system for a check, not after the check has run elsewhere.
func TestDriftCheckWithAMissingBucketSendsNothing(t *testing.T) {
	var got atomic.Int32
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer sink.Close()
	missing := filepath.Join(t.TempDir(), "typo")
	_, errOut, code := cli(t, "drift", "check", "--sink", sink.URL, "--wait", "1s", "--bucket", missing)
	if code != 1 || !strings.HasPrefix(errOut, "claimrisk: no bucket at "+missing) {
		t.Errorf("exit %d, stderr %q; want 1 and the missing bucket named", code, errOut)
	}
	if n := got.Load(); n != 0 {
		t.Errorf("the check was sent %d times before the bucket was found missing", n)
	}
}
