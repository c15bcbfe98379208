package labcheck

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/claimrisk/claimrisk/config/knative"
	"github.com/claimrisk/claimrisk/shared/fnspec"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
)

// checkLab1 checks what lab 1's steps leave behind (The use case and the running system).
func checkLab1(ctx context.Context, env *Env) []Result {
	var out []Result
	var missing []string
	for _, f := range fnspec.Names() {
		if _, err := os.Stat(filepath.Join(env.binDir, f)); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		out = append(out, done("the function binaries are built in %s", env.binDir))
	} else {
		out = append(out, todo("no binary of %s in %s: run make build (see Set-up)", strings.Join(missing, ", "), env.binDir))
	}
	_, py := localrun.FindPython(env.binDir)
	_, ml := localrun.FindMLflow(env.binDir)
	if py && ml {
		out = append(out, done("the Python environment has MLflow and the Evidently job"))
	} else {
		out = append(out, todo("no Python environment with MLflow and Evidently: run make venv (see Set-up)"))
	}
	if env.state == nil {
		return append(out, todo("claimrisk up is not running (no %s): start it in a second terminal (%s)", localrun.StateFile(env.home), step(1, 3)))
	}
	out = append(out, done("claimrisk up is running (%s)", localrun.StateFile(env.home)))
	health := map[string]string{"mlflow": "/health", "evidently": "/api/version"}
	for _, f := range fnspec.All() {
		health[f.Name] = f.Ready
	}
	for _, name := range systemComponents() {
		url := env.component(name)
		if url == "" {
			out = append(out, todo("%s is not part of the running system: restart claimrisk up without --no-%s (%s)", name, name, step(1, 3)))
			continue
		}
		status, _, err := env.get(ctx, url+health[name])
		switch {
		case err != nil:
			out = append(out, todo("%s does not answer at %s: read %s and restart claimrisk up (%s)", name, url,
				filepath.Join(env.home, "logs", name+".log"), step(1, 3)))
		case name == "broker" || status == http.StatusOK:
			out = append(out, done("%s answers at %s", name, url))
		default:
			out = append(out, todo("%s answers %d at %s: read %s", name, status, url+health[name], filepath.Join(env.home, "logs", name+".log")))
		}
	}
	return out
}

// systemComponents are the parts of the system `claimrisk up` runs, in the
// order lab 1 checks them: the broker, the functions, MLflow and Evidently.
func systemComponents() []string {
	return slices.Concat([]string{"broker"}, fnspec.Names(), []string{"mlflow", "evidently"})
}

// exercisesLab1 checks each of lab 1's exercises.
func exercisesLab1(ctx context.Context, env *Env) []Result {
	var out []Result
	by := exercise(1, 1)
	if data, r, ok := env.exerciseFile("routes.txt", by); !ok {
		out = append(out, r)
	} else if triggers, err := localrun.LoadTriggers(knative.Base, "base"); err != nil {
		out = append(out, todo("%s: cannot read the Triggers: %v", by, err))
	} else {
		lines := strings.Split(string(data), "\n")
		var missing []string
		for _, t := range triggers {
			want := []string{t.Attributes["type"], t.Subscriber}
			if c := t.Attributes["check"]; c != "" {
				want = append(want, c)
			}
			if !slices.ContainsFunc(lines, func(l string) bool { return containsWords(l, want) }) {
				missing = append(missing, fmt.Sprintf("%s (%s to %s)", t.Name, strings.Join(want[:1], ""), t.Subscriber))
			}
		}
		if len(missing) == 0 {
			out = append(out, done("%s: routes.txt routes all %d Triggers' events to their functions", by, len(triggers)))
		} else {
			out = append(out, todo("%s: routes.txt has no line with the event type and the subscriber of %s", by, strings.Join(missing, ", ")))
		}
	}
	by = exercise(1, 2)
	if data, r, ok := env.exerciseFile("health.txt", by); !ok {
		out = append(out, r)
	} else if env.state == nil {
		out = append(out, todo("%s: claimrisk up is not running, so there is nothing to compare health.txt with (%s)", by, step(1, 3)))
	} else {
		lines := strings.Split(string(data), "\n")
		var missing []string
		for _, name := range systemComponents() {
			url := env.component(name)
			if url == "" {
				continue
			}
			if !slices.ContainsFunc(lines, func(l string) bool { return containsWords(l, []string{name}) && statusCode.MatchString(l) }) {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			out = append(out, done("%s: health.txt gives an HTTP status for every part of the running system", by))
		} else {
			out = append(out, todo("%s: health.txt has no line with the name and an HTTP status of %s", by, strings.Join(missing, ", ")))
		}
	}
	return out
}

var statusCode = regexp.MustCompile(`\b[1-5]\d\d\b`)

// containsWords reports whether line holds every word, each as a whole
// word (so "train" is not found in "trained").
func containsWords(line string, words []string) bool {
	for _, w := range words {
		re := regexp.MustCompile(`(^|[^A-Za-z0-9_.-])` + regexp.QuoteMeta(w) + `($|[^A-Za-z0-9_.-])`)
		if !re.MatchString(line) {
			return false
		}
	}
	return true
}
