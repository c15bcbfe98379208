package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/fnspec"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/tooling/labcheck"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// labEnvironment points the lab checks at an empty home and bucket, with
// the function binaries looked for in binDir.
func labEnvironment(t *testing.T, binDir string) (home, bucket string) {
	t.Helper()
	home = t.TempDir()
	bucket = "file://" + filepath.Join(home, "bucket")
	t.Setenv("CLAIMRISK_HOME", home)
	t.Setenv("CLAIMRISK_BUCKET", bucket)
	t.Setenv("MLFLOW_TRACKING_URI", "")
	useBinDir(t, binDir)
	return home, bucket
}

// useBinDir makes the lab checks look for the function binaries in dir.
func useBinDir(t *testing.T, dir string) {
	t.Helper()
	saved := labExecutable
	labExecutable = func() (string, error) { return filepath.Join(dir, "claimrisk"), nil }
	t.Cleanup(func() { labExecutable = saved })
}

// checkLab runs `claimrisk lab check N` and returns its ok and todo lines
// of the lab's steps; exercise lines are left out (see checkExercises).
func checkLab(t *testing.T, n int) (ok, todo []string, code int, stderr string) {
	t.Helper()
	ok, todo, _, code, stderr = checkAll(t, n)
	notExercise := func(l string) bool { return strings.HasPrefix(l, "exercise ") }
	return slices.DeleteFunc(ok, notExercise), slices.DeleteFunc(todo, notExercise), code, stderr
}

// checkExercises runs `claimrisk lab check N` and returns its lines about
// the lab's exercises, by mark (ok, todo, skip).
func checkExercises(t *testing.T, n int) map[string][]string {
	t.Helper()
	ok, todo, skip, _, _ := checkAll(t, n)
	out := map[string][]string{}
	for mark, lines := range map[string][]string{"ok": ok, "todo": todo, "skip": skip} {
		for _, l := range lines {
			if strings.HasPrefix(l, "exercise ") {
				out[mark] = append(out[mark], l)
			}
		}
	}
	return out
}

// checkAll runs `claimrisk lab check N` and returns its lines by mark.
func checkAll(t *testing.T, n int) (ok, todo, skip []string, code int, stderr string) {
	t.Helper()
	out, errOut, code := cli(t, "lab", "check", fmt.Sprint(n))
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if want := fmt.Sprintf("lab %d: %s", n, labcheck.Title(n)); lines[0] != want {
		t.Errorf("lab check %d: first line %q, want %q", n, lines[0], want)
	}
	for _, l := range lines[1:] {
		switch {
		case strings.HasPrefix(l, "ok    "):
			ok = append(ok, strings.TrimPrefix(l, "ok    "))
		case strings.HasPrefix(l, "todo  "):
			todo = append(todo, strings.TrimPrefix(l, "todo  "))
		case strings.HasPrefix(l, "skip  "):
			skip = append(skip, strings.TrimPrefix(l, "skip  "))
		case l == fmt.Sprintf("lab %d is done", n):
		default:
			t.Errorf("lab check %d: line %q is neither ok, todo nor skip", n, l)
		}
	}
	return ok, todo, skip, code, errOut
}

func TestLabCheckRefusesWhatIsNotALab(t *testing.T) {
	labEnvironment(t, t.TempDir())
	for _, args := range [][]string{{"lab", "check", "0"}, {"lab", "check", "7"}, {"lab", "check", "two"}, {"lab", "check"}} {
		out, errOut, code := cli(t, args...)
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want status 2 and one line", args, code, out, errOut)
		}
	}
}

// stepHint matches the step a todo line sends a participant to.
var stepHint = regexp.MustCompile(`lab (\d), step (\d+): ([^),]+)`)

func TestLabChecksOnAFreshMachine(t *testing.T) {
	home, bucket := labEnvironment(t, t.TempDir())
	// Checking reads the bucket and never makes it (a mistyped --bucket
	// would be made too), and names the bucket 'claimrisk up' will make.
	t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(home, "bucket")); err == nil {
			t.Error("lab check made the bucket")
		}
	})
	first2 := "no dataset in the bucket " + bucket + ":"
	// What each lab says first when nothing has been done.
	first := map[int]string{
		1: "no binary of " + strings.Join(fnspec.Names(), ", ") + " in ",
		2: "no dataset in the bucket ",
		3: "no MLflow server: claimrisk up starts one",
		4: "no prediction API: claimrisk up is not running (lab 1, step 3: Start the system)",
		5: "no drift report in the bucket: send traffic and run a drift check (lab 5, step 1: Send ordinary traffic and check it)",
		6: "no training after detected drift",
	}
	for n := 1; n <= labcheck.Count(); n++ {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			_, todo, code, stderr := checkLab(t, n)
			if code != 1 || !strings.HasPrefix(stderr, fmt.Sprintf("claimrisk: lab %d is not done yet: ", n)) {
				t.Errorf("exit %d, stderr %q; want 1 and 'lab %d is not done yet'", code, stderr, n)
			}
			if len(todo) == 0 || !strings.HasPrefix(todo[0], first[n]) {
				t.Fatalf("todo lines %q; want the first to start %q", todo, first[n])
			}
			if n == 2 && !strings.HasPrefix(todo[0], first2) {
				t.Errorf("lab 2's first todo %q does not name the bucket %s", todo[0], bucket)
			}
			for _, line := range todo {
				for _, m := range stepHint.FindAllStringSubmatch(line, -1) {
					var lab, s int
					fmt.Sscan(m[1], &lab)
					fmt.Sscan(m[2], &s)
					if title, _ := labcheck.StepTitle(lab, s); title != strings.TrimSpace(m[3]) {
						t.Errorf("%q names a step lab check does not know", m[0])
					}
				}
			}
		})
	}
}

func TestLabTwoAfterTraining(t *testing.T) {
	_, bucket := labEnvironment(t, t.TempDir())
	testenv.Train(t, bucket, 42, 20000)
	ok, todo, code, stderr := checkLab(t, 2)
	if code != 1 || len(todo) != 0 || !strings.Contains(stderr, "lab 2's steps are done, but exercise 2.1 (Fit the claim model in Python) is unfinished") {
		t.Fatalf("exit %d (%s), todo %q; want the steps done and exercise 2.1 named", code, stderr, todo)
	}
	want := []*regexp.Regexp{
		regexp.MustCompile(`^1 dataset\(s\) in the bucket$`),
		regexp.MustCompile(`^dataset [0-9a-f]{16} trained: legacy, glm-base, glm-accident$`),
		regexp.MustCompile(`^glm-accident ranks better than the legacy formula out of time: Gini 0\.\d{4} against 0\.\d{4}$`),
		regexp.MustCompile(`^claim-risk v1 \(glm-accident\) is the champion$`),
	}
	if len(ok) != len(want) {
		t.Fatalf("ok lines %q; want %d", ok, len(want))
	}
	for i, re := range want {
		if !re.MatchString(ok[i]) {
			t.Errorf("ok line %d %q does not match %s", i+1, ok[i], re)
		}
	}
}

// TestLabChecksFollowTheLabs walks labs 1 to 6 against the real function
// binaries, a real MLflow server and the CLI, checking each lab before and
// after its outcome exists.
func TestLabChecksFollowTheLabs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MLflow and every function; skipped with -short")
	}
	mlflowURI := testenv.MLflow(t)
	sys, bucket := testenv.System(t, mlflowURI, fnspec.Names()...)
	home := filepath.Dir(strings.TrimPrefix(bucket, "file://"))
	t.Setenv("CLAIMRISK_HOME", home)
	t.Setenv("CLAIMRISK_BUCKET", bucket)
	t.Setenv("MLFLOW_TRACKING_URI", mlflowURI)
	t.Setenv("CLAIMRISK_MLFLOW", filepath.Join(filepath.Dir(testenv.Python(t)), "mlflow"))
	useBinDir(t, filepath.Dir(testenv.Binary(t, "train")))
	broker, predict := sys.URL("broker"), sys.URL("predict")
	must := func(args ...string) string {
		t.Helper()
		out, errOut, code := cli(t, args...)
		if code != 0 {
			t.Fatalf("claimrisk %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	expect := func(n int, wantTodo ...string) {
		t.Helper()
		ok, todo, code, stderr := checkLab(t, n)
		if len(todo) != len(wantTodo) {
			t.Fatalf("lab %d: todo %q (ok %q); want %d todo lines", n, todo, ok, len(wantTodo))
		}
		for i, w := range wantTodo {
			if !strings.Contains(todo[i], w) {
				t.Errorf("lab %d: todo line %q does not say %q", n, todo[i], w)
			}
		}
		// The exercises are not done here: with every step done, the check
		// says so and names the first unfinished exercise.
		stepsDone := strings.Contains(stderr, fmt.Sprintf("lab %d's steps are done, but exercise %d.1 ", n, n))
		if code != 1 || stepsDone != (len(wantTodo) == 0) {
			t.Errorf("lab %d: exit %d, stderr %q, with %d todo lines of steps", n, code, stderr, len(todo))
		}
	}

	// testenv.System runs neither MLflow nor Evidently itself.
	expect(1, "mlflow is not part of the running system", "evidently is not part of the running system")
	expect(2, "no dataset in the bucket")

	data := filepath.Join(t.TempDir(), "data")
	must("data", "generate", "--out", data)
	must("data", "upload", "--dir", data, "--sink", broker, "--wait", "3m")
	expect(2)
	// The register function mirrors to MLflow after it decides, and upload
	// --wait returns at the decision: the mirror follows within moments.
	waitFor(t, "the champion in MLflow's registry", func() bool {
		_, todo, _, _ := checkLab(t, 3)
		return len(todo) == 0
	})
	expect(3)
	waitServing(t, predict, 1)
	expect(4, "no logged predictions in the bucket")

	must("simulate", "--scenario", "none", "--policies", "400", "--url", predict)
	expect(4)
	expect(5, "no drift report in the bucket")
	must("drift", "check", "--sink", broker)
	expect(5, "no report has detected drift yet", "no Evidently report in the bucket")
	must("simulate", "--scenario", "accident-spike", "--policies", "1500", "--seed", "8", "--url", predict)
	must("drift", "check", "--sink", broker)
	expect(5, "no Evidently report in the bucket")

	waitFor(t, "a decision on the retrained model", func() bool {
		_, todo, _, _ := checkLab(t, 6)
		return len(todo) == 2
	})
	expect(6, "no dataset trained by the dataset scan", "no promotion by hand in the audit log")
	must("registry", "promote", "1", "--reason", "roll back for the test")
	expect(6, "no dataset trained by the dataset scan")
}

func waitServing(t *testing.T, url string, version int) {
	t.Helper()
	c := predictapi.NewClient(url, "")
	waitFor(t, fmt.Sprintf("the prediction API to serve v%d", version), func() bool {
		info, err := c.Model(context.Background())
		return err == nil && info.Version == version
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 2 minutes for %s", what)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
