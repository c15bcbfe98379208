package containertest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/fnspec"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// imageRepo and imageTag name the images this test process builds; the tag
// is its own, so the test never touches images a developer built.
var (
	imageRepo = fnspec.ImageRepo
	imageTag  = fmt.Sprintf("test-%d", os.Getpid())
)

func image(name string) string { return imageRepo + "/" + name + ":" + imageTag }

// built records what this process built, for TestMain's cleanup.
var (
	buildOnce sync.Once
	buildErr  error
	built     bool
	extraMu   sync.Mutex
	extra     []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if built {
		refs := []string{}
		for _, f := range fnspec.Names() {
			refs = append(refs, image(f))
		}
		extraMu.Lock()
		refs = append(refs, extra...)
		extraMu.Unlock()
		if out, err := exec.Command("podman", append([]string{"rmi", "--force"}, refs...)...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "containertest: removing the test images: %v\n%s", err, out)
		}
	}
	os.Exit(code)
}

// requirePodman skips (or, with CLAIMRISK_REQUIRE_TOOLS=1, fails) without a
// working podman.
func requirePodman(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		testenv.Require(t, "podman is not installed; it builds and runs the images (apt-get install podman runc)")
	}
	if out, err := exec.Command("podman", "info", "--format", "{{.Host.OCIRuntime.Name}}").CombinedOutput(); err != nil {
		testenv.Require(t, "podman does not work here (podman info: %v: %s); see /etc/containers/containers.conf in .ci/run", err, bytes.TrimSpace(out))
	}
}

// buildEnv is the environment of containers/images.sh. The commit and the
// file time are fixed for the whole test process, so that a commit made
// while it runs cannot make two builds differ.
// Each build has its own OUT directory, away from bin/images and from any
// other test process.
func buildEnv(tag, out string) []string {
	return []string{"ENGINE=podman", "IMAGE_REPO=" + imageRepo, "IMAGE_TAG=" + tag,
		"COMMIT=" + buildCommit, "SOURCE_DATE_EPOCH=" + buildEpoch, "OUT=" + out}
}

// buildCommit and buildEpoch are set once, by buildImages.
var buildCommit, buildEpoch = "dev", "0"

func pinBuild() {
	if out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		buildCommit = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("git", "log", "-1", "--format=%ct").Output(); err == nil {
		buildEpoch = strings.TrimSpace(string(out))
	}
}

// buildImages builds the function images once per test process with
// containers/images.sh, the script behind `make images`.
func buildImages(t *testing.T) {
	t.Helper()
	requirePodman(t)
	buildOnce.Do(func() {
		pinBuild()
		start := time.Now()
		cmd := exec.Command(filepath.Join(testenv.RepoRoot(t), "containers", "images.sh"), fnspec.Names()...)
		out, err := os.MkdirTemp("", "claimrisk-images-")
		if err != nil {
			buildErr = err
			return
		}
		defer os.RemoveAll(out)
		cmd.Env = append(os.Environ(), buildEnv(imageTag, out)...)
		log, err := cmd.CombinedOutput()
		built = true
		if err != nil {
			buildErr = fmt.Errorf("containers/images.sh: %v\n%s", err, log)
			return
		}
		t.Logf("built the %d function images in %.1f s", len(fnspec.Names()), time.Since(start).Seconds())
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// podman runs podman and returns its trimmed standard output.
func podman(t *testing.T, args ...string) string {
	t.Helper()
	out, err := podmanErr(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func podmanErr(args ...string) (string, error) {
	cmd := exec.Command("podman", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("podman %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return strings.TrimSpace(string(out)), nil
}

// container is a function container running for a test.
type container struct {
	Name string
	URL  string // http://127.0.0.1:PORT
}

// runFunction starts a function image the way the cluster runs it: as
// 65532, with a read-only root filesystem and no tmpfs either (so a write
// anywhere but the bucket fails), no capabilities, no privilege escalation,
// published on a free loopback port only, with the bucket directory.
func runFunction(t *testing.T, fn, bucketDir string, env ...string) container {
	t.Helper()
	addr := testenv.FreeAddr(t)
	c := container{Name: fmt.Sprintf("claimrisk-test-%s-%d-%d", fn, os.Getpid(), time.Now().UnixNano()%1e6), URL: "http://" + addr}
	args := []string{"run", "--detach", "--name", c.Name,
		"--read-only", "--read-only-tmpfs=false", "--user", "65532:65532",
		"--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"--publish", addr + ":8080",
		// The same path inside as outside: events name the bucket by URL,
		// and a function refuses an event for another bucket.
		"--volume", bucketDir + ":" + bucketDir,
		"--env", "CLAIMRISK_BUCKET=file://" + bucketDir, "--env", "LOG_LEVEL=info"}
	for _, e := range env {
		args = append(args, "--env", e)
	}
	podman(t, append(args, image(fn))...)
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := exec.Command("podman", "logs", c.Name).CombinedOutput()
			t.Logf("log of container %s:\n%s", c.Name, logs)
		}
		_, _ = podmanErr("rm", "--force", "--time", "2", c.Name)
	})
	return c
}

// waitOK polls url (always on 127.0.0.1) until it answers 200.
func waitOK(t *testing.T, url string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Since(start) < timeout {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200 within %v", url, timeout)
	return 0
}

// bucketDir is a bucket directory the containers (user 65532) and the CLI
// (this user) share through a bind mount.
func bucketDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bucket")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil { // past the umask
		t.Fatal(err)
	}
	return dir
}

// TestFunctionImages checks each function image: a non-root user, no shell,
// the CA roots and the module list inside; and the container answers its
// health endpoints as 65532 on a read-only root filesystem.
func TestFunctionImages(t *testing.T) {
	buildImages(t)
	bucket := bucketDir(t)
	for _, fn := range fnspec.Names() {
		t.Run(fn, func(t *testing.T) {
			t.Parallel()
			img := image(fn)
			var inspect []struct {
				Size   int64
				Config struct {
					User       string
					Entrypoint []string
					Env        []string
				}
			}
			if err := json.Unmarshal([]byte(podman(t, "image", "inspect", img)), &inspect); err != nil || len(inspect) != 1 {
				t.Fatalf("podman image inspect %s: %v", img, err)
			}
			cfg := inspect[0].Config
			t.Logf("image %s: %.1f MB", img, float64(inspect[0].Size)/1e6)
			if cfg.User != "65532:65532" {
				t.Errorf("image user = %q, want 65532:65532", cfg.User)
			}
			if strings.Join(cfg.Entrypoint, " ") != "/function" {
				t.Errorf("entrypoint = %v, want [/function]", cfg.Entrypoint)
			}

			// The files: copied out of a container that never starts.
			created := podman(t, "create", img)
			defer podmanErr("rm", created)
			dir := t.TempDir()
			for _, f := range []string{"/usr/share/claimrisk/modules.txt", "/etc/ssl/certs/ca-certificates.crt"} {
				if _, err := podmanErr("cp", created+":"+f, dir); err != nil {
					t.Errorf("the image lacks %s: %v", f, err)
				}
			}
			if mods, err := os.ReadFile(filepath.Join(dir, "modules.txt")); err == nil {
				if !bytes.HasPrefix(mods, []byte("function: go1.26")) || !bytes.Contains(mods, []byte("-trimpath=true")) || !bytes.Contains(mods, []byte("CGO_ENABLED=0")) {
					t.Errorf("modules.txt is not the go version -m output of a trimmed static build:\n%.300s", mods)
				}
			}
			for _, sh := range []string{"/bin/sh", "/bin/bash", "/usr/bin/sh"} {
				if _, err := podmanErr("cp", created+":"+sh, dir); err == nil {
					t.Errorf("the image has a shell at %s", sh)
				}
			}

			c := runFunction(t, fn, bucket)
			// predict is ready only with a champion; the bucket has none.
			ready := "/health/readiness"
			if fn == "predict" {
				ready = "/health/liveness"
			}
			took := waitOK(t, c.URL+ready, 30*time.Second)
			waitOK(t, c.URL+"/health/liveness", 5*time.Second)
			t.Logf("%s answered %s %.0f ms after podman run returned", fn, ready, float64(took.Microseconds())/1000)

			if got := podman(t, "inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", c.Name); got != "true" {
				t.Errorf("ReadonlyRootfs = %s", got)
			}
			// The process as the kernel sees it (the image has no ps for
			// podman top): real, effective, saved and filesystem ids.
			pid := podman(t, "inspect", "--format", "{{.State.Pid}}", c.Name)
			status, err := os.ReadFile("/proc/" + pid + "/status")
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(status), "\n") {
				if f := strings.Fields(line); len(f) == 5 && (f[0] == "Uid:" || f[0] == "Gid:") {
					if f[1] != "65532" || f[2] != "65532" || f[3] != "65532" || f[4] != "65532" {
						t.Errorf("the process runs with %s", line)
					}
				}
			}
			var ports map[string][]struct{ HostIp, HostPort string }
			if err := json.Unmarshal([]byte(podman(t, "inspect", "--format", "{{json .NetworkSettings.Ports}}", c.Name)), &ports); err != nil {
				t.Fatal(err)
			}
			for p, binds := range ports {
				for _, b := range binds {
					if b.HostIp != "127.0.0.1" {
						t.Errorf("port %s is published on %q, want 127.0.0.1 only", p, b.HostIp)
					}
				}
			}
		})
	}
}

// TestImageReproducible builds the train image twice, under two tags and
// into two build directories: the same commit must give the same image ID
// (same binary, same file times, same config).
func TestImageReproducible(t *testing.T) {
	buildImages(t)
	// Both builds read one snapshot of the sources, so an edit made in the
	// working tree meanwhile cannot tell them apart.
	src := snapshot(t)
	var ids, binaries []string
	for _, suffix := range []string{"-a", "-b"} {
		tag := imageTag + suffix
		extraMu.Lock()
		extra = append(extra, imageRepo+"/train:"+tag)
		extraMu.Unlock()
		out := t.TempDir()
		cmd := exec.Command(filepath.Join(src, "containers", "images.sh"), "train")
		cmd.Env = append(os.Environ(), buildEnv(tag, out)...)
		if log, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("containers/images.sh train: %v\n%s", err, log)
		}
		ids = append(ids, podman(t, "image", "inspect", "--format", "{{.Id}}", imageRepo+"/train:"+tag))
		bin, err := os.ReadFile(filepath.Join(out, "train", "function"))
		if err != nil {
			t.Fatal(err)
		}
		binaries = append(binaries, fmt.Sprintf("%x", sha256.Sum256(bin)))
	}
	switch {
	case binaries[0] != binaries[1]:
		t.Errorf("two Go builds of the same sources differ: %s and %s", binaries[0], binaries[1])
	case ids[0] != ids[1]:
		t.Errorf("the same binary gave two images: %s and %s", ids[0], ids[1])
	}
}

// snapshot copies the module's sources (not .git, bin/ or the Python
// environments) into a temporary directory.
func snapshot(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	tar := exec.Command("/bin/sh", "-c", `tar -C "$0" --exclude=./.git --exclude=./bin --exclude='./.venv*' --exclude=./.mypy_cache --exclude=./.pytest_cache --exclude=./.ruff_cache -cf - . | tar -C "$1" -xf -`, testenv.RepoRoot(t), dst)
	if out, err := tar.CombinedOutput(); err != nil {
		t.Fatalf("snapshot of the sources: %v\n%s", err, out)
	}
	return dst
}

// cli runs the claimrisk CLI on the host with umask 000, so that the
// containers (user 65532) can write beside the objects it writes.
func cli(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	bin := testenv.Binary(t, "claimrisk")
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", `umask 000 && exec "$0" "$@"`, bin}, args...)...)
	cmd.Env = append(os.Environ(), "CLAIMRISK_HOME="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("claimrisk %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
