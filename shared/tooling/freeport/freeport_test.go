package freeport

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
)

// Ports handed to servers started later must not come from the kernel's
// ephemeral range, which it hands to outgoing connections in between (a
// lab's Evidently once found its port taken that way).
func TestPortsComeFromBelowTheEphemeralRange(t *testing.T) {
	start := ephemeralStart()
	for range 200 {
		r, err := Reserve(6)
		if err != nil {
			t.Fatal(err)
		}
		if r.Base < lowest || r.Base+6 > start {
			t.Fatalf("run %d..%d is not within [%d, %d)", r.Base, r.Base+5, lowest, start)
		}
		r.Release()
	}
}

// A reserved port is not handed out again until it is released, to this
// process or to another (the lock is on a file every picker opens).
func TestAReservedPortIsNotPickedAgain(t *testing.T) {
	dir := t.TempDir()
	var held *Run
	for base := 20001; held == nil && base < 30000; base += 10 {
		held, _ = tryRun(dir, base, 3)
	}
	if held == nil {
		t.Fatal("no run of three free ports between 20001 and 30000")
	}
	b := held.Base
	for _, base := range []int{b - 2, b, b + 2} {
		if r, ok := tryRun(dir, base, 3); ok {
			r.Release()
			t.Errorf("a run from %d overlapping the held %d-%d was reserved", base, b, b+2)
		}
	}
	held.Release()
	again, ok := tryRun(dir, b, 3)
	if !ok {
		t.Fatalf("%d-%d could not be reserved again after Release", b, b+2)
	}
	again.Release()
}

// A port something listens on is not picked, reserved or not.
func TestAPortInUseIsNotPicked(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if r, ok := tryRun(t.TempDir(), port, 1); ok {
		r.Release()
		t.Errorf("port %d, which a listener holds, was reserved", port)
	}
}

// The ephemeral range is read from the kernel when it can be.
func TestEphemeralStartIsTheKernels(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux has /proc/sys/net/ipv4/ip_local_port_range; elsewhere 32768 is used")
	}
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		t.Fatal(err)
	}
	var lo, hi int
	if _, err := fmt.Sscan(string(data), &lo, &hi); err != nil {
		t.Fatal(err)
	}
	if got := ephemeralStart(); got != lo {
		t.Errorf("ephemeralStart() = %d, the kernel says %d", got, lo)
	}
}

// Ports reserved by root (a test run under sudo) do not lock another user
// out: that user still reserves ports, in the same directory.
func TestAnotherUserCanReserveAfterRoot(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root, to run a child as another user (CI runs as root)")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	for _, d := range []string{filepath.Dir(tmp), tmp} {
		os.Chmod(d, 0o777) // open to the other user, as /tmp is
	}
	r, err := Reserve(3)
	if err != nil {
		t.Fatal(err)
	}
	r.Release()
	// The test binary's own directory is its owner's only.
	exe, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(os.Getenv("TMPDIR"), "freeport.test")
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run", "^TestHelperReserve$")
	cmd.Dir = os.Getenv("TMPDIR")
	cmd.Env = append(os.Environ(), "FREEPORT_HELPER=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("user nobody could not reserve ports after root: %v\n%s", err, out)
	}
	for p := r.Base; p < r.Base+3; p++ {
		if _, err := os.Stat(filepath.Join(os.Getenv("TMPDIR"), "claimrisk-ports", strconv.Itoa(p))); err != nil {
			t.Errorf("root's lock file for port %d: %v", p, err)
		}
	}
}

// TestHelperReserve is TestAnotherUserCanReserveAfterRoot's child.
func TestHelperReserve(t *testing.T) {
	if os.Getenv("FREEPORT_HELPER") == "" {
		return // run as a test of its own: nothing to do
	}
	for range 20 {
		r, err := Reserve(3)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Release()
	}
}
