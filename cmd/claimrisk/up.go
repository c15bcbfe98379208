package main

import (
	"cmp"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/fnspec"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
)

// upOptions are the flags of `up` (and of `demo`, which runs it).
type upOptions struct {
	basePort, mlflowPort, evidentlyPort int
	noMLflow, noEvidently               bool
	driftInterval                       time.Duration
	triggers                            string // a directory of extra Trigger manifests
}

func (o *upOptions) flags(c *cobra.Command) {
	f := c.Flags()
	f.IntVar(&o.basePort, "base-port", 8700, "port of the local broker; train, register, predict and drift take the next four")
	f.IntVar(&o.mlflowPort, "mlflow-port", 5050, "port of the MLflow tracking server")
	f.BoolVar(&o.noMLflow, "no-mlflow", false, "run without an MLflow server")
	f.IntVar(&o.evidentlyPort, "evidently-port", 8001, "port of the Evidently UI")
	f.BoolVar(&o.noEvidently, "no-evidently", false, "run without the Evidently job and UI")
	f.DurationVar(&o.driftInterval, "drift-interval", time.Minute, "how often the cron event asks for a drift check (0 turns it off)")
	f.StringVar(&o.triggers, "triggers", "", "a directory whose *.yaml Knative Triggers the broker applies beside those of config/knative/base")
}

// extraTriggers reads the Triggers of --triggers. Their subscribers must be
// a function of the system or an absolute URI.
func (o upOptions) extraTriggers() ([]localrun.Trigger, error) {
	if o.triggers == "" {
		return nil, nil
	}
	if st, err := os.Stat(o.triggers); err != nil || !st.IsDir() {
		return nil, usagef("--triggers %s: not a directory of Trigger manifests", o.triggers)
	}
	ts, err := localrun.LoadTriggers(os.DirFS(o.triggers), ".")
	if err != nil {
		return nil, usagef("--triggers %s: %v", o.triggers, err)
	}
	if len(ts) == 0 {
		return nil, usagef("--triggers %s: no Trigger in its *.yaml files", o.triggers)
	}
	for _, t := range ts {
		switch {
		case t.Subscriber != "" && !slices.Contains(fnspec.Names(), t.Subscriber):
			return nil, usagef("--triggers %s: Trigger %s subscribes %s, which is not one of the functions (%s); use subscriber.uri for anything else",
				o.triggers, t.Name, t.Subscriber, strings.Join(fnspec.Names(), ", "))
		case t.Subscriber == "" && !strings.HasPrefix(t.SubscriberURI, "http://") && !strings.HasPrefix(t.SubscriberURI, "https://"):
			return nil, usagef("--triggers %s: Trigger %s: subscriber.uri %q is not an http:// or https:// URL", o.triggers, t.Name, t.SubscriberURI)
		}
	}
	return ts, nil
}

// start brings the local system up.
func (a *app) startSystem(cmd *cobra.Command, o upOptions, log *slog.Logger) (*localrun.System, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	binDir := filepath.Dir(exe)
	extra, err := o.extraTriggers()
	if err != nil {
		return nil, err
	}
	opts := localrun.Options{
		BinDir: binDir, Bucket: a.bucketURL, Home: config.Home(), BasePort: o.basePort,
		MLflowPort: o.mlflowPort, EvidentlyPort: o.evidentlyPort, DriftInterval: o.driftInterval, Log: log,
		Triggers: extra,
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
	sys, err := localrun.Start(cmd.Context(), opts)
	if err != nil {
		return nil, err
	}
	for _, t := range extra {
		log.Info("an extra Trigger from "+o.triggers, "trigger", t.Name, "filter", t.Attributes, "subscriber", cmp.Or(t.Subscriber, t.SubscriberURI))
	}
	return sys, nil
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
	var fresh bool
	c := &cobra.Command{
		Use:   "up",
		Short: "Run the whole system on this machine until Ctrl-C",
		Long: `Up runs claimrisk locally: the four function binaries (found next to this
command) on loopback ports, a local broker that routes events as the Knative
Triggers in config/knative describe, an MLflow tracking server when one is
installed, and the drift check's cron event. Ctrl-C stops everything it
started. Other commands find the running components through
~/.claimrisk/up.json (or $CLAIMRISK_HOME/up.json).

The bucket, MLflow's store and the Evidently workspace stay in
$CLAIMRISK_HOME between runs; --fresh empties them first, as 'claimrisk demo
--fresh' does. --triggers adds the Knative Triggers of a directory to those
of config/knative/base, to try a new consumer of an event without a cluster.`,
		Example: "  claimrisk up\n  claimrisk up --fresh --drift-interval 0\n  claimrisk up --triggers work/triggers",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fresh {
				if state, err := localrun.ReadState(config.Home()); err == nil && len(state) > 0 {
					return fmt.Errorf("--fresh would empty the store of the claimrisk up that is running (%s): stop it first (Ctrl-C in its terminal)", localrun.StateFile(config.Home()))
				}
				if err := a.wipeLocalState(); err != nil {
					return err
				}
			}
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
	c.Flags().BoolVar(&fresh, "fresh", false, "start from an empty bucket, MLflow store and Evidently workspace (deletes them in $CLAIMRISK_HOME, default ~/.claimrisk)")
	return c
}
