package containertest_test

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// debianBase is the local base image .ci/run makes with debootstrap; the
// Python images default to python:3.11-slim, which needs a registry.
const debianBase = "localhost/debian-base:bookworm"

// TestPythonImages builds the MLflow and Evidently images on the Debian
// base from their hash-checked locks and runs them as the cluster does:
// as 65532 with a read-only root filesystem (and a tmpfs at /tmp, as the
// manifests' emptyDir). MLflow must answer /health and refuse a foreign
// Host header; the Evidently job must print its help and serve its UI.
func TestPythonImages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two Python images; skipped with -short")
	}
	requirePodman(t)
	if _, err := podmanErr("image", "exists", debianBase); err != nil {
		testenv.Require(t, "no %s: .ci/run builds it with debootstrap (see /work/shared/notes/containers.md)", debianBase)
	}
	pinBuild()
	mlflow, evidently := imageRepo+"/mlflow:"+imageTag, imageRepo+"/evidently:"+imageTag
	extraMu.Lock()
	extra = append(extra, mlflow, evidently)
	built = true
	extraMu.Unlock()
	start := time.Now()
	cmd := exec.Command(filepath.Join(testenv.RepoRoot(t), "containers", "images.sh"), "mlflow", "evidently")
	cmd.Env = append(os.Environ(), append(buildEnv(imageTag, t.TempDir()), "BASE_IMAGE="+debianBase)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("containers/images.sh mlflow evidently: %v\n%s", err, out)
	}
	t.Logf("built the MLflow and Evidently images in %.0f s", time.Since(start).Seconds())
	for _, img := range []string{mlflow, evidently} {
		t.Logf("image %s: %s bytes", img, podman(t, "image", "inspect", "--format", "{{.Size}}", img))
		if u := podman(t, "image", "inspect", "--format", "{{.Config.User}}", img); u != "65532:65532" {
			t.Errorf("%s: user %q, want 65532:65532", img, u)
		}
	}

	t.Run("mlflow", func(t *testing.T) {
		addr := testenv.FreeAddr(t)
		name := "claimrisk-test-mlflow-" + imageTag
		podman(t, "run", "--detach", "--name", name, "--read-only", "--user", "65532:65532",
			"--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--publish", addr+":5000",
			"--env", "MLFLOW_BACKEND_STORE_URI=sqlite:////tmp/mlflow.db",
			"--env", "MLFLOW_ARTIFACTS_DESTINATION=/tmp/artifacts",
			mlflow, "--host", "0.0.0.0", "--port", "5000", "--workers", "1",
			"--allowed-hosts", "mlflow,mlflow:*,localhost,localhost:*,127.0.0.1,127.0.0.1:*")
		defer stopContainer(t, name)
		took := waitOK(t, "http://"+addr+"/health", 180*time.Second)
		t.Logf("MLflow answered /health %.1f s after podman run returned", took.Seconds())
		api := "http://" + addr + "/api/2.0/mlflow/experiments/search?max_results=1"
		for host, want := range map[string]int{"mlflow:5000": http.StatusOK, "evil.example": http.StatusForbidden} {
			req, _ := http.NewRequest(http.MethodGet, api, nil)
			req.Host = host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("Host %s: status %d, want %d", host, resp.StatusCode, want)
			}
		}
	})

	t.Run("evidently", func(t *testing.T) {
		out, err := exec.Command("podman", "run", "--rm", "--read-only", "--user", "65532:65532", evidently, "report", "--help").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--reference") {
			t.Fatalf("python -m monitoring report --help: %v\n%s", err, out)
		}
		addr := testenv.FreeAddr(t)
		name := "claimrisk-test-evidently-" + imageTag
		// The workspace is a volume, as on the cluster (a PVC).
		workspace := t.TempDir()
		if err := os.Chmod(workspace, 0o777); err != nil {
			t.Fatal(err)
		}
		podman(t, "run", "--detach", "--name", name, "--read-only", "--user", "65532:65532",
			"--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--publish", addr+":8001",
			"--volume", workspace+":/workspace",
			evidently, "ui", "--workspace", "/workspace", "--host", "0.0.0.0", "--port", "8001")
		defer stopContainer(t, name)
		deadline := time.Now().Add(120 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				resp, err := http.Get("http://" + addr + "/")
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						break
					}
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the Evidently UI did not answer on %s", addr)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

// stopContainer stops a container, which must take well under podman's
// 10 s grace period (tini passes SIGTERM on), and removes it.
func stopContainer(t *testing.T, name string) {
	t.Helper()
	if t.Failed() {
		logs, _ := exec.Command("podman", "logs", name).CombinedOutput()
		t.Logf("log of %s:\n%s", name, logs)
	}
	start := time.Now()
	_, _ = podmanErr("stop", "--time", "10", name)
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("%s took %.1f s to stop: SIGTERM was not handled", name, took.Seconds())
	}
	_, _ = podmanErr("rm", "--force", name)
}
