package labcheck

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
)

// datasetScanTrigger is what functions/train records as the trigger of a
// training started by the dataset scan.
const datasetScanTrigger = "dataset scan"

// checkLab6 checks what lab 6's steps leave behind (Automating the lifecycle).
func checkLab6(ctx context.Context, env *Env) []Result {
	var out []Result
	decided := func(r runstore.Run) (registry.Version, registry.Decision, bool) {
		v, ok, err := env.registry.FindRun(ctx, r.ID)
		if err != nil || !ok {
			return v, registry.Decision{}, false
		}
		d, err := env.registry.Decision(ctx, v.Version)
		return v, d, err == nil
	}
	verdict := func(d registry.Decision) string {
		if d.Promoted {
			return "promoted"
		}
		return "rejected"
	}
	retrained := slices.IndexFunc(env.runs, func(r runstore.Run) bool { return r.Trigger == events.DriftDetected })
	if retrained < 0 {
		out = append(out, todo("no training after detected drift: it starts when a drift check detects drift (%s); read %s",
			step(5, 3), filepath.Join(env.home, "logs", "train.log")))
	} else {
		r := env.runs[retrained]
		out = append(out, done("run %s retrained %s after detected drift", r.ID, r.Kind))
		found := false
		for _, r := range env.runs {
			if r.Trigger != events.DriftDetected {
				continue
			}
			if v, d, ok := decided(r); ok {
				out = append(out, done("the promotion gate %s v%d, the retrained model: %s", verdict(d), v.Version, d.Reason))
				found = true
				break
			}
		}
		if !found {
			out = append(out, todo("no decision on a retrained model yet: the register function judges it within seconds; read %s",
				filepath.Join(env.home, "logs", "register.log")))
		}
	}
	scanned := slices.IndexFunc(env.runs, func(r runstore.Run) bool { return r.Trigger == datasetScanTrigger })
	if scanned < 0 {
		out = append(out, todo("no dataset trained by the dataset scan: upload without an event and send the scan's cron event (%s)", step(6, 3)))
	} else {
		out = append(out, done("the dataset scan trained dataset %s", env.runs[scanned].DatasetID))
	}
	moves, err := env.registry.Log(ctx)
	if err != nil {
		return append(out, todo("cannot read the registry's audit log: %v", err))
	}
	human := slices.IndexFunc(moves, func(m registry.Move) bool { return strings.HasPrefix(m.Actor, "user:") })
	if human < 0 {
		out = append(out, todo("no promotion by hand in the audit log: roll back with a reason (%s)", step(6, 4)))
	} else {
		m := moves[human]
		out = append(out, done("%s moved %s to v%d by hand: %s", m.Actor, m.Alias, m.Version, m.Reason))
	}
	dead, err := env.bucket.Keys(ctx, "deadletter/")
	switch {
	case err != nil && !errors.Is(err, blobstore.ErrNotFound):
		out = append(out, todo("cannot list dead letters: %v", err))
	case len(dead) > 0:
		out = append(out, todo("%d event(s) were not delivered: read %s in the bucket", len(dead), dead[len(dead)-1]))
	default:
		out = append(out, done("no dead letters: every event was delivered"))
	}
	return out
}

// notifications is the file exercise 6.2's notifier appends each event to.
const notifications = "notifications.jsonl"

// exercisesLab6 checks each of lab 6's exercises.
func exercisesLab6(ctx context.Context, env *Env) []Result {
	var out []Result
	by := exercise(6, 1)
	defaults := gateDefaults()
	found := false
	for _, v := range env.versionsNewestFirst(ctx) {
		d, err := env.registry.Decision(ctx, v)
		if err != nil || d.Promoted {
			continue
		}
		if name, got, ok := tightened(d.Reason, defaults); ok {
			out = append(out, done("%s: v%d was rejected by a gate whose %s is %s: %s", by, v, name, got, d.Reason))
			found = true
			break
		}
	}
	if !found {
		out = append(out, todo("%s: no rejection names a floor, margin or tolerance other than the defaults: restart claimrisk up with a tighter CLAIMRISK_MIN_GINI (for one) and send a candidate", by))
	}

	by = exercise(6, 2)
	data, r, ok := env.exerciseFile(notifications, by)
	if !ok {
		return append(out, r)
	}
	rejected := 0
	for _, line := range strings.Split(string(data), "\n") {
		var e struct {
			Type string `json:"type"`
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.Type == events.ModelRejected {
			rejected++
		}
	}
	if rejected == 0 {
		out = append(out, todo("%s: %s has no line with \"type\": %q yet: add the Trigger, restart claimrisk up with --triggers, and send a candidate the gate rejects",
			by, filepath.Join(env.exercisesDir(), notifications), events.ModelRejected))
	} else {
		out = append(out, done("%s: your notifier received %d %s event(s)", by, rejected, events.ModelRejected))
	}
	return out
}

// versionsNewestFirst lists the registry's versions, newest first.
func (e *Env) versionsNewestFirst(ctx context.Context) []int {
	vs, err := e.registry.Versions(ctx)
	if err != nil {
		return nil
	}
	slices.Sort(vs)
	slices.Reverse(vs)
	return vs
}

// gateSettings are the numbers a promotion decision's reason quotes, by the
// word that comes before them.
var gateSettings = []struct {
	pattern *regexp.Regexp
	field   string // of config.Register
	percent bool   // quoted as a percentage
}{
	{regexp.MustCompile(`AUC [0-9.]+ is below the floor ([0-9.]+)`), "MinAUC", false},
	{regexp.MustCompile(`Gini [0-9.]+ is below the floor ([0-9.]+)`), "MinGini", false},
	{regexp.MustCompile(`\(at most ([0-9.]+) allowed\)`), "MaxCalibrationError", false},
	{regexp.MustCompile(`, margin ([0-9.]+)\)`), "Margin", false},
	{regexp.MustCompile(`margin ([0-9.]+)%\)`), "LogLossMargin", true},
	{regexp.MustCompile(`\(tolerance ([0-9.]+)\)`), "GiniTolerance", false},
}

// gateDefaults are the register function's defaults, from the struct tags
// of its configuration.
func gateDefaults() map[string]float64 {
	out := map[string]float64{}
	t := reflect.TypeOf(config.Register{})
	for i := range t.NumField() {
		f := t.Field(i)
		if v, err := strconv.ParseFloat(f.Tag.Get("default"), 64); err == nil {
			out[f.Name] = v
		}
	}
	return out
}

// tightened finds a setting in a decision's reason that differs from its
// default, and returns its name and the value quoted.
func tightened(reason string, defaults map[string]float64) (string, string, bool) {
	for _, s := range gateSettings {
		m := s.pattern.FindStringSubmatch(reason)
		if m == nil {
			continue
		}
		got, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			continue
		}
		want := defaults[s.field]
		if s.percent {
			want *= 100
		}
		if math.Abs(got-want) > 1e-9 {
			return configKey(s.field), m[1], true
		}
	}
	return "", "", false
}

// configKey is the environment variable of a config.Register field.
func configKey(field string) string {
	f, ok := reflect.TypeOf(config.Register{}).FieldByName(field)
	if !ok {
		return field
	}
	return f.Tag.Get("envconfig")
}
