package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
)

func (a *app) dashboardCmd() *cobra.Command {
	var port int
	var refresh bool
	c := &cobra.Command{
		Use:   "dashboard",
		Short: "Serve the Evidently dashboard of the drift checks on 127.0.0.1:8001",
		Long: `Dashboard serves 'evidently ui' on the workspace that the Evidently job
fills (` + "`$CLAIMRISK_HOME/evidently`" + `), after making sure the project has its panels:
share of drifted columns, drift score per key feature, mean predicted
probability, quality once outcomes arrive, and row counts. With --refresh it
first runs the Evidently job over the latest drift report's window.
'claimrisk up' serves the same dashboard by itself; use this command when
the system is not running. Ctrl-C stops it.`,
		Example: "  claimrisk dashboard\n  claimrisk dashboard --refresh --port 8002",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			python, ok := localrun.FindPython(filepath.Dir(exe))
			if !ok {
				return fmt.Errorf("no Python environment with the Evidently job: run 'make venv' (or set CLAIMRISK_PYTHON)")
			}
			ws := filepath.Join(config.Home(), "evidently")
			if err := os.MkdirAll(ws, 0o755); err != nil {
				return err
			}
			if refresh {
				b, err := a.readBucket(cmd.Context())
				if err != nil {
					return err
				}
				rep, err := driftcheck.Latest(cmd.Context(), b)
				b.Close()
				if err != nil {
					return err
				}
				a.progressf("running the Evidently job over drift report %s ...", rep.ID)
				if err := localrun.MonitoringJob(cmd.Context(), python, b.URL, ws, rep, false, os.Stderr); err != nil {
					return err
				}
			}
			run := func(args ...string) *exec.Cmd {
				c := exec.CommandContext(cmd.Context(), python, append([]string{"-m", "monitoring"}, args...)...)
				c.Stdout, c.Stderr = a.stderr, a.stderr
				c.Env = append(os.Environ(), "DO_NOT_TRACK=1")
				return c
			}
			if err := run("dashboard", "--workspace", ws).Run(); err != nil {
				return fmt.Errorf("set up the dashboard: %w", err)
			}
			fmt.Fprintf(a.stdout, "Evidently UI on http://127.0.0.1:%d (Ctrl-C stops it)\n", port)
			return run("ui", "--workspace", ws, "--host", "127.0.0.1", "--port", fmt.Sprint(port)).Run()
		},
	}
	c.Flags().IntVar(&port, "port", 8001, "port to serve on")
	c.Flags().BoolVar(&refresh, "refresh", false, "run the Evidently job over the latest drift report's window first")
	return c
}
