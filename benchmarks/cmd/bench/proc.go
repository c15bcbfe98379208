package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/claimrisk/claimrisk/shared/tooling/freeport"
)

// server is a process the harness started, in a process group of its own
// so that its children (uvicorn and MLServer workers) stop with it.
type server struct {
	name    string
	cmd     *exec.Cmd
	url     string
	logPath string
	started time.Time
	exited  chan struct{}
}

// startServer starts argv with env added, pinned to cpus when not empty
// (taskset), logging to dir/<name>.log.
func startServer(name, cpus string, argv, env []string, dir, url string) (*server, error) {
	if cpus != "" {
		argv = append([]string{"taskset", "-c", cpus}, argv...)
	}
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s := &server{name: name, cmd: cmd, url: url, logPath: logPath, exited: make(chan struct{})}
	s.started = time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(s.exited)
	}()
	return s, nil
}

// pid is the server's process id (taskset execs the command in place).
func (s *server) pid() int { return s.cmd.Process.Pid }

// stop sends SIGTERM to the server's process group, then SIGKILL after grace.
func (s *server) stop(grace time.Duration) {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(grace):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
	}
}

// logTail is the end of the server's log, for error messages.
func (s *server) logTail() string {
	data, _ := os.ReadFile(s.logPath)
	if len(data) > 1500 {
		data = data[len(data)-1500:]
	}
	return strings.TrimSpace(string(data))
}

// waitFor calls try every interval until it succeeds, the server exits or
// the timeout passes, and returns the time since the server started.
func (s *server) waitFor(timeout, interval time.Duration, try func() bool) (time.Duration, error) {
	deadline := time.Now().Add(timeout)
	for {
		if try() {
			return time.Since(s.started), nil
		}
		select {
		case <-s.exited:
			return 0, fmt.Errorf("%s exited before it answered; log:\n%s", s.name, s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s did not answer within %s; log:\n%s", s.name, timeout, s.logTail())
		}
		time.Sleep(interval)
	}
}

// freePort is a loopback port nothing listens on, reserved until the
// benchmark ends (shared/tooling/freeport): the servers bind their ports
// after they were picked, while the load generators open connections.
func freePort() int {
	return freeRun(1)
}

// freeRun is the first of n consecutive free loopback ports, reserved as
// freePort's are.
func freeRun(n int) int {
	r, err := freeport.Reserve(n)
	if err != nil {
		panic(err)
	}
	return r.Base
}

// quickClient never reuses a connection, so each probe sees the server as
// a new client would.
var quickClient = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// post sends body to url and returns the status and the answer.
func post(url string, body []byte) (int, []byte, error) {
	resp, err := quickClient.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// run runs argv to completion with env added and returns its standard
// output, wall time and peak resident memory in bytes (the child's
// getrusage maximum resident set, which covers its own process only).
func run(ctx context.Context, dir string, argv, env []string) (stdout []byte, wall time.Duration, peakRSS int64, err error) {
	// The command runs under `bench peak`, which reports the command's own
	// peak resident set and wall time. Measured here, the peak would be at
	// least this harness's: os/exec starts a child with vfork, sharing this
	// process's memory until exec, and Linux carries that memory's
	// high-water mark into the child's ru_maxrss.
	self, err := os.Executable()
	if err != nil {
		return nil, 0, 0, err
	}
	stats, err := os.CreateTemp("", "bench-peak-*")
	if err != nil {
		return nil, 0, 0, err
	}
	stats.Close()
	defer os.Remove(stats.Name())
	cmd := exec.CommandContext(ctx, self, append([]string{"peak", stats.Name()}, argv...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err = cmd.Run()
	wall = time.Since(start)
	if data, rerr := os.ReadFile(stats.Name()); rerr == nil {
		var kb, ns int64
		if n, _ := fmt.Sscan(string(data), &kb, &ns); n == 2 {
			peakRSS, wall = kb*1024, time.Duration(ns)
		}
	}
	if err != nil {
		tail := errb.String()
		if len(tail) > 3000 {
			tail = tail[len(tail)-3000:]
		}
		return out.Bytes(), wall, peakRSS, fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, strings.TrimSpace(tail))
	}
	return out.Bytes(), wall, peakRSS, nil
}

// peakCmd is `bench peak FILE ARGV...`: it runs ARGV with this process's
// standard streams and writes the command's peak resident set (KiB, from
// wait4, so its waited-for children count too) and wall time (ns) to FILE.
// This process is small, so the high-water mark the command inherits from
// it at exec (see run) is a few MB at most.
func peakCmd(args []string) error {
	if len(args) < 2 {
		return errors.New("usage: bench peak FILE COMMAND [ARG]")
	}
	cmd := exec.Command(args[1], args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// If the harness kills this process, the command goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			if werr := os.WriteFile(args[0], []byte(fmt.Sprintf("%d %d\n", ru.Maxrss, wall.Nanoseconds())), 0o644); werr != nil {
				return werr
			}
		}
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode())
	}
	return err
}

// treeRSS is the resident memory of pid and its descendants, in bytes.
func treeRSS(pid int) int64 {
	rss, _ := treeMem(pid)
	return rss
}

// treeMem is the resident memory of pid and its descendants, in bytes, and
// the part of it that is anonymous (heap and stacks, as opposed to pages of
// the executable and libraries, which the kernel can drop and reread).
func treeMem(pid int) (rss, anon int64) {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name is in parentheses and may hold spaces.
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) > 1 {
			ppid, _ := strconv.Atoi(fields[1])
			children[ppid] = append(children[ppid], p)
		}
	}
	var walk func(int)
	walk = func(p int) {
		r, a := memOf(p)
		rss, anon = rss+r, anon+a
		for _, c := range children[p] {
			walk(c)
		}
	}
	walk(pid)
	return rss, anon
}

// memOf is VmRSS and RssAnon of one process in bytes (0 once it has gone).
func memOf(pid int) (rss, anon int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	kb := func(s string) int64 {
		v, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(s), " kB"), 10, 64)
		return v * 1024
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rss = kb(rest)
		}
		if rest, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			anon = kb(rest)
		}
	}
	return rss, anon
}

// sampler records the largest tree RSS of pid until stopped.
type sampler struct {
	max  int64
	stop chan struct{}
	done chan struct{}
}

func sampleRSS(pid int, every time.Duration) *sampler {
	s := &sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.max = max(s.max, treeRSS(pid))
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) finish() int64 {
	close(s.stop)
	<-s.done
	return s.max
}

var errSkipped = errors.New("skipped")

// missingTool is the error of a section that cannot run for want of a tool
// (wrk, a Python environment, podman): a skip with the reason, or a failure
// under CLAIMRISK_REQUIRE_TOOLS=1, as CI sets it, where a skip would hide
// a gap.
func missingTool(what string) error {
	if os.Getenv("CLAIMRISK_REQUIRE_TOOLS") == "1" {
		return fmt.Errorf("%s (CLAIMRISK_REQUIRE_TOOLS=1)", what)
	}
	return fmt.Errorf("%w: %s", errSkipped, what)
}

// mb is bytes in MB (10^6), the unit of the tables.
func mb(b int64) float64 { return float64(b) / 1e6 }

// loadavg is the first field of /proc/loadavg.
func loadavg() float64 {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
