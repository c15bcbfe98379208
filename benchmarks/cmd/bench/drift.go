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
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	sharedconfig "github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/flatparquet"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/pseudonym"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/tooling/synth"
)

// The drift benchmark's window: a fixed hour, so that a cached fixture
// keeps meaning the same thing.
var (
	driftFrom   = time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)
	driftWindow = time.Hour
)

// driftScenario is the traffic of the window: older drivers, so that some
// columns drift and others do not.
const driftScenario = "aging-portfolio"

// driftFixture is a bucket whose champion was validated on about a quarter
// of `policies` rows (its drift reference) and whose payload log holds
// `current` predictions of the champion in the window, written as the
// predict function writes them (objects of 5,000 rows).
func driftFixture(ctx context.Context, cfg *config) (dir string, champ registry.Version, err error) {
	dir = filepath.Join(cfg.work, fmt.Sprintf("drift-%d-%d", cfg.driftPolicies, cfg.driftCurrent))
	bucketURL := "file://" + filepath.Join(dir, "bucket")
	err = cached(dir, func() error {
		champ, err := trainChampion(ctx, bucketURL, 42, cfg.driftPolicies)
		if err != nil {
			return err
		}
		m, err := champ.LoadModel()
		if err != nil {
			return err
		}
		sc, err := synth.ScenarioNamed(driftScenario)
		if err != nil {
			return err
		}
		gen := synth.DefaultConfig()
		gen.Seed, gen.PortfolioSeed, gen.Policies, gen.Shift = 42, 9, cfg.driftCurrent, sc.Shift
		d, err := synth.Generate(gen)
		if err != nil {
			return err
		}
		recs := records(d)
		b, err := blobstore.Open(ctx, bucketURL)
		if err != nil {
			return err
		}
		defer b.Close()
		pseudo, _ := pseudonym.New(pseudonym.DevKey)
		design := m.Design()
		const batch = 5000
		step := driftWindow / time.Duration(len(recs)+1)
		for lo, seq := 0, 1; lo < len(recs); lo, seq = lo+batch, seq+1 {
			rows := make([]predlog.Row, 0, batch)
			for i := lo; i < min(lo+batch, len(recs)); i++ {
				rec := recs[i]
				acc := design.AccidentFor(rec)
				p := m.Predict(rec)
				rec.PolicyID, rec.CustomerID = pseudo.Of(rec.PolicyID), pseudo.Of(rec.CustomerID)
				rows = append(rows, predlog.Row{Time: driftFrom.Add(time.Duration(i+1) * step).Truncate(time.Millisecond),
					RequestID: fmt.Sprintf("req-%016x", i), ModelVersion: int32(champ.Version), PolicyRecord: rec,
					CrashRate: acc.CrashRate, InjuryShare: acc.InjuryShare, Probability: p, Band: model.Band(p)})
			}
			data, err := flatparquet.Encode(rows) // as the predict function's logger does
			if err != nil {
				return err
			}
			t := rows[0].Time
			key := fmt.Sprintf("%s%s/%d-bench-%06d.parquet", predlog.PredictionsPrefix, t.Format("2006/01/02"), t.UnixMilli(), seq)
			if err := b.Write(ctx, key, data, "application/vnd.apache.parquet"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", registry.Version{}, fmt.Errorf("drift fixture: %w", err)
	}
	b, err := blobstore.Open(ctx, bucketURL)
	if err != nil {
		return "", registry.Version{}, err
	}
	defer b.Close()
	champ, err = registry.Open(b, model.Name).Resolve(ctx, registry.Champion)
	return dir, champ, err
}

// verdict is one column's drift test as either side reports it.
type verdict struct {
	Column  string  `json:"column"`
	Test    string  `json:"test"`
	Score   float64 `json:"score"`
	Drifted bool    `json:"drifted"`
}

// driftGoOutput is what `bench drift-go` prints.
type driftGoOutput struct {
	Seconds       float64   `json:"seconds"`
	Rows          int       `json:"rows"`
	ReferenceRows int       `json:"reference_rows"`
	Columns       []verdict `json:"columns"`
}

// driftGoCmd is `bench drift-go`: the drift function's whole check (the
// reference and the window's Parquet objects read from the bucket, the
// tests, the report written back), as its Handle runs it.
func driftGoCmd(args []string) error {
	fs := flag.NewFlagSet("drift-go", flag.ContinueOnError)
	bucketURL := fs.String("bucket", "", "bucket URL")
	end := fs.String("end", "", "end of the window (RFC 3339)")
	window := fs.Duration("window", time.Hour, "window length")
	cpu := fs.String("cpuprofile", "", "CPU profile of the check")
	mem := fs.String("memprofile", "", "allocation profile of the check")
	if err := fs.Parse(args); err != nil {
		return err
	}
	to, err := time.Parse(time.RFC3339, *end)
	if err != nil {
		return err
	}
	var cfgDrift sharedconfig.Drift
	os.Setenv("CLAIMRISK_BUCKET", *bucketURL)
	if err := sharedconfig.Load(&cfgDrift); err != nil {
		return err
	}
	ctx := context.Background()
	b, err := blobstore.Open(ctx, cfgDrift.Bucket)
	if err != nil {
		return err
	}
	defer b.Close()
	c := &driftcheck.Checker{Bucket: b, Registry: registry.Open(b, model.Name), Thresholds: driftcheck.Thresholds{
		MinRows: cfgDrift.MinRows, MinLabels: cfgDrift.MinLabels, DriftShare: cfgDrift.DriftShare,
		MaxAUCDrop: cfgDrift.MaxAUCDrop, MaxCalibrationGap: cfgDrift.MaxCalibrationGap,
	}}
	var rep driftcheck.Report
	secs, err := profiled(*cpu, *mem, func() (err error) {
		rep, err = c.Check(ctx, to, *window)
		return err
	})
	if err != nil {
		return err
	}
	out := driftGoOutput{Seconds: secs, Rows: rep.Rows, ReferenceRows: rep.ReferenceRows}
	for _, col := range rep.Columns {
		out.Columns = append(out.Columns, verdict{col.Column, col.Test, col.Score, col.Drifted})
	}
	pd := rep.PredictionDrift
	out.Columns = append(out.Columns, verdict{pd.Column.Column, pd.Test, pd.Score, pd.Drifted})
	return json.NewEncoder(os.Stdout).Encode(out)
}

type driftData struct {
	Rows          int       `json:"current_rows"`
	ReferenceRows int       `json:"reference_rows"`
	GoProcess     Figure    `json:"go_process_seconds"`
	GoCheck       Figure    `json:"go_check_seconds"`
	GoPeakMB      Figure    `json:"go_peak_mb"`
	Evidently     Figure    `json:"evidently_seconds"`
	EvidentlyMB   Figure    `json:"evidently_peak_mb"`
	Go            []verdict `json:"go_columns"`
	Ev            []verdict `json:"evidently_columns"`
	Agree         int       `json:"agreeing_columns"`
}

func driftBench(ctx context.Context, cfg *config) (*result, error) {
	if !exists(cfg.py) {
		return nil, missingTool(".venv is missing (make venv)")
	}
	fmt.Fprintf(os.Stderr, "   data ...\n")
	dir, champ, err := driftFixture(ctx, cfg)
	if err != nil {
		return nil, err
	}
	bucketURL := "file://" + filepath.Join(dir, "bucket")
	end := driftFrom.Add(driftWindow)
	data := &driftData{}
	res := &result{Data: data}
	goArgv := []string{cfg.self, "drift-go", "-bucket", bucketURL, "-end", end.Format(time.RFC3339), "-window", driftWindow.String()}
	evArgv := []string{cfg.py, "-m", "monitoring", "report", "--bucket", bucketURL, "--reference", champ.Lineage.Validation,
		"--from", driftFrom.Format(time.RFC3339), "--to", end.Format(time.RFC3339)}
	var goProc, goCheck, goPeak, ev, evPeak []float64
	// The checker starts a window where the last report ended, so a second
	// check of the same window would read nothing: each Go run starts
	// from a bucket without reports, and must read every logged row.
	reports := filepath.Join(dir, "bucket", "drift", "reports")
	checkGo := func(argv []string) (driftGoOutput, time.Duration, int64, error) {
		var g driftGoOutput
		if err := os.RemoveAll(reports); err != nil {
			return g, 0, 0, err
		}
		out, wall, peak, err := run(ctx, cfg.work, argv, nil)
		if err != nil {
			return g, 0, 0, err
		}
		if err := json.Unmarshal(out, &g); err != nil {
			return g, 0, 0, fmt.Errorf("drift-go printed %q: %w", out, err)
		}
		if g.Rows != cfg.driftCurrent {
			return g, 0, 0, fmt.Errorf("the Go check read %d logged predictions of the window, not the %d written", g.Rows, cfg.driftCurrent)
		}
		return g, wall, peak, nil
	}
	for range cfg.driftReps {
		g, wall, peak, err := checkGo(goArgv)
		if err != nil {
			return res, err
		}
		goProc, goCheck, goPeak = append(goProc, wall.Seconds()), append(goCheck, g.Seconds), append(goPeak, mb(peak))
		data.Go, data.Rows, data.ReferenceRows = g.Columns, g.Rows, g.ReferenceRows
		_, wall, peak, err = run(ctx, cfg.root, evArgv, nil)
		if err != nil {
			return res, err
		}
		ev, evPeak = append(ev, wall.Seconds()), append(evPeak, mb(peak))
	}
	var summary struct {
		Columns []struct {
			Column  string  `json:"column"`
			Test    string  `json:"test"`
			Score   float64 `json:"score"`
			Drifted bool    `json:"drifted"`
		} `json:"columns"`
	}
	window := fmt.Sprintf("%s-%s", driftFrom.Format("20060102T150405Z"), end.Format("20060102T150405Z"))
	if err := readJSON(filepath.Join(dir, "bucket", "drift", "evidently", window, "summary.json"), &summary); err != nil {
		return res, fmt.Errorf("the Evidently job's summary: %w", err)
	}
	for _, c := range summary.Columns {
		data.Ev = append(data.Ev, verdict{c.Column, c.Test, c.Score, c.Drifted})
	}
	data.GoProcess, data.GoCheck, data.GoPeakMB = figure("s", goProc...), figure("s", goCheck...), figure("MB", goPeak...)
	data.Evidently, data.EvidentlyMB = figure("s", ev...), figure("MB", evPeak...)
	fmt.Fprintf(os.Stderr, "   Go %s (check %s), Evidently %s\n", data.GoProcess, data.GoCheck, data.Evidently)
	prof := filepath.Join(cfg.out, "profiles")
	if _, _, _, err := checkGo(append(goArgv, "-cpuprofile", filepath.Join(prof, "drift-cpu.pprof"), "-memprofile", filepath.Join(prof, "drift-mem.pprof"))); err != nil {
		return res, fmt.Errorf("the profiled Go check: %w", err)
	}
	driftReport(data, res)
	return res, nil
}

func driftReport(data *driftData, res *result) {
	ev := map[string]verdict{}
	for _, v := range data.Ev {
		ev[v.Column] = v
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s logged predictions of the champion in one hour (scenario `%s`: drivers eight years older) against the champion's %s-row reference (its out-of-time validation rows), in a `file://` bucket. Go: the drift function's whole check (`driftcheck.Checker.Check`: reading the reference and the window's 5,000-row Parquet objects from the bucket, the tests, writing the report), in a process of its own. Evidently: `python -m monitoring report` on the same window (the Evidently job as deployed: reading the same objects with pyarrow, Evidently's default per-column tests with the columns' types declared, no sampling, writing report.html and summary.json). Both wall times are of the whole process, start-up included; peak memory is each process's maximum resident set.\n\n",
		thousands(int64(data.Rows)), driftScenario, thousands(int64(data.ReferenceRows)))
	b.WriteString("| | wall time | peak memory |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| Go drift check (process) | %s | %s |\n", data.GoProcess, data.GoPeakMB)
	fmt.Fprintf(&b, "| Go drift check (the check alone) | %s | |\n", data.GoCheck)
	fmt.Fprintf(&b, "| Evidently job (process) | %s | %s |\n", data.Evidently, data.EvidentlyMB)
	r := ratio(data.Evidently, data.GoProcess)
	fmt.Fprintf(&b, "\nThe Go check is %s faster (process to process).\n\n", x(r))
	b.WriteString("| column | Go test | Go score | Go drifted | Evidently test | Evidently score | Evidently drifted | same verdict |\n|---|---|---|---|---|---|---|---|\n")
	agree := 0
	for _, g := range data.Go {
		e, ok := ev[g.Column]
		same := ok && e.Drifted == g.Drifted
		if same {
			agree++
		}
		fmt.Fprintf(&b, "| %s | %s | %.6g | %v | %s | %.6g | %v | %v |\n", g.Column, g.Test, g.Score, g.Drifted, e.Test, e.Score, e.Drifted, yesNo(same))
	}
	data.Agree = agree
	worst := 0.0
	for _, g := range data.Go {
		if e, ok := ev[g.Column]; ok {
			worst = math.Max(worst, math.Abs(g.Score-e.Score)/math.Max(math.Abs(e.Score), 1e-300))
		}
	}
	fmt.Fprintf(&b, "\nLargest relative score difference: %.1e.\n", worst)
	res.Markdown = b.String()
	res.Targets = append(res.Targets,
		target{"drift: Go check vs the Evidently job", ">= 20x faster", x(r), r >= 20},
		target{"drift: peak memory, Go check over the Evidently job", "<= 1/4", fmt.Sprintf("%.2f", data.GoPeakMB.Median/data.EvidentlyMB.Median), data.GoPeakMB.Median <= data.EvidentlyMB.Median/4},
		target{"drift: identical per-column verdicts", fmt.Sprintf("%d of %d", len(data.Go), len(data.Go)), fmt.Sprintf("%d of %d", agree, len(data.Go)), agree == len(data.Go) && len(data.Go) > 0},
	)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
