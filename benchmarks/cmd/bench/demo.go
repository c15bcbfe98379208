package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

type demoData struct {
	Seconds Figure `json:"seconds"`
}

// demoBench times `make demo` (bin/claimrisk demo --fresh) with its
// dependencies already fetched, on ports and in a home of its own so that
// it does not disturb a system someone is running.
func demoBench(ctx context.Context, cfg *config) (*result, error) {
	if cfg.smoke {
		return nil, fmt.Errorf("%w: make demo takes minutes; it is run by make bench only", errSkipped)
	}
	home := filepath.Join(cfg.work, "demo-home")
	base := freeRun(5)
	flags := fmt.Sprintf("DEMO_FLAGS=--base-port %d --mlflow-port %d --evidently-port %d", base, freePort(), freePort())
	data := &demoData{}
	res := &result{Data: data}
	var secs []float64
	for range cfg.demoReps {
		os.RemoveAll(home)
		_, wall, _, err := run(ctx, cfg.root, []string{"make", "--no-print-directory", "demo", flags}, []string{"CLAIMRISK_HOME=" + home, "CLAIMRISK_BUCKET="})
		if err != nil {
			return res, err
		}
		secs = append(secs, wall.Seconds())
		fmt.Fprintf(os.Stderr, "   make demo: %.0f s\n", wall.Seconds())
	}
	data.Seconds = figure("s", secs...)
	res.Markdown = fmt.Sprintf("`make demo` (`bin/claimrisk demo --fresh`: the system started, data generated and uploaded, three models trained, a champion named, ordinary traffic and an accident spike sent, drift caught, a retrained model promoted and served, everything stopped) with Go modules and both Python environments already in place, `CLAIMRISK_HOME` in a directory of its own and free ports (`%s`): %s.\n", flags, data.Seconds)
	res.Targets = append(res.Targets, target{"make demo wall time", "< 3 min", data.Seconds.String(), data.Seconds.Median < 180})
	return res, nil
}
