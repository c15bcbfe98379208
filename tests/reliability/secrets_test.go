package reliability

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/mlflow"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

func secret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestCredentials runs MLflow with basic authentication (--app-name
// basic-auth, as the production profile does) and the train, register and
// predict binaries with every credential set: the Go MLflow client gets a
// 401 without or with wrong credentials and gets through with the right
// ones; the functions log their runs through it; and afterwards no
// credential appears in any function's log, in the CLI's output or in the
// bucket.
func TestCredentials(t *testing.T) {
	t.Parallel()
	user, password := "claimrisk-ci", secret(t)
	token, eventKey := secret(t), secret(t)
	mlflowURL := testenv.MLflowOn(t, testenv.MLflowOptions{AdminUser: user, AdminPassword: password})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	t.Run("mlflow client", func(t *testing.T) {
		for _, c := range []struct {
			name     string
			opts     []mlflow.Option
			wantCode int
		}{
			{"without credentials", nil, http.StatusUnauthorized},
			{"with a wrong password", []mlflow.Option{mlflow.WithBasicAuth(user, password+"x")}, http.StatusUnauthorized},
			{"with a wrong user", []mlflow.Option{mlflow.WithBasicAuth("nobody", password)}, http.StatusUnauthorized},
			{"with the right credentials", []mlflow.Option{mlflow.WithBasicAuth(user, password)}, 0},
		} {
			client, err := mlflow.New(mlflowURL, c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			_, err = client.EnsureExperiment(ctx, "auth-check")
			var ae *mlflow.APIError
			switch {
			case c.wantCode == 0 && err != nil:
				t.Errorf("%s: %v; want success", c.name, err)
			case c.wantCode != 0 && (!errors.As(err, &ae) || ae.Status != c.wantCode):
				t.Errorf("%s: %v; want an APIError with status %d", c.name, err, c.wantCode)
			case err != nil && strings.Contains(err.Error(), password):
				t.Errorf("%s: the error %q holds the password", c.name, err)
			}
		}
	})

	secrets := map[string]string{
		"MLflow password": password, "API token": token, "event key": eventKey,
	}
	if pg := os.Getenv(testenv.PostgresEnv); pg != "" {
		// .ci/run puts the PostgreSQL password in the environment every
		// binary inherits.
		if u, err := url.Parse(pg); err == nil {
			if p, ok := u.User.Password(); ok && p != "" {
				secrets["PostgreSQL password"] = p
			}
		}
	}
	env := []string{"MLFLOW_TRACKING_URI=" + mlflowURL, "MLFLOW_TRACKING_USERNAME=" + user, "MLFLOW_TRACKING_PASSWORD=" + password,
		"CLAIMRISK_API_TOKEN=" + token, "CLAIMRISK_EVENT_KEY=" + eventKey, "LOG_LEVEL=debug"}
	sys, bucket, home := testenv.SystemHome(t, env, "train", "register", "predict")

	data := filepath.Join(t.TempDir(), "data")
	var cliOut strings.Builder
	cli := func(env []string, args ...string) string {
		out := testenv.CLI(t, env, args...)
		cliOut.WriteString(out)
		return out
	}
	cli(nil, "data", "generate", "--policies", "8000", "--seed", "42", "--out", data)
	cli([]string{"CLAIMRISK_EVENT_KEY=" + eventKey}, "data", "upload", "--dir", data, "--bucket", bucket,
		"--sink", sys.URL("broker"), "--wait", "4m")

	t.Run("functions log to MLflow with the credentials", func(t *testing.T) {
		var runs []runstore.Run
		if err := json.Unmarshal([]byte(cli(nil, "runs", "list", "--json", "--bucket", bucket)), &runs); err != nil || len(runs) == 0 {
			t.Fatalf("runs: %v (%d)", err, len(runs))
		}
		for _, r := range runs {
			if r.MLflowRunID == "" {
				t.Errorf("run %s was not logged to MLflow: %s", r.ID, r.MLflowError)
			}
		}
	})

	t.Run("predict API", func(t *testing.T) {
		for name, tok := range map[string]string{"no token": "", "a wrong token": token + "x"} {
			_, err := predictapi.NewClient(sys.URL("predict"), tok).Model(ctx)
			var ae *predictapi.APIError
			if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
				t.Errorf("/v1/model with %s: %v; want 401", name, err)
			}
		}
		deadline := time.Now().Add(time.Minute)
		for {
			_, err := predictapi.NewClient(sys.URL("predict"), token).Model(ctx)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("/v1/model with the token: %v", err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	})

	// Every function has logged by now (the chain ran end to end); none of
	// their lines, the CLI's output or the bucket's objects hold a secret.
	logs, _ := filepath.Glob(filepath.Join(home, "logs", "*.log"))
	places := map[string][]byte{"the CLI's output": []byte(cliOut.String())}
	for _, p := range logs {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		places[filepath.Base(p)] = data
	}
	for _, f := range []string{"train", "register", "predict"} {
		if len(places[f+".log"]) == 0 {
			t.Errorf("%s.log is empty or missing in %s: nothing to check", f, filepath.Join(home, "logs"))
		}
	}
	dir := strings.TrimPrefix(bucket, "file://")
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			data, _ := os.ReadFile(path)
			places["bucket object "+strings.TrimPrefix(path, dir)] = data
		}
		return nil
	})
	checked := 0
	for where, data := range places {
		checked += len(data)
		for what, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("the %s appears in %s", what, where)
			}
		}
	}
	t.Logf("credentials: %d secrets checked against %d logs, the CLI's output and %d bucket objects (%d bytes): none found",
		len(secrets), len(logs), len(places)-len(logs)-1, checked)
}

// Credentials in the repository: an upper-case credential variable given a
// literal value, a URL with a password in it, or a private key. The values
// of the local profile (config/knative/overlays/local, cluster.sh) are
// public on purpose and start with "fake-"; placeholders are the documents'
// and tests' stand-ins.
var (
	placeholders = map[string]bool{"password": true, "s3cret": true} // docs/deploy.md; shared/logging's Redact test
	credAssign   = regexp.MustCompile(`\b[A-Z_]*(API_TOKEN|EVENT_KEY|PASSWORD|SECRET_KEY|SECRET_ACCESS_KEY)\s*[=:]\s*["']?([A-Za-z0-9][^\s"'$<>{}()]{5,})`)
	credURL      = regexp.MustCompile(`[a-z][a-z0-9+]*://[^/\s:@"'$]+:([^@\s/"'$(){}<>]+)@`)
	privateKey   = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)
)

func TestNoCredentialsInTheRepository(t *testing.T) {
	t.Parallel()
	root := testenv.RepoRoot(t)
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		testenv.Require(t, "git ls-files: %v", err)
	}
	files := 0
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if strings.HasPrefix(name, "benchmarks/results/") {
			continue // copies of the tree made by the benchmarks
		}
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil || bytes.IndexByte(data, 0) >= 0 {
			continue // deleted in the work tree, or binary
		}
		files++
		for i, line := range strings.Split(string(data), "\n") {
			if m := credAssign.FindStringSubmatch(line); m != nil && !strings.HasPrefix(m[2], "fake-") {
				t.Errorf("%s:%d: %s is given a literal value", name, i+1, m[1])
			}
			if m := credURL.FindStringSubmatch(line); m != nil && !strings.HasPrefix(m[1], "fake-") && !placeholders[m[1]] {
				t.Errorf("%s:%d: a URL with a password in it", name, i+1)
			}
			if privateKey.MatchString(line) {
				t.Errorf("%s:%d: a private key", name, i+1)
			}
		}
	}
	if files < 100 {
		t.Fatalf("only %d files checked; is this the repository?", files)
	}
}

// The images: containers/*/Containerfile take no credential as a build
// argument or bake one into the environment (pip's CA bundle is a build
// secret, never a layer), and the function images carry their module list
// (go version -m, checked in the image by config/knative/containertest).
func TestContainerfilesTakeNoCredentials(t *testing.T) {
	t.Parallel()
	root := testenv.RepoRoot(t)
	files, _ := filepath.Glob(filepath.Join(root, "containers", "*", "Containerfile"))
	if len(files) == 0 {
		t.Fatal("no containers/*/Containerfile")
	}
	secretName := regexp.MustCompile(`(?i)(TOKEN|PASSWORD|SECRET|_KEY\b|CREDENTIAL)`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, f)
		// Instructions, with continuation lines joined.
		text := strings.ReplaceAll(string(data), "\\\n", " ")
		for _, line := range strings.Split(text, "\n") {
			fields := strings.Fields(line)
			if len(fields) < 2 || (fields[0] != "ARG" && fields[0] != "ENV") {
				continue
			}
			for _, kv := range fields[1:] {
				name, _, _ := strings.Cut(kv, "=")
				if secretName.MatchString(name) {
					t.Errorf("%s: %s %s: a credential must come from the environment at run time, not the build", rel, fields[0], name)
				}
			}
		}
		if strings.Contains(rel, "function") && !strings.Contains(string(data), "modules.txt") {
			t.Errorf("%s: the function image does not carry its module list", rel)
		}
	}
	script, err := os.ReadFile(filepath.Join(root, "containers", "images.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(script, []byte("version -m function")) {
		t.Error("containers/images.sh no longer records the binary's module list (go version -m)")
	}
	if bytes.Contains(script, []byte("--build-arg")) && regexp.MustCompile(`--build-arg\s+\S*(TOKEN|PASSWORD|SECRET|KEY)`).Match(script) {
		t.Error("containers/images.sh passes a credential as a build argument")
	}
}
