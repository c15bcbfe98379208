package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// TestBinDirRemovesThoseOfEndedProcesses: every test process builds the
// commands it runs into a directory of its own (a quarter of a gigabyte);
// the next one removes those of processes that have ended, so make test
// does not leave gigabytes in /tmp.
func TestBinDirRemovesThoseOfEndedProcesses(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	ended := exec.Command("true")
	if err := ended.Run(); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(os.TempDir(), "claimrisk-test-bin")
	old := filepath.Join(root, strconv.Itoa(ended.Process.Pid))
	alive := filepath.Join(root, strconv.Itoa(os.Getppid()))
	for _, d := range []string{old, alive} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := binDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the directory of ended process %d is still there", ended.Process.Pid)
	}
	if _, err := os.Stat(alive); err != nil {
		t.Errorf("the directory of running process %d was removed", os.Getppid())
	}
	if filepath.Base(dir) != strconv.Itoa(os.Getpid()) {
		t.Errorf("this process's directory is %s", dir)
	}
}
