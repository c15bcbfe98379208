package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/fnspec"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// syncBuffer is a bytes.Buffer the command writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// leftovers lists the processes whose environment names home: whatever the
// command started, and whatever those started in turn.
func leftovers(home string) []string {
	mark := []byte("CLAIMRISK_HOME=" + home + "\x00")
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []string
	for _, d := range dirs {
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil || !bytes.Contains(env, mark) {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join(d, "cmdline"))
		out = append(out, filepath.Base(d)+" "+strings.ReplaceAll(string(cmd), "\x00", " "))
	}
	return out
}

func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// TestInterruptStopsEverything signals `claimrisk up`, `demo` and
// `simulate` at several moments, start-up included (MLflow's first start,
// the functions, Evidently), and checks that each exits without a panic,
// leaving no process it started and no port in use.
func TestInterruptStopsEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the system several times")
	}
	python := testenv.Python(t)
	mlflow := filepath.Join(filepath.Dir(python), "mlflow")
	if _, err := os.Stat(mlflow); err != nil {
		testenv.Require(t, "no mlflow command at %s: run make venv", mlflow)
	}
	for _, f := range fnspec.Names() {
		testenv.Binary(t, f) // next to the CLI, where up finds them
	}
	bin := testenv.Binary(t, "claimrisk")
	// An API that never answers: simulate waits on it until interrupted.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // then the server notices the client leave
		<-r.Context().Done()
	}))
	defer func() { hang.CloseClientConnections(); hang.Close() }()

	for _, tc := range []struct {
		name   string
		args   []string
		signal syscall.Signal
		// at says when to signal: a log file appears, or stdout says something.
		log, says string
	}{
		{name: "up, while MLflow starts", args: []string{"up", "--no-evidently"}, signal: syscall.SIGINT, log: "mlflow.log"},
		{name: "up, while the functions start", args: []string{"up", "--no-mlflow", "--no-evidently"}, signal: syscall.SIGTERM, log: "register.log"},
		{name: "up, while Evidently starts", args: []string{"up", "--no-mlflow"}, signal: syscall.SIGINT, log: "evidently-job.log"},
		{name: "up, once up", args: []string{"up", "--no-mlflow"}, signal: syscall.SIGTERM, says: "claimrisk is up"},
		{name: "demo, in the story", args: []string{"demo", "--no-mlflow", "--no-evidently"}, signal: syscall.SIGINT, says: "== 2."},
		{name: "simulate, waiting for the API", args: []string{"simulate", "--scenario", "none", "--url", hang.URL}, signal: syscall.SIGINT, says: "-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			base := testenv.FreeBasePort(t, fnspec.PortSpan())
			mlPort, evPort := testenv.FreeBasePort(t, 1), testenv.FreeBasePort(t, 1)
			args := tc.args
			if args[0] != "simulate" {
				args = append(args, "--base-port", strconv.Itoa(base), "--mlflow-port", strconv.Itoa(mlPort), "--evidently-port", strconv.Itoa(evPort), "--drift-interval", "0")
			}
			cmd := exec.Command(bin, args...)
			cmd.Dir = testenv.RepoRoot(t) // where the Evidently job's Python package is, as for bin/claimrisk
			cmd.Env = append(os.Environ(), "CLAIMRISK_HOME="+home, "CLAIMRISK_MLFLOW="+mlflow, "CLAIMRISK_PYTHON="+python)
			var stdout, stderr syncBuffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			deadline := time.Now().Add(2 * time.Minute)
			for {
				_, err := os.Stat(filepath.Join(home, "logs", tc.log))
				if (tc.log != "" && err == nil) || (tc.says != "" && (tc.says == "-" || strings.Contains(stdout.String(), tc.says))) {
					break
				}
				select {
				case err := <-exited:
					t.Fatalf("%s exited before the signal: %v\n%s\n%s", tc.name, err, stdout.String(), stderr.String())
				case <-time.After(20 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("never reached the moment to signal\n%s\n%s", stdout.String(), stderr.String())
				}
			}
			if tc.says == "-" {
				time.Sleep(500 * time.Millisecond) // simulate is generating its traffic or waiting for the API
			}
			before := leftovers(home)
			signalled := time.Now()
			cmd.Process.Signal(tc.signal)
			select {
			case <-exited:
			case <-time.After(90 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("still running 90 s after %v\n%s\n%s", tc.signal, stdout.String(), stderr.String())
			}
			code := cmd.ProcessState.ExitCode()
			t.Logf("%v with %d process(es) of its own running; exit %d after %s: %s", tc.signal, len(before)-1,
				code, time.Since(signalled).Round(time.Millisecond), strings.TrimSpace(lastLine(stderr.String())))
			if strings.Contains(stderr.String(), "panic") || (code != 0 && code != 130) {
				t.Errorf("exit %d; want 0 or 130, and no panic:\n%s", code, stderr.String())
			}
			var left []string
			for range 50 {
				if left = leftovers(home); len(left) == 0 {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if len(left) > 0 {
				t.Errorf("processes left running:\n%s", strings.Join(left, "\n"))
				for _, l := range left {
					if pid, err := strconv.Atoi(strings.Fields(l)[0]); err == nil {
						syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			}
			for i := range 5 {
				if addr := fmt.Sprintf("127.0.0.1:%d", base+i); listening(addr) {
					t.Errorf("%s is still in use", addr)
				}
			}
			for _, p := range []int{mlPort, evPort} {
				if addr := fmt.Sprintf("127.0.0.1:%d", p); listening(addr) {
					t.Errorf("%s is still in use", addr)
				}
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
