// Command bench runs claimrisk's benchmarks and writes their results as
// JSON and Markdown: `make bench` runs it in full into benchmarks/results,
// and `make test` runs it with -smoke (tiny sizes, one run each) so that the
// benchmarks never rot.
//
// Every figure is measured over repeated runs and reported as the median
// with the range of the runs; timings are compared as ratios with what the
// same run measured for the comparison (a peer server, scikit-learn,
// Evidently, the in-process limit). See benchmarks/NOTES.md for the method.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// config is what every section needs: where things are and how big to go.
type config struct {
	smoke                bool
	root, out, work, bin string
	self                 string // this executable, for the subcommands
	py, pyBench          string // .venv and .venv-bench interpreters
	baseRef              string // the commit the Go benchmarks compare against

	serveDuration, serveWarmup time.Duration
	serveReps                  int
	concurrency                []int
	servePolicies              int           // training data of the serving champion
	rowPeers                   bool          // also serve the peers the design row
	checkRecords               int           // records whose answers are compared
	settle                     time.Duration // wait before measuring idle memory

	startReps, peerStartReps, containerReps int
	containers                              bool

	fitSizes    []int
	fitReps     int
	sklearnTols []float64

	driftCurrent, driftPolicies, driftReps int

	scoreSizes []int
	scoreReps  int

	demoReps int

	benchCount int
	benchTime  string
}

func fullConfig() config {
	return config{
		serveDuration: 5 * time.Second, serveWarmup: 2 * time.Second, serveReps: 3, concurrency: []int{1, 8, 32},
		servePolicies: 40_000, rowPeers: true, checkRecords: 200, settle: 2 * time.Second,
		startReps: 10, peerStartReps: 3, containerReps: 5, containers: true,
		fitSizes: []int{100_000, 1_000_000, 5_000_000}, fitReps: 3, sklearnTols: []float64{1e-4, 1e-10},
		driftCurrent: 1_000_000, driftPolicies: 400_000, driftReps: 3,
		scoreSizes: []int{1_000_000, 5_000_000}, scoreReps: 3,
		demoReps:   2,
		benchCount: 5, benchTime: "1s",
		baseRef: baseRef,
	}
}

// baseRef is the commit before issue 17: a full run compares the Go
// benchmarks with it, a smoke run checks that they still build against it.
const baseRef = "c34e5318ebc0"

func smokeConfig() config {
	return config{
		smoke:         true,
		baseRef:       baseRef,
		serveDuration: time.Second, serveReps: 1, concurrency: []int{1, 32},
		servePolicies: 8_000, checkRecords: 10, settle: 200 * time.Millisecond,
		startReps: 1,
		fitSizes:  []int{8_000}, fitReps: 1, sklearnTols: []float64{1e-4, 1e-10},
		driftCurrent: 3_000, driftPolicies: 8_000, driftReps: 1,
		scoreSizes: []int{20_000}, scoreReps: 1,
		benchCount: 1, benchTime: "1x",
	}
}

// result is what a section reports.
type result struct {
	Data     any        `json:"data"`
	Markdown string     `json:"-"`
	Targets  []target   `json:"targets,omitempty"`
	Notes    []string   `json:"notes,omitempty"`
	Seconds  float64    `json:"seconds"`
	LoadAvg  [2]float64 `json:"load_average"`
	Error    string     `json:"error,omitempty"`
}

// target is one of the targets and whether this run meets it.
type target struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Met  bool   `json:"met"`
}

type section struct {
	name, title string
	run         func(context.Context, *config) (*result, error)
}

var sections = []section{
	{"gobench", "Go micro-benchmarks", goBench},
	{"serving", "Online prediction", serving},
	{"shadow", "Shadow scoring: a challenger beside the champion at c=32", shadowBench},
	{"startup", "Start-up and footprint", startup},
	{"training", "Training: GLM fit against scikit-learn", trainingBench},
	{"drift", "Drift: the drift check against Evidently", driftBench},
	{"scoring", "Batch scoring", scoringBench},
	{"demo", "The whole story: make demo", demoBench},
}

func main() {
	if len(os.Args) > 1 {
		if sub, ok := subcommands[os.Args[1]]; ok {
			if err := sub(os.Args[2:]); err != nil {
				fmt.Fprintf(os.Stderr, "bench %s: %v\n", os.Args[1], err)
				os.Exit(1)
			}
			return
		}
	}
	smoke := flag.Bool("smoke", false, "tiny sizes and one run each, for make test")
	out := flag.String("out", "benchmarks/results", "directory for results.json, results.md and the profiles")
	only := flag.String("only", "", "comma-separated sections to run (default: all): "+sectionNames())
	fitSizes := flag.String("fit-sizes", "", "override the training benchmark's portfolio sizes (comma-separated), for trying things out")
	driftSizes := flag.String("drift-sizes", "", "override the drift benchmark's sizes as POLICIES,CURRENT (the champion's portfolio, the logged predictions), for trying things out")
	reps := flag.Int("reps", 0, "override the number of runs of every figure but the predict function's start-ups (cheap: ten runs of the process, five of the container), for shorter runs")
	flag.Parse()
	override = func(cfg *config) {
		if *fitSizes != "" {
			cfg.fitSizes = nil
			for _, f := range strings.Split(*fitSizes, ",") {
				var n int
				fmt.Sscan(f, &n)
				cfg.fitSizes = append(cfg.fitSizes, n)
			}
		}
		if *driftSizes != "" {
			fmt.Sscanf(*driftSizes, "%d,%d", &cfg.driftPolicies, &cfg.driftCurrent)
		}
		if *reps > 0 {
			cfg.serveReps, cfg.peerStartReps = *reps, *reps
			cfg.fitReps, cfg.driftReps, cfg.scoreReps, cfg.demoReps = *reps, *reps, *reps, *reps
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, *smoke, *out, *only); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// override applies the development flags to the configuration.
var override = func(*config) {}

func sectionNames() string {
	var names []string
	for _, s := range sections {
		names = append(names, s.name)
	}
	return strings.Join(names, ",")
}

func realMain(ctx context.Context, smoke bool, out, only string) error {
	cfg := fullConfig()
	if smoke {
		cfg = smokeConfig()
	}
	override(&cfg)
	var err error
	if cfg.root, err = repoRoot(); err != nil {
		return err
	}
	if cfg.out, err = filepath.Abs(out); err != nil {
		return err
	}
	cfg.work = filepath.Join(cfg.out, "tmp")
	if !smoke {
		cfg.work = filepath.Join(cfg.root, "benchmarks", "results", "tmp")
	}
	cfg.bin = filepath.Join(cfg.root, "bin")
	cfg.py = filepath.Join(cfg.root, ".venv", "bin", "python")
	cfg.pyBench = filepath.Join(cfg.root, ".venv-bench", "bin", "python")
	if cfg.self, err = os.Executable(); err != nil {
		return err
	}
	for _, d := range []string{cfg.out, cfg.work, filepath.Join(cfg.out, "profiles")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for _, b := range []string{"claimrisk", "predict"} {
		if !exists(filepath.Join(cfg.bin, b)) {
			return fmt.Errorf("%s is missing: run make build first", filepath.Join(cfg.bin, b))
		}
	}
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	rep := &report{Generated: time.Now().UTC(), Smoke: smoke, Args: os.Args[1:], Machine: describeMachine(), Versions: versions(ctx, &cfg), Sections: map[string]*result{}}
	start := time.Now()
	var (
		mu     sync.Mutex
		failed []string
	)
	runSection := func(s section) {
		fmt.Fprintf(os.Stderr, "== %s\n", s.title)
		t0, l0 := time.Now(), loadavg()
		res, err := s.run(ctx, &cfg)
		if res == nil {
			res = &result{}
		}
		res.Seconds, res.LoadAvg = time.Since(t0).Seconds(), [2]float64{l0, loadavg()}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case errors.Is(err, errSkipped):
			res.Notes = append(res.Notes, "skipped: "+strings.TrimPrefix(err.Error(), errSkipped.Error()+": "))
			fmt.Fprintf(os.Stderr, "   %s: %s\n", s.name, err)
		case err != nil:
			res.Error = err.Error()
			failed = append(failed, s.name)
			fmt.Fprintf(os.Stderr, "   %s FAILED: %v\n", s.name, err)
		}
		rep.Sections[s.name] = res
		rep.order = rep.order[:0]
		for _, o := range sections {
			if rep.Sections[o.name] != nil {
				rep.order = append(rep.order, o)
			}
		}
		rep.Seconds = time.Since(start).Seconds()
		if err := rep.write(cfg.out); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		}
	}
	// The full run measures one section at a time. The smoke run only has
	// to show that every section still works, so it runs the sections that
	// share no fixture side by side.
	groups := [][]string{{"gobench"}, {"serving", "shadow", "startup", "scoring"}, {"training", "drift"}, {"demo"}}
	if !smoke {
		groups = [][]string{{"gobench", "serving", "shadow", "startup", "training", "drift", "scoring", "demo"}}
	}
	var wg sync.WaitGroup
	for _, g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, name := range g {
				for _, s := range sections {
					if s.name == name && (len(want) == 0 || want[name]) && ctx.Err() == nil {
						runSection(s)
					}
				}
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	fmt.Fprintf(os.Stderr, "wrote %s and %s in %s\n", filepath.Join(cfg.out, "results.json"), filepath.Join(cfg.out, "results.md"), time.Since(start).Round(time.Second))
	if len(failed) > 0 {
		return fmt.Errorf("sections failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if exists(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run from the repository")
		}
		dir = parent
	}
}

// report is results.json.
type report struct {
	Generated time.Time          `json:"generated"`
	Smoke     bool               `json:"smoke"`
	Args      []string           `json:"args"`
	Seconds   float64            `json:"seconds"`
	Machine   map[string]string  `json:"machine"`
	Versions  map[string]string  `json:"versions"`
	Sections  map[string]*result `json:"sections"`
	order     []section
}

func (r *report) write(dir string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(r.markdown()), 0o644)
}

func (r *report) markdown() string {
	var b strings.Builder
	mode := "full run (`make bench`)"
	if r.Smoke {
		mode = "smoke run (tiny sizes, one run each: not for comparison)"
	}
	fmt.Fprintf(&b, "# claimrisk benchmarks\n\n%s, %s, %s in all, `bench %s`. ", mode, r.Generated.Format("2006-01-02 15:04 UTC"), (time.Duration(r.Seconds) * time.Second).String(), strings.Join(r.Args, " "))
	b.WriteString("Each figure is the median of the runs with their range in parentheses; ratios are of medians measured in the same run. ")
	b.WriteString("The method and what the profiles showed are in [../NOTES.md](../NOTES.md).\n\n")
	b.WriteString("## Machine and versions\n\n| | |\n|---|---|\n")
	for _, k := range sortedKeys(r.Machine) {
		fmt.Fprintf(&b, "| %s | %s |\n", k, r.Machine[k])
	}
	for _, k := range sortedKeys(r.Versions) {
		fmt.Fprintf(&b, "| %s | %s |\n", k, r.Versions[k])
	}
	b.WriteString("\n## Targets\n\n| target | wanted | this run | met |\n|---|---|---|---|\n")
	for _, s := range r.order {
		for _, t := range r.Sections[s.name].Targets {
			met := "no"
			if t.Met {
				met = "yes"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", t.Name, t.Want, t.Got, met)
		}
	}
	for _, s := range r.order {
		res := r.Sections[s.name]
		fmt.Fprintf(&b, "\n## %s\n\n", s.title)
		fmt.Fprintf(&b, "_%.0f s; load average %.1f before, %.1f after._\n\n", res.Seconds, res.LoadAvg[0], res.LoadAvg[1])
		if res.Error != "" {
			fmt.Fprintf(&b, "**Failed:** `%s`\n\n", strings.ReplaceAll(firstLine(res.Error), "`", "'"))
		}
		b.WriteString(res.Markdown)
		for _, n := range res.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// describeMachine is what the results are relative to.
func describeMachine() map[string]string {
	m := map[string]string{}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		n := 0
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				n++
			}
		}
		m["cpus"] = fmt.Sprint(n)
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.SplitN(string(data), "\n", 2)[0], "MemTotal: %d kB", &kb)
		m["memory"] = fmt.Sprintf("%.1f GB", float64(kb)/1e6)
	}
	if out, err := exec.Command("uname", "-sr").Output(); err == nil {
		m["kernel"] = strings.TrimSpace(string(out))
	}
	if data, err := os.ReadFile("/etc/debian_version"); err == nil {
		m["os"] = "Debian " + strings.TrimSpace(string(data))
	}
	m["load average at start"] = fmt.Sprintf("%.2f", loadavg())
	return m
}
