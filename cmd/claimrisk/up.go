package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/localrun"
)

// upOptions are the flags of `up` (and of `demo`, which runs it).
type upOptions struct {
	basePort, mlflowPort, evidentlyPort int
	noMLflow, noEvidently               bool
	driftInterval                       time.Duration
}

func (o *upOptions) flags(c *cobra.Command) {
	f := c.Flags()
	f.IntVar(&o.basePort, "base-port", 8700, "port of the local broker; train, register, predict and drift take the next four")
	f.IntVar(&o.mlflowPort, "mlflow-port", 5050, "port of the MLflow tracking server")
	f.BoolVar(&o.noMLflow, "no-mlflow", false, "run without an MLflow server")
	f.IntVar(&o.evidentlyPort, "evidently-port", 8001, "port of the Evidently UI")
	f.BoolVar(&o.noEvidently, "no-evidently", false, "run without the Evidently job and UI")
	f.DurationVar(&o.driftInterval, "drift-interval", time.Minute, "how often the cron event asks for a drift check (0 turns it off)")
}

// start brings the local system up.
func (a *app) startSystem(cmd *cobra.Command, o upOptions, log *slog.Logger) (*localrun.System, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	binDir := filepath.Dir(exe)
	opts := localrun.Options{
		BinDir: binDir, Bucket: a.bucketURL, Home: config.Home(), BasePort: o.basePort,
		MLflowPort: o.mlflowPort, EvidentlyPort: o.evidentlyPort, DriftInterval: o.driftInterval, Log: log,
	}
	if !o.noEvidently {
		if path, ok := localrun.FindPython(binDir); ok {
			opts.Python = path
		} else {
			log.Warn("no Python environment with the Evidently job (make venv creates one); running without it")
		}
	}
	if !o.noMLflow {
		if path, ok := localrun.FindMLflow(binDir); ok {
			opts.MLflow = path
		} else {
			log.Warn("no mlflow command found (make venv creates one); running without MLflow")
		}
	}
	return localrun.Start(cmd.Context(), opts)
}

func (a *app) printComponents(sys *localrun.System) {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, c := range sys.Components {
		fmt.Fprintf(tw, "  %s\t%s\n", c.Name, c.URL)
	}
	fmt.Fprintf(tw, "  bucket\t%s\n", a.bucketURL)
	fmt.Fprintf(tw, "  logs\t%s\n", filepath.Join(config.Home(), "logs"))
	tw.Flush()
}

func (a *app) upCmd() *cobra.Command {
	var o upOptions
	c := &cobra.Command{
		Use:   "up",
		Short: "Run the whole system on this machine until Ctrl-C",
		Long: `Up runs claimrisk locally: the four function binaries (found next to this
command) on loopback ports, a local broker that routes events as the Knative
Triggers in config/knative describe, an MLflow tracking server when one is
installed, and the drift check's cron event. Ctrl-C stops everything it
started. Other commands find the running components through
~/.claimrisk/up.json (or $CLAIMRISK_HOME/up.json).`,
		Example: "  claimrisk up\n  claimrisk up --no-mlflow --drift-interval 0",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := slog.New(slog.NewTextHandler(a.stderr, nil))
			sys, err := a.startSystem(cmd, o, log)
			if err != nil {
				return err
			}
			defer sys.Stop()
			fmt.Fprintln(a.stdout, "claimrisk is up; Ctrl-C stops everything:")
			a.printComponents(sys)
			err = sys.Wait(cmd.Context())
			fmt.Fprintln(a.stdout, "stopping ...")
			return err
		},
	}
	o.flags(c)
	return c
}
