package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// runningUp is `claimrisk up` run in-process, without MLflow and Evidently;
// the function binaries are not beside the test binary, so only the broker
// runs.
type runningUp struct {
	stdout, stderr syncBuffer
	cancel         context.CancelFunc
	done           chan int
	broker         string
}

// startUp starts `claimrisk up` with args and waits until it is up, or
// returns it exited when it refuses to start.
func startUp(t *testing.T, home string, args ...string) *runningUp {
	t.Helper()
	base := testenv.FreeBasePort(t, 5)
	ctx, cancel := context.WithCancel(context.Background())
	u := &runningUp{cancel: cancel, done: make(chan int, 1), broker: fmt.Sprintf("http://127.0.0.1:%d", base)}
	args = append([]string{"up", "--no-mlflow", "--no-evidently", "--drift-interval", "0", "--base-port", strconv.Itoa(base)}, args...)
	go func() { u.done <- run(ctx, args, &u.stdout, &u.stderr) }()
	t.Cleanup(func() { u.stop(t) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(localrun.StateFile(home)); err == nil {
			return u
		}
		select {
		case code := <-u.done:
			u.done <- code
			return u
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("claimrisk up did not start in 30 s:\n%s%s", u.stdout.String(), u.stderr.String())
		}
	}
}

// stop stops it as Ctrl-C would and returns its exit status.
func (u *runningUp) stop(t *testing.T) int {
	t.Helper()
	u.cancel()
	select {
	case code := <-u.done:
		u.done <- code
		return code
	case <-time.After(60 * time.Second):
		t.Fatal("claimrisk up did not stop in 60 s")
		return -1
	}
}

// wait waits up to 30 s for it to exit by itself.
func (u *runningUp) wait() (int, bool) {
	select {
	case code := <-u.done:
		u.done <- code
		return code, true
	case <-time.After(30 * time.Second):
		return 0, false
	}
}

// exited returns its exit status when it has exited.
func (u *runningUp) exited() (int, bool) {
	select {
	case code := <-u.done:
		u.done <- code
		return code, true
	default:
		return 0, false
	}
}

func TestUpFreshEmptiesTheStoresFirst(t *testing.T) {
	home, _ := labEnvironment(t, t.TempDir())
	t.Setenv("CLAIMRISK_BUCKET", "") // the default bucket, which --fresh empties
	old := map[string]string{
		"bucket/registry/claim-risk/model.json": "{}", "mlflow/mlflow.db": "x", "evidently/project.json": "{}",
		"exercises/lab2.json": "{}", "logs/train.log": "kept",
	}
	for name, content := range old {
		path := filepath.Join(home, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte(content), 0o644)
	}
	u := startUp(t, home, "--fresh")
	if code, ok := u.exited(); ok {
		t.Fatalf("up --fresh exited %d:\n%s%s", code, u.stdout.String(), u.stderr.String())
	}
	for name := range old {
		_, err := os.Stat(filepath.Join(home, name))
		if kept := name == "logs/train.log"; kept != (err == nil) {
			t.Errorf("%s: exists %v after up --fresh; want %v", name, err == nil, kept)
		}
	}
	if !strings.Contains(u.stdout.String(), "emptied the bucket, the MLflow store, the Evidently workspace and the exercises' outcomes in "+home) {
		t.Errorf("up --fresh did not say what it emptied:\n%s", u.stdout.String())
	}
	// A second --fresh must not empty the store of the running system.
	second := startUp(t, home, "--fresh")
	code, ok := second.wait()
	if !ok || code != 1 || !strings.Contains(second.stderr.String(), "--fresh would empty the store of the claimrisk up that is running") {
		t.Errorf("a second up --fresh: exited %v with %d, stderr %q", ok, code, second.stderr.String())
	}
}

func TestUpAppliesExtraTriggers(t *testing.T) {
	home, _ := labEnvironment(t, t.TempDir())
	got := make(chan string, 4)
	notifier := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- r.Header.Get("Ce-Type") + " " + string(body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer notifier.Close()
	dir := t.TempDir()
	trigger := `apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: notify-on-model-rejected
spec:
  broker: claimrisk
  filter:
    attributes:
      type: dev.claimrisk.model.rejected
  subscriber:
    uri: ` + notifier.URL + "\n"
	os.WriteFile(filepath.Join(dir, "notify.yaml"), []byte(trigger), 0o644)
	u := startUp(t, home, "--triggers", dir)
	if code, ok := u.exited(); ok {
		t.Fatalf("up --triggers exited %d:\n%s", code, u.stderr.String())
	}
	req, _ := http.NewRequest(http.MethodPost, u.broker, strings.NewReader(`{"version": 3, "promoted": false}`))
	for k, v := range map[string]string{"Ce-Specversion": "1.0", "Ce-Id": "t-1", "Ce-Type": "dev.claimrisk.model.rejected",
		"Ce-Source": "/claimrisk/functions/register", "Content-Type": "application/json"} {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case e := <-got:
		if e != `dev.claimrisk.model.rejected {"version": 3, "promoted": false}` {
			t.Errorf("the notifier received %q", e)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the extra Trigger delivered nothing in 20 s (broker answered %d)\n%s", resp.StatusCode, u.stderr.String())
	}
}

func TestUpRefusesBadExtraTriggers(t *testing.T) {
	home, _ := labEnvironment(t, t.TempDir())
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown function", "kind: Trigger\nmetadata: {name: to-nobody}\nspec: {filter: {attributes: {type: x}}, subscriber: {ref: {kind: Service, name: notifier}}}\n",
			"Trigger to-nobody subscribes notifier, which is not one of the functions"},
		{"a name taken", "kind: Trigger\nmetadata: {name: train-on-dataset-uploaded}\nspec: {subscriber: {uri: http://127.0.0.1:1/}}\n",
			"Trigger train-on-dataset-uploaded is already one of config/knative/base's"},
		{"no Trigger", "kind: Service\nmetadata: {name: x}\n", "no Trigger in its *.yaml files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "t.yaml"), []byte(tc.yaml), 0o644)
			u := startUp(t, home, "--triggers", dir)
			code, ok := u.exited()
			if !ok || code == 0 || !strings.Contains(u.stderr.String(), tc.want) || strings.Count(u.stderr.String(), "\n") != 1 {
				t.Errorf("exited %v with %d, stderr %q; want one line saying %q", ok, code, u.stderr.String(), tc.want)
			}
		})
	}
}

// A broker port in use is a one-line error, not a panic (the system's error
// paths used to stop a nil system).
func TestUpWithTheBrokerPortTaken(t *testing.T) {
	home, _ := labEnvironment(t, t.TempDir())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	u := startUp(t, home, "--base-port", strconv.Itoa(port))
	code, ok := u.exited()
	if !ok || code != 1 || !strings.Contains(u.stderr.String(), fmt.Sprintf("broker cannot listen on 127.0.0.1:%d because something already does", port)) {
		t.Errorf("exited %v with %d, stderr %q", ok, code, u.stderr.String())
	}
}

func TestRegistrySyncFindsTheRunningMLflow(t *testing.T) {
	home, _ := labEnvironment(t, t.TempDir())
	var mu sync.Mutex
	var asked []string
	mlflow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "test server"}`))
	}))
	defer mlflow.Close()
	state, _ := json.Marshal([]localrun.Component{{Name: "mlflow", URL: mlflow.URL}})
	os.WriteFile(localrun.StateFile(home), state, 0o644)
	os.Mkdir(filepath.Join(home, "bucket"), 0o755) // as the running system made it

	_, errOut, code := cli(t, "registry", "sync-mlflow")
	mu.Lock()
	defer mu.Unlock()
	if len(asked) == 0 {
		t.Fatalf("sync-mlflow did not ask the running system's MLflow (exit %d, %q)", code, errOut)
	}
	if code != 1 || !strings.Contains(errOut, "test server") {
		t.Errorf("exit %d, stderr %q; want the MLflow error", code, errOut)
	}

	// --mlflow "" turns the mirror off; with no running system, the error
	// says what to do.
	os.Remove(localrun.StateFile(home))
	_, errOut, code = cli(t, "registry", "sync-mlflow")
	if code != 2 || !strings.Contains(errOut, "no MLflow server: claimrisk up is not running here") {
		t.Errorf("without a running system: exit %d, stderr %q", code, errOut)
	}
}

func TestDemoSummarySaysTheServersStop(t *testing.T) {
	sys := &localrun.System{Components: []localrun.Component{{Name: "mlflow", URL: "http://127.0.0.1:5050"}, {Name: "predict", URL: "http://127.0.0.1:8703"}}}
	for _, keep := range []bool{false, true} {
		var out bytes.Buffer
		a := &app{stdout: &out, stderr: io.Discard, bucketURL: t.TempDir()}
		a.demoSummary(sys, 55*time.Second, keep)
		want := "The servers above (MLflow, the API, Evidently) stop now, with the demo"
		if keep {
			want = "The servers above keep running; Ctrl-C stops everything."
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("keep-running %v: the summary does not say %q:\n%s", keep, want, out.String())
		}
	}
}
