package knative_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// needDisk runs disk.sh's need_disk in bash, as node.sh does.
func needDisk(t *testing.T, dir, gigabytes string) (string, error) {
	t.Helper()
	lib := filepath.Join(testenv.RepoRoot(t), "config", "knative", "cluster", "source", "disk.sh")
	script := `set -eu; . "$1"; die() { echo "cluster: $*" >&2; exit 1; }; need_disk "$2" "$3" "the test"`
	out, err := exec.Command("bash", "-c", script, "bash", lib, dir, gigabytes).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// TestClusterStopsEarlyWhenTheDiskIsFull: a CI run once filled the disk
// halfway through importing the images ("no space left on device" from
// containerd). make cluster-up and .ci/run now check first (node.sh
// check-disk) and say so in one line.
func TestClusterStopsEarlyWhenTheDiskIsFull(t *testing.T) {
	dir := t.TempDir()
	// A directory that does not exist yet is measured on its parent.
	out, err := needDisk(t, filepath.Join(dir, "not", "yet"), "0")
	if err != nil {
		t.Fatalf("0 GB wanted: %v: %s", err, out)
	}
	out, err = needDisk(t, filepath.Join(dir, "state"), "1000000")
	if err == nil {
		t.Fatal("a million GB wanted, and need_disk let it through")
	}
	if strings.Count(out, "\n") != 0 || !strings.Contains(out, "the test needs about 1000000 GB free in "+dir) {
		t.Errorf("want one line naming the need and the place, got %q", out)
	}
}
