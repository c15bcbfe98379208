package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/features"
	"github.com/claimrisk/claimrisk/shared/glm"
	"github.com/claimrisk/claimrisk/shared/metrics"
	"github.com/claimrisk/claimrisk/shared/training"
)

// trainL2 is the train function's default penalty (CLAIMRISK_L2).
const trainL2 = 1.0

// fitFixture writes the accident GLM's design of a generated portfolio of
// n policies, as the train function builds it (every policy year but the
// last to fit, the last to validate), to .npy files.
func fitFixture(ctx context.Context, cfg *config, n int) (string, error) {
	dir := filepath.Join(cfg.work, fmt.Sprintf("fit-%d", n))
	err := cached(dir, func() error {
		d, err := generate(42, n)
		if err != nil {
			return err
		}
		in, err := training.InputFor(d, dataset.Manifest{})
		if err != nil {
			return err
		}
		train, valid := in.Train, in.Valid
		spec, err := features.NewSpec(features.SetAccident, train, in.Accidents)
		if err != nil {
			return err
		}
		design, err := spec.Design()
		if err != nil {
			return err
		}
		p := design.Width()
		for name, rows := range map[string][]features.Example{"train": train, "valid": valid} {
			if err := writeNpy(filepath.Join(dir, name+"_x.npy"), design.Matrix(rows), len(rows), p); err != nil {
				return err
			}
			if err := writeNpy(filepath.Join(dir, name+"_y.npy"), features.Labels(rows), len(rows), 0); err != nil {
				return err
			}
		}
		return writeJSON(filepath.Join(dir, "meta.json"), map[string]any{"names": spec.Names, "train_rows": len(train), "valid_rows": len(valid)})
	})
	return dir, err
}

// fitOutput is what both fits print.
type fitOutput struct {
	Seconds    float64   `json:"seconds"`
	Iterations int       `json:"iterations"`
	Intercept  float64   `json:"intercept"`
	Coef       []float64 `json:"coef"`
	AUC        float64   `json:"auc"`
}

// fitGoCmd is `bench fit-go DIR`: the train function's GLM fit on the
// design in DIR, timed on its own, with the validation AUC.
func fitGoCmd(args []string) error {
	fs := flag.NewFlagSet("fit-go", flag.ContinueOnError)
	cpu := fs.String("cpuprofile", "", "CPU profile of the fit")
	mem := fs.String("memprofile", "", "allocation profile of the fit")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		return fmt.Errorf("usage: fit-go [-cpuprofile F] [-memprofile F] DIR")
	}
	dir := fs.Arg(0)
	var meta struct{ Names []string }
	if err := readJSON(filepath.Join(dir, "meta.json"), &meta); err != nil {
		return err
	}
	// The design in float32, as the train function fits it; the labels in
	// float64, as the fit takes them.
	x, err := readNpy[float32](filepath.Join(dir, "train_x.npy"))
	if err != nil {
		return err
	}
	xv, err := readNpy[float32](filepath.Join(dir, "valid_x.npy"))
	if err != nil {
		return err
	}
	y, err := readNpy[float64](filepath.Join(dir, "train_y.npy"))
	if err != nil {
		return err
	}
	yv, err := readNpy[float64](filepath.Join(dir, "valid_y.npy"))
	if err != nil {
		return err
	}
	p := len(meta.Names)
	var fit *glm.Fit
	secs, err := profiled(*cpu, *mem, func() (err error) {
		fit, err = glm.FitLogistic(x, y, p, glm.Options{L2: trainL2})
		return err
	})
	if err != nil {
		return err
	}
	pv, row := make([]float64, len(yv)), make([]float64, p)
	for i := range pv {
		for j, v := range xv[i*p : (i+1)*p] {
			row[j] = float64(v)
		}
		pv[i] = fit.Predict(row)
	}
	return json.NewEncoder(os.Stdout).Encode(fitOutput{Seconds: secs, Iterations: fit.Iterations, Intercept: fit.Intercept, Coef: fit.Coef, AUC: metrics.AUC(pv, yv)})
}

// fitSize is one size of the training benchmark.
type fitSize struct {
	Policies  int                `json:"policies"`
	TrainRows int                `json:"train_rows"`
	Go        fitSide            `json:"go"`
	Sklearn   map[string]fitSide `json:"sklearn"` // by tol
	Names     []string           `json:"names"`
}

type fitSide struct {
	Seconds    Figure    `json:"seconds"`
	PeakMB     Figure    `json:"peak_mb"`
	AUC        float64   `json:"auc"`
	Iterations int       `json:"iterations"`
	Intercept  float64   `json:"intercept"`
	Coef       []float64 `json:"coef"`
}

func trainingBench(ctx context.Context, cfg *config) (*result, error) {
	if !exists(cfg.py) {
		return nil, missingTool(".venv is missing (make venv)")
	}
	data := &trainingData{}
	res := &result{Data: data}
	var sizes []*fitSize
	script := filepath.Join(cfg.root, "benchmarks", "python", "sklearn_fit.py")
	for _, n := range cfg.fitSizes {
		fmt.Fprintf(os.Stderr, "   %s policies: data ...\n", thousands(int64(n)))
		dir, err := fitFixture(ctx, cfg, n)
		if err != nil {
			return res, err
		}
		var meta struct {
			Names     []string `json:"names"`
			TrainRows int      `json:"train_rows"`
		}
		if err := readJSON(filepath.Join(dir, "meta.json"), &meta); err != nil {
			return res, err
		}
		fs := &fitSize{Policies: n, TrainRows: meta.TrainRows, Names: meta.Names, Sklearn: map[string]fitSide{}}
		type side struct {
			argv []string
			secs []float64
			peak []float64
			last fitOutput
		}
		sides := map[string]*side{"go": {argv: []string{cfg.self, "fit-go", dir}}}
		order := []string{"go"}
		for _, tol := range cfg.sklearnTols {
			k := fmt.Sprintf("%g", tol)
			sides[k] = &side{argv: []string{cfg.py, script, dir, fmt.Sprint(trainL2), k}}
			order = append(order, k)
		}
		for range cfg.fitReps {
			for _, k := range order {
				s := sides[k]
				out, _, peak, err := run(ctx, cfg.work, s.argv, []string{"OMP_NUM_THREADS=2"})
				if err != nil {
					return res, err
				}
				if err := json.Unmarshal(out, &s.last); err != nil {
					return res, fmt.Errorf("%s printed %q: %w", strings.Join(s.argv, " "), out, err)
				}
				s.secs, s.peak = append(s.secs, s.last.Seconds), append(s.peak, mb(peak))
			}
		}
		for k, s := range sides {
			fsd := fitSide{Seconds: figure("s", s.secs...), PeakMB: figure("MB", s.peak...), AUC: s.last.AUC, Iterations: s.last.Iterations, Intercept: s.last.Intercept, Coef: s.last.Coef}
			if k == "go" {
				fs.Go = fsd
			} else {
				fs.Sklearn[k] = fsd
			}
		}
		fmt.Fprintf(os.Stderr, "   %s policies: Go %s, scikit-learn %s (tol 1e-4)\n", thousands(int64(n)), fs.Go.Seconds, fs.Sklearn["0.0001"].Seconds)
		sizes = append(sizes, fs)
	}
	// The profiles: the largest size up to a million rows.
	profDir := ""
	for _, n := range cfg.fitSizes {
		if n <= 1_000_000 || profDir == "" {
			profDir = filepath.Join(cfg.work, fmt.Sprintf("fit-%d", n))
		}
	}
	prof := filepath.Join(cfg.out, "profiles")
	if _, _, _, err := run(ctx, cfg.work, []string{cfg.self, "fit-go", "-cpuprofile", filepath.Join(prof, "fit-cpu.pprof"), "-memprofile", filepath.Join(prof, "fit-mem.pprof"), profDir}, nil); err != nil {
		return res, err
	}
	data.Sizes = sizes
	if len(sizes) > 0 {
		var err error
		if data.E2E, err = e2eBench(ctx, cfg, sizes[len(sizes)-1]); err != nil {
			return res, err
		}
	}
	trainingReport(sizes, res)
	e2eReport(data.E2E, res)
	return res, nil
}

// trainingData is the training section's figures.
type trainingData struct {
	Sizes []*fitSize `json:"sizes"`
	E2E   *e2eData   `json:"end_to_end"`
}

// e2eData is a dataset from upload to registered, against the fit alone.
type e2eData struct {
	Policies   int     `json:"policies"`
	Total      Figure  `json:"seconds"`
	Upload     Figure  `json:"upload_seconds"`
	Train      Figure  `json:"train_seconds"`
	Register   Figure  `json:"register_seconds"`
	PeakMB     Figure  `json:"peak_mb"`
	FitSeconds float64 `json:"fit_seconds"` // the Go fit alone, same size, median
	Ratio      float64 `json:"ratio"`
	Kind       string  `json:"registered_kind"`
}

// e2eBench times `bench train-e2e` on the fit benchmark's largest
// portfolio, each run into an empty bucket, and takes its profile.
func e2eBench(ctx context.Context, cfg *config, fs *fitSize) (*e2eData, error) {
	fmt.Fprintf(os.Stderr, "   %s policies end to end: data ...\n", thousands(int64(fs.Policies)))
	dir, err := e2eFixture(cfg, fs.Policies)
	if err != nil {
		return nil, err
	}
	bucket := filepath.Join(cfg.work, "e2e-bucket")
	argv := []string{cfg.self, "train-e2e", "-dir", dir, "-bucket", "file://" + bucket}
	var total, up, train, reg, peak []float64
	d := &e2eData{Policies: fs.Policies, FitSeconds: fs.Go.Seconds.Median}
	for range cfg.fitReps + 1 {
		prof := []string{}
		if len(total) == cfg.fitReps { // one more run, profiled, not timed
			p := filepath.Join(cfg.out, "profiles")
			prof = []string{"-cpuprofile", filepath.Join(p, "e2e-cpu.pprof"), "-memprofile", filepath.Join(p, "e2e-mem.pprof")}
		}
		os.RemoveAll(bucket)
		if err := os.MkdirAll(bucket, 0o755); err != nil {
			return nil, err
		}
		out, _, pk, err := run(ctx, cfg.work, append(append([]string{}, argv...), prof...), nil)
		if err != nil {
			return nil, err
		}
		if len(prof) > 0 {
			break
		}
		var o e2eOutput
		if err := json.Unmarshal(out, &o); err != nil {
			return nil, fmt.Errorf("train-e2e printed %q: %w", out, err)
		}
		total, up, train, reg, peak = append(total, o.Total), append(up, o.Upload), append(train, o.Train), append(reg, o.Register), append(peak, mb(pk))
		d.Kind = o.Kind
	}
	os.RemoveAll(bucket)
	d.Total, d.Upload, d.Train, d.Register, d.PeakMB = figure("s", total...), figure("s", up...), figure("s", train...), figure("s", reg...), figure("MB", peak...)
	d.Ratio = d.Total.Median / d.FitSeconds
	fmt.Fprintf(os.Stderr, "   end to end %s (%.2fx the fit alone)\n", d.Total, d.Ratio)
	return d, nil
}

func e2eReport(d *e2eData, res *result) {
	if d == nil {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n**End to end, upload to registered**, %s policies (the same portfolio, seed 42), in a process of its own (`bench train-e2e`): the four tables read from disk and uploaded to an empty `file://` bucket; the train function's work on the dataset-uploaded event (`Trainer.TrainDataset`: the dataset read back, checked against its manifest and validated, examples built, the legacy formula and both GLMs fitted, each evaluated on its training and out-of-time rows, runs stored with their validation data, fairness and slice figures and plots); the register function's on the model-trained event (`promotion.Gate.Judge`: the best run registered and promoted). MLflow tracking is off (the bench runs no MLflow server). The fit alone is the Go fit's median above, at the same size.\n\n", thousands(int64(d.Policies)))
	b.WriteString("| upload | train | register | total | peak memory | fit alone | total over fit |\n|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.3g s | %.2fx |\n", d.Upload, d.Train, d.Register, d.Total, d.PeakMB, d.FitSeconds, d.Ratio)
	res.Markdown += b.String()
	res.Targets = append(res.Targets, target{fmt.Sprintf("training: %s policies end to end (upload to registered) over the fit alone", thousands(int64(d.Policies))), "<= 2x", fmt.Sprintf("%.2fx", d.Ratio), d.Ratio <= 2})
}

func trainingReport(sizes []*fitSize, res *result) {
	var b strings.Builder
	fmt.Fprintf(&b, "The accident GLM (17 standardised features and an intercept, L2 = %g) on the design the train function builds from `claimrisk data generate` portfolios (seed 42): every policy year but the last to fit, the last to validate. Go: `glm.FitLogistic` (Newton's method via gonum optimize, both cores, from a first fit on every k-th row), on the design stored in float32 as the train function fits it. scikit-learn: `LogisticRegression(solver=\"lbfgs\", C=1/L2)` at its default tol 1e-4 and at tol 1e-10, on the same matrix loaded from .npy (OMP_NUM_THREADS=2). Wall time is the fit alone; peak memory is the process's maximum resident set, the design included.\n\n", trainL2)
	b.WriteString("| policies | training rows | Go fit | scikit-learn tol 1e-4 | scikit-learn tol 1e-10 | speed-up over tol 1e-4 | Go peak (MB) | scikit-learn peak (MB) | AUC Go | AUC scikit-learn 1e-4 | AUC 1e-10 | largest coefficient difference (1e-4 / 1e-10) | iterations Go / 1e-4 / 1e-10 |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	allFaster, aucOK, allSmaller := true, true, true
	worstAUC := 0.0
	var speedups, peakRatios []string
	for _, s := range sizes {
		sk, tight := s.Sklearn["0.0001"], s.Sklearn["1e-10"]
		r := ratio(sk.Seconds, s.Go.Seconds)
		allFaster = allFaster && r >= 2
		allSmaller = allSmaller && s.Go.PeakMB.Median <= sk.PeakMB.Median
		speedups = append(speedups, x(r))
		peakRatios = append(peakRatios, fmt.Sprintf("%.2fx", s.Go.PeakMB.Median/sk.PeakMB.Median))
		d := math.Abs(s.Go.AUC - sk.AUC)
		worstAUC = math.Max(worstAUC, math.Max(d, math.Abs(s.Go.AUC-tight.AUC)))
		aucOK = aucOK && worstAUC <= 0.001
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %.6f | %.6f | %.6f | %.1e / %.1e | %d / %d / %d |\n",
			thousands(int64(s.Policies)), thousands(int64(s.TrainRows)), s.Go.Seconds, sk.Seconds, tight.Seconds, x(r),
			num(s.Go.PeakMB.Median), num(sk.PeakMB.Median), s.Go.AUC, sk.AUC, tight.AUC, coefDiff(s.Go, sk), coefDiff(s.Go, tight),
			s.Go.Iterations, sk.Iterations, tight.Iterations)
	}
	if len(sizes) > 0 {
		b.WriteString("\nCoefficients side by side (intercept first; Go, then scikit-learn at tol 1e-4 and 1e-10):\n\n| feature |")
		for _, s := range sizes {
			fmt.Fprintf(&b, " %s Go | sk 1e-4 | sk 1e-10 |", thousands(int64(s.Policies)))
		}
		b.WriteString("\n|---|" + strings.Repeat("---|---|---|", len(sizes)) + "\n")
		names := append([]string{"(intercept)"}, sizes[0].Names...)
		for j, name := range names {
			fmt.Fprintf(&b, "| %s |", name)
			for _, s := range sizes {
				for _, side := range []fitSide{s.Go, s.Sklearn["0.0001"], s.Sklearn["1e-10"]} {
					fmt.Fprintf(&b, " %.6f |", coefAt(side, j))
				}
			}
			b.WriteString("\n")
		}
	}
	res.Markdown = b.String()
	res.Targets = append(res.Targets,
		target{"training: Go fit over scikit-learn lbfgs (default tol) at every size", ">= 2x each", strings.Join(speedups, ", "), allFaster},
		target{"training: Go fit's peak memory at most scikit-learn's at every size", "<= 1x each", strings.Join(peakRatios, ", "), allSmaller},
		target{"training: AUC within 0.001 of scikit-learn", "<= 0.001", fmt.Sprintf("%.1e", worstAUC), aucOK},
	)
}

func coefAt(s fitSide, j int) float64 {
	if j == 0 {
		return s.Intercept
	}
	if j-1 < len(s.Coef) {
		return s.Coef[j-1]
	}
	return math.NaN()
}

func coefDiff(a, b fitSide) float64 {
	d := math.Abs(a.Intercept - b.Intercept)
	for j := range min(len(a.Coef), len(b.Coef)) {
		d = math.Max(d, math.Abs(a.Coef[j]-b.Coef[j]))
	}
	return d
}
