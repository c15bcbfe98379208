package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// TestReferencePagesAreCurrent fails when the committed reference pages
// differ from what the generator writes now.
func TestReferencePagesAreCurrent(t *testing.T) {
	out := t.TempDir()
	stdout, errOut, code := cli(t, "docs", "generate", "--out", out)
	if code != 0 {
		t.Fatalf("docs generate: exit %d, %s%s", code, stdout, errOut)
	}
	committed := filepath.Join(testenv.RepoRoot(t), "docs", "reference")
	generated, _ := os.ReadDir(out)
	var names []string
	for _, e := range generated {
		names = append(names, e.Name())
		want, _ := os.ReadFile(filepath.Join(out, e.Name()))
		got, err := os.ReadFile(filepath.Join(committed, e.Name()))
		if err != nil {
			t.Errorf("docs/reference/%s is missing: run make docs-reference", e.Name())
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("docs/reference/%s is out of date: run make docs-reference; first difference:\n%s", e.Name(), firstDifference(string(got), string(want)))
		}
	}
	present, _ := os.ReadDir(committed)
	for _, e := range present {
		if !slices.Contains(names, e.Name()) {
			t.Errorf("docs/reference/%s is no longer generated: delete it", e.Name())
		}
	}
}

// firstDifference shows the first line where the committed and the
// generated text differ.
func firstDifference(committed, generated string) string {
	c, g := strings.Split(committed, "\n"), strings.Split(generated, "\n")
	line := func(l []string, i int) string {
		if i < len(l) {
			return l[i]
		}
		return "(end of file)"
	}
	for i := range max(len(c), len(g)) {
		if line(c, i) != line(g, i) {
			return fmt.Sprintf("line %d\n  committed: %s\n  generated: %s", i+1, line(c, i), line(g, i))
		}
	}
	return "(none by line)"
}

// TestReferenceIgnoresTheEnvironment: the pages are the same whoever
// generates them, with a running system, a bucket, MLflow and a token set.
func TestReferenceIgnoresTheEnvironment(t *testing.T) {
	clean, err := referenceFiles()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	os.WriteFile(filepath.Join(home, "up.json"), []byte(`[{"name":"broker","url":"http://127.0.0.1:9700"},{"name":"predict","url":"http://127.0.0.1:9703"}]`), 0o644)
	t.Setenv("CLAIMRISK_HOME", home)
	t.Setenv("CLAIMRISK_BUCKET", "mem://somewhere")
	t.Setenv("MLFLOW_TRACKING_URI", "http://mlflow.example:5000")
	t.Setenv("K_SINK", "http://broker.example")
	t.Setenv("CLAIMRISK_API_TOKEN", "secret-token-value")
	busy, err := referenceFiles()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stringsOf(clean), stringsOf(busy)); diff != "" {
		t.Errorf("the reference depends on the environment (-clean +busy):\n%s", diff)
	}
	if os.Getenv("CLAIMRISK_API_TOKEN") != "secret-token-value" || os.Getenv("CLAIMRISK_HOME") != home {
		t.Error("generating the reference did not restore the environment")
	}
}

func stringsOf(files map[string][]byte) map[string]string {
	out := map[string]string{}
	for k, v := range files {
		out[k] = string(v)
	}
	return out
}
