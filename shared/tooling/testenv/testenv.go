// Package testenv is what the integration tests share: the repository
// root, function binaries built once per test process and started on free
// loopback ports, the Python environment, a real MLflow server, and the
// rule for tools a machine may lack: a test skips with the reason, unless
// CLAIMRISK_REQUIRE_TOOLS=1 (set by CI) makes the absence a failure.
package testenv

import (
	"context"
	"fmt"
	"io"
	"log/slog"
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
	"github.com/claimrisk/claimrisk/shared/tooling/freeport"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
)

// RequireEnv names the variable that turns tool skips into failures.
const RequireEnv = "CLAIMRISK_REQUIRE_TOOLS"

// Require skips t because a tool is missing, or fails it when the
// environment demands every tool.
func Require(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s (required because %s=1)", msg, RequireEnv)
	}
	t.Skip(msg)
}

// RepoRoot is the directory holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testenv: no go.mod above the working directory")
		}
		dir = parent
	}
}

var (
	buildMu  sync.Mutex
	built    = map[string]string{}
	buildDir string
)

// Binary builds a command of the module once per test process and returns
// its path: "claimrisk" builds ./cmd/claimrisk, any other name
// ./functions/<name>/cmd. Under go test -race the functions are race-built
// too (the CLI, which runs no concurrent server, is not), and RaceEnv makes
// a race they hit end them, which fails the test.
func Binary(t testing.TB, name string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[name]; ok {
		return p
	}
	if buildDir == "" {
		dir, err := binDir()
		if err != nil {
			t.Fatal(err)
		}
		buildDir = dir
	}
	pkg := "./functions/" + name + "/cmd"
	if name == "claimrisk" {
		pkg = "./cmd/claimrisk"
	}
	out := filepath.Join(buildDir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = RepoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if raceBuild && name != "claimrisk" {
		cmd = exec.Command("go", "build", "-race", "-o", out, pkg)
		cmd.Dir = RepoRoot(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1") // the race detector needs cgo
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testenv: build %s: %v\n%s", pkg, err, msg)
	}
	built[name] = out
	return out
}

// RaceEnv is the environment for the binaries a test starts: under go test
// -race, a data race stops the binary with its report in its log.
func RaceEnv() []string {
	if raceBuild {
		return []string{"GORACE=halt_on_error=1"}
	}
	return nil
}

// FreeAddr returns a loopback address with a port nothing listens on,
// reserved for this test as FreeBasePort's are.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", FreeBasePort(t, 1))
}

// Function is a function binary running for a test.
type Function struct {
	*localrun.Process
	Addr string
}

// StartFunction runs the named function binary on a free port with env
// added to the environment, waits until it is ready, and stops it (SIGTERM)
// when the test ends. Its log is printed if the test fails.
func StartFunction(t testing.TB, name string, env ...string) *Function {
	t.Helper()
	addr := FreeAddr(t)
	logDir := t.TempDir()
	p, err := localrun.StartProcess(context.Background(), localrun.Spec{
		Name: name, Path: Binary(t, name), Addr: addr, Ready: "/health/readiness",
		Env: append(append([]string{"LISTEN_ADDRESS=" + addr}, RaceEnv()...), env...), Timeout: 30 * time.Second,
	}, logDir)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		p.Stop(10 * time.Second)
		if t.Failed() {
			data, _ := os.ReadFile(p.LogPath)
			t.Logf("log of %s:\n%s", name, data)
		}
	})
	return &Function{Process: p, Addr: addr}
}

// Python returns the interpreter of the project's environment: the
// CLAIMRISK_PYTHON variable (set by make test), else .venv/bin/python.
func Python(t testing.TB) string {
	t.Helper()
	p := os.Getenv("CLAIMRISK_PYTHON")
	if p == "" {
		p = filepath.Join(RepoRoot(t), ".venv", "bin", "python")
	}
	if _, err := os.Stat(p); err != nil {
		Require(t, "no Python environment at %s: run make venv", p)
	}
	return p
}

// MLflow starts a real `mlflow server` with a SQLite store in a temporary
// directory and returns its URL; it stops when the test ends.
func MLflow(t testing.TB) string {
	t.Helper()
	return MLflowAt(t, FreeAddr(t))
}

// MLflowAt is MLflow on a chosen loopback address.
func MLflowAt(t testing.TB, addr string) string {
	t.Helper()
	return MLflowOn(t, MLflowOptions{Addr: addr})
}

// FreeBasePort finds n consecutive free loopback ports and returns the
// first. They are below the kernel's ephemeral range and reserved for this
// test until it ends (shared/tooling/freeport), so neither an outgoing
// connection nor another test takes them before a server binds them.
func FreeBasePort(t testing.TB, n int) int {
	t.Helper()
	r, err := freeport.Reserve(n)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(r.Release)
	return r.Base
}

// System starts the local runtime (broker and function binaries) on free
// ports with a bucket of its own, and stops it when the test ends.
func System(t testing.TB, mlflowURI string, functions ...string) (*localrun.System, string) {
	t.Helper()
	var env []string
	if mlflowURI != "" {
		env = append(env, "MLFLOW_TRACKING_URI="+mlflowURI)
	}
	return SystemWith(t, env, functions...)
}

// SystemWith is System with extra environment for every function.
func SystemWith(t testing.TB, env []string, functions ...string) (*localrun.System, string) {
	t.Helper()
	sys, bucket, _ := SystemHome(t, env, functions...)
	return sys, bucket
}

// SystemHome is SystemWith that also returns the system's home directory,
// whose logs/ holds each function's log as <name>.log.
func SystemHome(t testing.TB, env []string, functions ...string) (*localrun.System, string, string) {
	t.Helper()
	home := t.TempDir()
	sys, bucket := SystemAt(t, home, env, functions...)
	return sys, bucket, home
}

// SystemAt is SystemHome in a home directory of the caller's, whose
// bucket (home/bucket) the test may have filled first.
func SystemAt(t testing.TB, home string, env []string, functions ...string) (*localrun.System, string) {
	t.Helper()
	var binDir string
	for _, f := range functions {
		binDir = filepath.Dir(Binary(t, f))
	}
	bucket := "file://" + filepath.Join(home, "bucket")
	sys, err := localrun.Start(context.Background(), localrun.Options{
		BinDir: binDir, Bucket: bucket, Home: home, BasePort: FreeBasePort(t, fnspec.PortSpan()), Env: append(RaceEnv(), env...),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Only: functions,
	})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		sys.Stop()
		if t.Failed() {
			for _, f := range functions {
				data, _ := os.ReadFile(filepath.Join(home, "logs", f+".log"))
				t.Logf("log of %s:\n%s", f, data)
			}
		}
	})
	return sys, bucket
}

// CLI runs the claimrisk binary with args and returns its standard output;
// a non-zero exit fails the test with the standard error. CLAIMRISK_HOME
// points into the test's temporary directory unless env sets it.
func CLI(t testing.TB, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(Binary(t, "claimrisk"), args...)
	cmd.Env = append(append(os.Environ(), "CLAIMRISK_HOME="+t.TempDir()), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("claimrisk %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// binDir makes this test process's directory for built commands, under
// $TMPDIR/claimrisk-test-bin/<pid>, and removes those of processes that
// have ended: a test process cannot remove its own on exit, and each holds
// a quarter of a gigabyte of binaries (make test runs dozens).
func binDir() (string, error) {
	root := filepath.Join(os.TempDir(), "claimrisk-test-bin")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		_ = os.RemoveAll(filepath.Join(root, e.Name()))
	}
	dir := filepath.Join(root, strconv.Itoa(os.Getpid()))
	return dir, os.MkdirAll(dir, 0o755)
}

// processAlive reports whether a process with this pid runs (signal 0).
func processAlive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}
