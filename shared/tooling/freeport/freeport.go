// Package freeport picks loopback ports for servers that another process
// will bind: the tests' function binaries, MLflow and Evidently, and the
// benchmark's peers.
//
// A port picked by binding port 0 and closing the listener can be taken
// before the server binds it: the kernel hands ports of its ephemeral range
// to outgoing connections and to other bind(0) calls, and a test in another
// package, running at the same time, may pick the same port. So ports come
// from below the ephemeral range, and each is reserved, until it is
// released, by an advisory lock on a file under $TMPDIR/claimrisk-ports
// that every picker in this project respects. The kernel drops the lock
// when the process ends, so a killed test leaves nothing reserved.
package freeport

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lowest is where the picked ports start, above the ports that services
// and development servers usually take (5000, 8000, 8080, 9090...).
const lowest = 10000

// Run is n consecutive reserved ports starting at Base.
type Run struct {
	Base  int
	locks []*os.File
}

// Release gives the ports back to other pickers; it is safe to call twice.
func (r *Run) Release() {
	for _, f := range r.locks {
		f.Close()
	}
	r.locks = nil
}

// Reserve finds n consecutive loopback ports that nothing listens on and no
// other picker holds, below the kernel's ephemeral range, and reserves them
// until Release or the end of the process.
func Reserve(n int) (*Run, error) {
	if n < 1 {
		return nil, fmt.Errorf("freeport: %d ports asked for", n)
	}
	dir, err := lockDir()
	if err != nil {
		return nil, err
	}
	highest := ephemeralStart() - n
	if highest <= lowest {
		return nil, fmt.Errorf("freeport: no room for %d ports below the ephemeral range", n)
	}
	for range 200 {
		base := lowest + rand.IntN(highest-lowest)
		if r, ok := tryRun(dir, base, n); ok {
			return r, nil
		}
	}
	return nil, errors.New("freeport: no run of free ports found in 200 tries")
}

// lockDir is the directory of the ports' lock files, shared by every user
// as /tmp is (mode 1777): a test run under sudo must not lock others out.
func lockDir() (string, error) {
	dir := filepath.Join(os.TempDir(), "claimrisk-ports")
	if err := os.Mkdir(dir, 0o777); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("freeport: %w", err)
	}
	// Its owner sets the mode (the umask narrowed it); for anyone else
	// this fails, and the owner's run has set it.
	_ = os.Chmod(dir, 0o777|os.ModeSticky)
	return dir, nil
}

// tryRun reserves base..base+n-1 if every one of them is free.
func tryRun(dir string, base, n int) (*Run, bool) {
	r := &Run{Base: base}
	for p := base; p < base+n; p++ {
		f, ok := lock(dir, p)
		if !ok {
			r.Release()
			return nil, false
		}
		r.locks = append(r.locks, f)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			r.Release()
			return nil, false
		}
		l.Close()
	}
	return r, true
}

// lock takes the port's lock file without waiting.
func lock(dir string, port int) (*os.File, bool) {
	name := filepath.Join(dir, strconv.Itoa(port))
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDONLY, 0o666)
	if err == nil {
		// Readable by every user (a lock needs only a read descriptor),
		// whatever the umask.
		_ = f.Chmod(0o644)
	}
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return f, true
}

// ephemeralStart is the first port of the kernel's ephemeral range, or
// 32768 (Linux's default) where it cannot be read.
func ephemeralStart() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return 32768
	}
	start, err := strconv.Atoi(fields[0])
	if err != nil {
		return 32768
	}
	return min(start, 65536)
}
