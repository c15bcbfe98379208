//go:build cluster

package cluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// ns is where overlays/local puts claimrisk.
const ns = "claimrisk"

// kubectl runs kubectl against the current context (the cluster of
// `make cluster-up`) and returns its standard output.
func kubectl(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func mustKubectl(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := kubectl(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// applyStdin applies a manifest given as bytes.
func applyStdin(t *testing.T, verb string, manifest []byte) {
	t.Helper()
	cmd := exec.Command("kubectl", verb, "-f", "-")
	cmd.Stdin = bytes.NewReader(manifest)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", verb, err, out)
	}
}

// secret reads one key of a Secret of the namespace.
func secret(t *testing.T, name, key string) string {
	t.Helper()
	raw := mustKubectl(t, "-n", ns, "get", "secret", name, "-o", "jsonpath={.data."+key+"}")
	v, err := base64.StdEncoding.DecodeString(string(raw))
	if err != nil || len(v) == 0 {
		t.Fatalf("Secret %s has no %s: %v", name, key, err)
	}
	return string(v)
}

var forwarding = regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) ->`)

// portForward forwards a free loopback port to a Service's port, as a
// participant does, and returns http://127.0.0.1:PORT.
func portForward(t *testing.T, namespace, service string, port int) string {
	t.Helper()
	cmd := exec.Command("kubectl", "-n", namespace, "port-forward", "--address", "127.0.0.1", "svc/"+service, fmt.Sprintf(":%d", port))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			if m := forwarding.FindStringSubmatch(s.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case p := <-found:
		return "http://127.0.0.1:" + p
	case <-time.After(30 * time.Second):
		t.Fatalf("kubectl port-forward svc/%s: no port after 30 s: %s", service, stderr.String())
		return ""
	}
}

// pod is what the test reads of a pod.
type pod struct {
	Metadata struct {
		Name              string    `json:"name"`
		CreationTimestamp time.Time `json:"creationTimestamp"`
		DeletionTimestamp *string   `json:"deletionTimestamp"`
	} `json:"metadata"`
	Spec struct {
		NodeName string `json:"nodeName"`
	} `json:"spec"`
	Status struct {
		Phase      string `json:"phase"`
		Conditions []struct {
			Type               string    `json:"type"`
			Status             string    `json:"status"`
			LastTransitionTime time.Time `json:"lastTransitionTime"`
		} `json:"conditions"`
		ContainerStatuses []struct {
			Name         string `json:"name"`
			RestartCount int    `json:"restartCount"`
			State        struct {
				Running *struct {
					StartedAt time.Time `json:"startedAt"`
				} `json:"running"`
				Terminated *struct {
					ExitCode int `json:"exitCode"`
				} `json:"terminated"`
				Waiting *struct {
					Reason string `json:"reason"`
				} `json:"waiting"`
			} `json:"state"`
		} `json:"containerStatuses"`
	} `json:"status"`
}

// pods lists the pods matching a label selector in the namespace.
func pods(ctx context.Context, selector string) ([]pod, error) {
	out, err := kubectl(ctx, "-n", ns, "get", "pods", "-l", selector, "-o", "json")
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []pod `json:"items"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, fmt.Errorf("kubectl get pods: %w", err)
	}
	return list.Items, nil
}

// functionPods lists a Knative Service's pods, terminating ones included:
// "zero pods" means kubectl get pods shows none.
func functionPods(ctx context.Context, service string) ([]pod, error) {
	return pods(ctx, "serving.knative.dev/service="+service)
}

// eventually retries check every interval until it returns nil or limit
// passes; it returns the last error.
func eventually(limit, interval time.Duration, check func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v: %w", limit, err)
		}
		time.Sleep(interval)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// containerdLog is the source-built cluster's containerd log, whose lines
// carry nanosecond times: where it exists, a cold start is broken down by
// what containerd did for the pod.
const containerdLog = "/var/lib/claimrisk-cluster/logs/containerd.log"

var (
	logTime      = regexp.MustCompile(`^time="([^"]+)"`)
	sandboxStart = regexp.MustCompile(`msg="RunPodSandbox for &PodSandboxMetadata\{Name:([^,]+),`)
	sandboxDone  = regexp.MustCompile(`msg="RunPodSandbox for &PodSandboxMetadata\{Name:([^,]+),.*returns sandbox id \\"([0-9a-f]+)\\"`)
	created      = regexp.MustCompile(`msg="CreateContainer within sandbox \\"([0-9a-f]+)\\" for &ContainerMetadata\{Name:([^,]+),.*returns container id \\"([0-9a-f]+)\\"`)
	started      = regexp.MustCompile(`msg="StartContainer for \\"([0-9a-f]+)\\" returns successfully"`)
)

// podPhases are the times containerd logged for a pod: its sandbox asked
// for and ready (network included), and each container started.
type podPhases struct {
	SandboxAsked, SandboxReady time.Time
	Started                    map[string]time.Time // by container name
}

func containerdPhases(podName string) (podPhases, bool) {
	data, err := os.ReadFile(containerdLog)
	if err != nil {
		return podPhases{}, false
	}
	p := podPhases{Started: map[string]time.Time{}}
	var sandbox string
	names := map[string]string{} // container id -> name
	for _, line := range strings.Split(string(data), "\n") {
		m := logTime.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			continue
		}
		switch {
		case sandboxDone.MatchString(line):
			if s := sandboxDone.FindStringSubmatch(line); s[1] == podName {
				p.SandboxReady, sandbox = at, s[2]
			}
		case sandboxStart.MatchString(line):
			if s := sandboxStart.FindStringSubmatch(line); s[1] == podName {
				p.SandboxAsked = at
			}
		case created.MatchString(line):
			if c := created.FindStringSubmatch(line); sandbox != "" && c[1] == sandbox {
				names[c[3]] = c[2]
			}
		case started.MatchString(line):
			if c := started.FindStringSubmatch(line); names[c[1]] != "" {
				p.Started[names[c[1]]] = at
			}
		}
	}
	return p, !p.SandboxAsked.IsZero()
}
