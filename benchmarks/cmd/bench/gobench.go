package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// benchstat is golang.org/x/perf's benchstat, pinned, from the module
// proxy. It is run with `go run pkg@version` rather than added to go.mod as
// a tool: every recent golang.org/x/perf requires a newer golang.org/x/image
// than gonum/plot has here, and a tool dependency would upgrade it for the
// whole module.
const benchstat = "golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da"

// goBenchmarks are the hot paths' micro-benchmarks, by package. The files
// that define them (bench_test.go in each package, plus the drift
// package's own) compile against the code before this benchmark existed
// too, so the same benchmarks run on cfg.baseRef for comparison.
var goBenchmarks = []struct{ pkg, pattern string }{
	{"./shared/glm", "."},
	{"./shared/model", "."},
	{"./shared/predictapi", "."},
	{"./shared/parquetio", "."},
	{"./shared/metrics", "."},
	{"./shared/schema", "."},
	{"./shared/drift", "NumericColumn1M$|CategoricalColumn1M|WassersteinDistance1M"},
}

// benchFiles are the benchmark files copied into the baseline tree.
var benchFiles = []string{
	"shared/glm/bench_test.go", "shared/model/bench_test.go", "shared/predictapi/bench_test.go",
	"shared/parquetio/bench_test.go", "shared/metrics/bench_test.go", "shared/schema/bench_test.go",
}

type goBenchData struct {
	Raw       string `json:"raw_file"`
	Base      string `json:"base_file,omitempty"`
	BaseRef   string `json:"base_ref,omitempty"`
	Summary   string `json:"benchstat"`
	Compare   string `json:"benchstat_base_vs_new,omitempty"`
	EvalAB    string `json:"benchstat_glm_eval_impl,omitempty"`
	ScoreProf string `json:"score_profile,omitempty"`
}

// runGoBench runs the benchmarks in the module at dir into file.
func runGoBench(ctx context.Context, cfg *config, dir, file string) error {
	var out strings.Builder
	for _, b := range goBenchmarks {
		argv := []string{"go", "test", "-run", "^$", "-bench", b.pattern, "-benchmem", "-count", fmt.Sprint(cfg.benchCount), "-benchtime", cfg.benchTime, b.pkg}
		stdout, _, _, err := run(ctx, dir, argv, nil)
		if err != nil {
			return err
		}
		out.Write(stdout)
	}
	return os.WriteFile(file, []byte(out.String()), 0o644)
}

func goBench(ctx context.Context, cfg *config) (*result, error) {
	data := &goBenchData{Raw: "gobench.txt"}
	res := &result{Data: data}
	cur := filepath.Join(cfg.out, "gobench.txt")
	fmt.Fprintf(os.Stderr, "   go test -bench (count %d, benchtime %s) ...\n", cfg.benchCount, cfg.benchTime)
	if err := runGoBench(ctx, cfg, cfg.root, cur); err != nil {
		return res, err
	}
	bs := func(args ...string) (string, error) {
		out, _, _, err := run(ctx, cfg.out, append([]string{"go", "run", benchstat}, args...), nil)
		return string(out), err
	}
	var err error
	if data.Summary, err = bs("gobench.txt"); err != nil {
		return res, err
	}
	if data.EvalAB, err = bs("-filter", ".name:EvalDesign", "-col", "/impl", "gobench.txt"); err != nil {
		return res, err
	}
	switch {
	case cfg.baseRef == "":
	case cfg.smoke:
		// Compile only: the benchmark files must still build against the
		// baseline, or a full run's comparison fails.
		if err := exec.CommandContext(ctx, "git", "-C", cfg.root, "cat-file", "-e", cfg.baseRef+"^{commit}").Run(); err != nil {
			fmt.Fprintf(os.Stderr, "   not checking the benchmark files against %s: this clone does not have it\n", cfg.baseRef)
			break
		}
		base, err := baseTree(ctx, cfg)
		if err != nil {
			return res, err
		}
		argv := []string{"go", "vet"}
		for _, b := range goBenchmarks {
			argv = append(argv, b.pkg)
		}
		if _, _, _, err := run(ctx, base, argv, nil); err != nil {
			return res, fmt.Errorf("the benchmark files do not build against %s: %w", cfg.baseRef, err)
		}
	default:
		// The same benchmarks on the code before the optimisations.
		base, err := baseTree(ctx, cfg)
		if err != nil {
			return res, err
		}
		fmt.Fprintf(os.Stderr, "   the same on %s ...\n", cfg.baseRef)
		if err := runGoBench(ctx, cfg, base, filepath.Join(cfg.out, "gobench-base.txt")); err != nil {
			return res, err
		}
		data.Base, data.BaseRef = "gobench-base.txt", cfg.baseRef
		if data.Compare, err = bs("base="+filepath.Join(cfg.out, "gobench-base.txt"), "new="+cur); err != nil {
			return res, err
		}
	}
	if err := scoreProfile(ctx, cfg); err != nil {
		return res, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "`go test -bench` over the hot paths (`-count %d -benchtime %s -benchmem`), summarised by benchstat (`%s`): the raw output is [gobench.txt](gobench.txt).\n\n", cfg.benchCount, cfg.benchTime, benchstat)
	if data.Compare != "" {
		fmt.Fprintf(&b, "Before and after the optimisations, in this run: `base` is commit %s with the same benchmark files, `new` the working tree ([gobench-base.txt](gobench-base.txt)). benchstat prints the medians, their 95%% confidence intervals and the change with its p-value.\n\n```\n%s```\n\n", cfg.baseRef, data.Compare)
	} else {
		fmt.Fprintf(&b, "```\n%s```\n\n", data.Summary)
	}
	fmt.Fprintf(&b, "The GLM's objective, gradient and Hessian in one pass over 100,000 rows of 17 features, one goroutine: row by row (the reference the tests check `Eval` with), then `Eval` (blocked) on the design in float64 and in float32:\n\n```\n%s```\n", data.EvalAB)
	res.Markdown = b.String()
	return res, nil
}

// baseTree is the module at cfg.baseRef with this tree's benchmark files,
// under cfg.work.
func baseTree(ctx context.Context, cfg *config) (string, error) {
	base := filepath.Join(cfg.work, "gobench-base")
	os.RemoveAll(base)
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	if _, _, _, err := run(ctx, cfg.root, []string{"sh", "-c", fmt.Sprintf("git archive %s | tar -x -C %s", cfg.baseRef, base)}, nil); err != nil {
		return "", err
	}
	for _, f := range benchFiles {
		data, err := os.ReadFile(filepath.Join(cfg.root, f))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(base, f), data, 0o644); err != nil {
			return "", err
		}
	}
	return base, nil
}

// scoreProfile takes CPU and memory profiles of the batch scorer with its
// own benchmark.
func scoreProfile(ctx context.Context, cfg *config) error {
	rows := "1000000"
	if cfg.smoke {
		rows = "20000"
	}
	prof := filepath.Join(cfg.out, "profiles")
	argv := []string{"go", "test", "-run", "^$", "-bench", "BenchmarkScore", "-benchtime", "1x", "-o", filepath.Join(cfg.work, "batchscore.test"),
		"-cpuprofile", filepath.Join(prof, "score-cpu.pprof"), "-memprofile", filepath.Join(prof, "score-mem.pprof"), "./shared/tooling/batchscore"}
	_, _, _, err := run(ctx, cfg.root, argv, []string{"CLAIMRISK_SCORE_ROWS=" + rows})
	return err
}
