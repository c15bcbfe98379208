package localrun

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
)

// FindPython looks for the project's Python environment, which has the
// Evidently job: CLAIMRISK_PYTHON, then .venv beside binDir's parent.
func FindPython(binDir string) (string, bool) {
	if p := os.Getenv("CLAIMRISK_PYTHON"); p != "" {
		return p, true
	}
	p := filepath.Clean(filepath.Join(binDir, "..", ".venv", "bin", "python"))
	if _, err := os.Stat(p); err == nil {
		return p, true
	}
	return "", false
}

// MonitoringJob runs `python -m monitoring report` for a drift report's
// window: the Evidently view of what the drift function checked, with its
// CBPE estimate. With qualityOnly it adds only the window's quality run,
// for a window whose outcomes arrived late.
func MonitoringJob(ctx context.Context, python, bucketURL, workspace string, rep driftcheck.Report, qualityOnly bool, logFile *os.File) error {
	args := []string{"-m", "monitoring", "report",
		"--bucket", bucketURL, "--reference", rep.ReferenceKey, "--drift-share", strconv.FormatFloat(rep.Thresholds.DriftShare, 'g', -1, 64),
		"--from", rep.WindowFrom.Format(time.RFC3339Nano), "--to", rep.WindowTo.Format(time.RFC3339Nano),
		"--workspace", workspace, "--performance", driftcheck.PerformanceKey(rep.ID)}
	if qualityOnly {
		args = append(args, "--quality-only")
	}
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Env = append(os.Environ(), "DO_NOT_TRACK=1")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("localrun: Evidently job for %s: %w (see %s)", rep.ID, err, logFile.Name())
	}
	return nil
}

// evidently serves the Evidently UI on the workspace and, after each new
// drift report, runs the Evidently job over the same window, so the
// dashboard grows a point per drift check.
func (s *System) evidently(ctx context.Context, o Options, b *blobstore.Bucket, logDir string) error {
	ws := filepath.Join(o.Home, "evidently")
	if err := os.MkdirAll(ws, 0o755); err != nil {
		return err
	}
	jobLog, err := os.OpenFile(filepath.Join(logDir, "evidently-job.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	dash := exec.CommandContext(ctx, o.Python, "-m", "monitoring", "dashboard", "--workspace", ws)
	dash.Stdout, dash.Stderr = jobLog, jobLog
	if err := dash.Run(); err != nil {
		jobLog.Close()
		return fmt.Errorf("localrun: Evidently dashboard: %w (see %s)", err, jobLog.Name())
	}
	addr := fmt.Sprintf("127.0.0.1:%d", o.EvidentlyPort)
	p, err := StartProcess(ctx, Spec{
		Name: "evidently", Path: o.Python, Args: []string{"-m", "monitoring", "ui", "--workspace", ws, "--host", "127.0.0.1", "--port", fmt.Sprint(o.EvidentlyPort)},
		Addr: addr, Ready: "/api/version", Timeout: 60 * time.Second,
	}, logDir)
	if err != nil {
		jobLog.Close()
		return err
	}
	s.procs = append(s.procs, p)
	s.Components = append(s.Components, Component{"evidently", p.URL})
	jctx, cancel := context.WithCancel(context.Background())
	s.stopJobs, s.jobsDone = cancel, make(chan struct{})
	// Reports already in the bucket are history; the job follows new ones.
	history, _ := b.Dirs(ctx, driftcheck.Prefix)
	go func() {
		defer close(s.jobsDone)
		defer jobLog.Close()
		FollowReports(jctx, b, 2*time.Second, history, func(rep driftcheck.Report) {
			if !rep.Enough {
				return
			}
			if err := MonitoringJob(jctx, o.Python, b.URL, ws, rep, false, jobLog); err != nil && jctx.Err() == nil {
				o.Log.Warn("Evidently job failed", "error", err.Error())
			}
			// Earlier windows whose outcomes arrived with this check get
			// their realised quality on the dashboard, at their own time.
			for _, late := range rep.LateQuality {
				var earlier driftcheck.Report
				if err := b.ReadJSON(jctx, driftcheck.Key(late.ReportID, "report.json"), &earlier); err != nil {
					continue
				}
				if err := MonitoringJob(jctx, o.Python, b.URL, ws, earlier, true, jobLog); err != nil && jctx.Err() == nil {
					o.Log.Warn("Evidently job (late quality) failed", "window", late.ReportID, "error", err.Error())
				}
			}
		})
	}()
	return nil
}

// FollowReports calls run once for every drift report that appears in the
// bucket, looking every interval, until ctx ends. It remembers each report
// it has handled, not the newest name it has seen: a report whose name
// sorts before one already handled (a clock set back, or a report named in
// the future by an old version) does not stop it. A report not completely
// written yet is looked at again the next time. skip names reports not to
// run (those there before).
func FollowReports(ctx context.Context, b *blobstore.Bucket, interval time.Duration, skip []string, run func(driftcheck.Report)) {
	handled := map[string]bool{}
	for _, id := range skip {
		handled[id] = true
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
		ids, err := b.Dirs(ctx, driftcheck.Prefix)
		if err != nil {
			continue
		}
		for _, id := range ids { // in name order
			if handled[id] {
				continue
			}
			var rep driftcheck.Report
			if err := b.ReadJSON(ctx, driftcheck.Key(id, "report.json"), &rep); err != nil {
				continue // not written completely yet; look again
			}
			handled[id] = true
			run(rep)
		}
	}
}
