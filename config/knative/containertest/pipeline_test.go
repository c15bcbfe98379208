package containertest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/config/knative"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// TestPipeline runs the upload -> train -> register -> predict path through
// the containers: the CLI on the host generates and uploads a dataset into
// a bucket directory bind-mounted into every container, and sends
// "dataset uploaded" to the local broker of shared/tooling/localrun, running in
// this process with the Triggers of config/knative/base. The broker
// delivers to the containers over their published loopback ports and
// publishes their replies; the first prediction then comes from the
// promoted champion.
func TestPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model in containers; skipped with -short")
	}
	buildImages(t)
	bucket := bucketDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// Generate the data first: the clock below starts with the containers.
	data := filepath.Join(t.TempDir(), "data")
	cli(t, ctx, "data", "generate", "--policies", "10000", "--out", data)

	start := time.Now()
	urls := map[string]string{}
	for _, fn := range []string{"train", "register", "predict"} {
		urls[fn] = runFunction(t, fn, bucket).URL
	}
	for _, fn := range []string{"train", "register"} {
		waitOK(t, urls[fn]+"/health/readiness", 30*time.Second)
	}
	waitOK(t, urls["predict"]+"/health/liveness", 30*time.Second)
	t.Logf("train, register and predict ready %.1f s after the first podman run", time.Since(start).Seconds())

	triggers, err := localrun.LoadTriggers(knative.Base, "base")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var dead []localrun.DeadLetter
	var brokerLog syncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log of the local broker:\n%s", brokerLog.String())
		}
	})
	broker := &localrun.Broker{
		Triggers: triggers,
		Resolve: func(name string) (string, bool) {
			u, ok := urls[name]
			return u, ok
		},
		Log: slog.New(slog.NewTextHandler(&brokerLog, nil)),
		OnDeadLetter: func(d localrun.DeadLetter) {
			mu.Lock()
			defer mu.Unlock()
			dead = append(dead, d)
		},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: broker, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	defer func() {
		srv.Close()
		broker.Wait()
	}()

	cli(t, ctx, "data", "upload", "--bucket", bucket, "--dir", data, "--sink", "http://"+l.Addr().String(), "--wait", "3m")
	t.Logf("dataset uploaded, trained and judged %.1f s after the first podman run", time.Since(start).Seconds())

	bin := testenv.Binary(t, "claimrisk")
	var answer []byte
	for {
		cmd := exec.CommandContext(ctx, bin, "predict", "--example", "--json", "--url", urls["predict"])
		cmd.Env = append(cmd.Environ(), "CLAIMRISK_HOME="+t.TempDir())
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		answer, err = cmd.Output()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no prediction: %v\n%s", err, stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("first successful prediction %.1f s after the first podman run (training included)", time.Since(start).Seconds())
	var replies []struct {
		Model struct {
			Version int `json:"version"`
		} `json:"model"`
		Predictions []struct {
			ClaimProbability float64 `json:"claim_probability"`
		} `json:"predictions"`
	}
	if err := json.Unmarshal(answer, &replies); err != nil || len(replies) == 0 || len(replies[0].Predictions) != 3 {
		t.Errorf("predict --json --example: want one answer with three predictions, got %v:\n%s", err, answer)
	} else {
		for _, p := range replies[0].Predictions {
			if p.ClaimProbability <= 0 || p.ClaimProbability >= 1 {
				t.Errorf("claim probability %v is not in (0, 1)", p.ClaimProbability)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, d := range dead {
		t.Errorf("dead letter: trigger %s, event %s (%s): status %d: %s", d.Trigger, d.Event.ID(), d.Event.Type(), d.Status, d.Error)
	}
}

// syncBuffer is a bytes.Buffer for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
