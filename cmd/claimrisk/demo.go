package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
)

func (a *app) demoCmd() *cobra.Command {
	var o upOptions
	var fresh, keep bool
	c := &cobra.Command{
		Use:   "demo",
		Short: "Tell the whole story on this machine in one command",
		Long: `Demo starts the system as 'claimrisk up' does, then walks through the story:
it generates the insurer's data and uploads it, so that the train function
fits the legacy baseline and two GLMs and the register function names a
champion; it sends traffic like the training data through the prediction API
and runs a drift check (no drift), then an accident spike whose claims the
drift check catches; the train function retrains, the register function
judges the challenger, and the prediction API serves the new champion. It
prints a summary with the links, and stops what it started unless
--keep-running is given.`,
		Example: "  claimrisk demo --fresh\n  claimrisk demo --keep-running",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			if !cmd.Flags().Changed("drift-interval") {
				// The story runs its own drift checks; a cron check in between
				// would take their traffic.
				o.driftInterval = 0
			}
			if fresh {
				if err := a.wipeLocalState(); err != nil {
					return err
				}
			}
			log := slog.New(slog.NewTextHandler(logWriter{a}, &slog.HandlerOptions{Level: slog.LevelWarn}))
			a.step("1", "starting the system")
			sys, err := a.startSystem(cmd, o, log)
			if err != nil {
				return err
			}
			defer sys.Stop()
			a.printComponents(sys)
			if err := a.demoStory(cmd, sys); err != nil {
				return err
			}
			a.demoSummary(sys, time.Since(start), keep)
			if keep {
				return sys.Wait(cmd.Context())
			}
			return nil
		},
	}
	o.flags(c)
	c.Flags().BoolVar(&fresh, "fresh", false, "start from an empty bucket and MLflow store (deletes them in $CLAIMRISK_HOME, default ~/.claimrisk)")
	c.Flags().BoolVar(&keep, "keep-running", false, "leave the system running after the story")
	return c
}

// logWriter sends the system's warnings to stderr, indented.
type logWriter struct{ a *app }

func (w logWriter) Write(p []byte) (int, error) {
	fmt.Fprintf(w.a.stderr, "   %s", p)
	return len(p), nil
}

func (a *app) step(n, what string) {
	fmt.Fprintf(a.stdout, "\n== %s. %s\n", n, what)
}

func (a *app) wipeLocalState() error {
	home := config.Home()
	def := config.DefaultBucket()
	if a.bucketURL != def {
		return usagef("--fresh only empties the default bucket %s; this run uses %s", def, a.bucketURL)
	}
	for _, dir := range []string{def, filepath.Join(home, "mlflow"), filepath.Join(home, "data"), filepath.Join(home, "evidently"), filepath.Join(home, "exercises")} {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("empty %s: %w", dir, err)
		}
	}
	fmt.Fprintf(a.stdout, "emptied the bucket, the MLflow store, the Evidently workspace and the exercises' outcomes in %s\n", home)
	return nil
}

// sub runs another claimrisk command in-process, as a person would type it.
func (a *app) sub(ctx context.Context, args ...string) error {
	fmt.Fprintf(a.stdout, "$ claimrisk %s\n", strings.Join(args, " "))
	if code := run(ctx, append(args, "--bucket", a.bucketURL), &indent{w: a.stdout}, &indent{w: a.stderr}); code != 0 {
		return fmt.Errorf("claimrisk %s failed (exit %d)", strings.Join(args, " "), code)
	}
	return nil
}

// indent prefixes every line written through it with three spaces.
type indent struct {
	w   io.Writer
	mid bool // inside a line
}

func (i *indent) Write(p []byte) (int, error) {
	for _, l := range strings.SplitAfter(string(p), "\n") {
		if l == "" {
			continue
		}
		if !i.mid {
			l = "   " + l
		}
		if _, err := io.WriteString(i.w, l); err != nil {
			return 0, err
		}
		i.mid = !strings.HasSuffix(l, "\n")
	}
	return len(p), nil
}

func (a *app) demoStory(cmd *cobra.Command, sys *localrun.System) error {
	ctx := cmd.Context()
	data := filepath.Join(config.Home(), "data")
	broker, predict := sys.URL("broker"), sys.URL("predict")

	a.step("2", "the insurer's data: customers, policies, claims and Chicago accident statistics")
	if err := a.sub(ctx, "data", "generate", "--out", data); err != nil {
		return err
	}
	a.step("3", "upload: the train function fits the legacy formula and two GLMs; register names a champion")
	if err := a.sub(ctx, "data", "upload", "--dir", data, "--sink", broker, "--wait", "5m"); err != nil {
		return err
	}
	if err := a.sub(ctx, "runs", "list"); err != nil {
		return err
	}
	if err := a.waitServing(ctx, predict, 1); err != nil {
		return err
	}
	a.step("4", "traffic like the training data, and a drift check")
	if err := a.sub(ctx, "simulate", "--scenario", "none", "--url", predict, "--seed", "7"); err != nil {
		return err
	}
	if err := a.sub(ctx, "drift", "check", "--sink", broker); err != nil {
		return err
	}
	a.step("5", "an accident spike: claims rise while the policies look the same")
	if err := a.sub(ctx, "simulate", "--scenario", "accident-spike", "--url", predict, "--seed", "8", "--policies", "3000"); err != nil {
		return err
	}
	if err := a.sub(ctx, "drift", "check", "--sink", broker); err != nil {
		return err
	}
	a.step("6", "drift detected: train retrains, register judges the challenger, predict swaps it in")
	b, err := a.openBucket(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	v, err := a.waitForVersion(ctx, b, 2, 5*time.Minute)
	if err != nil {
		return err
	}
	if v.Promoted {
		if err := a.waitServing(ctx, predict, 2); err != nil {
			return err
		}
	}
	if err := a.sub(ctx, "registry", "list"); err != nil {
		return err
	}
	if err := a.sub(ctx, "predict", "--example", "--url", predict); err != nil {
		return err
	}
	if sys.URL("evidently") != "" {
		a.progressf("waiting for the Evidently job to report on both drift checks ...")
		a.waitEvidently(ctx, b, 2, 3*time.Minute)
	}
	return nil
}

// waitServing waits until the prediction API serves the given version.
func (a *app) waitServing(ctx context.Context, url string, version int) error {
	c := predictapi.NewClient(url, "")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		info, err := c.Model(ctx)
		if err == nil && info.Version == version {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the prediction API at %s does not serve v%d after 2 minutes", url, version)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitForVersion waits for the registry's decision on a version.
func (a *app) waitForVersion(ctx context.Context, b *blobstore.Bucket, version int, limit time.Duration) (registry.Decision, error) {
	reg := registry.Open(b, model.Name)
	deadline := time.Now().Add(limit)
	for {
		if d, err := reg.Decision(ctx, version); err == nil {
			verdict := "rejected"
			if d.Promoted {
				verdict = "promoted"
			}
			fmt.Fprintf(a.stdout, "   v%d %s: %s\n", version, verdict, d.Reason)
			return d, nil
		}
		if time.Now().After(deadline) {
			return registry.Decision{}, fmt.Errorf("no decision on v%d after %s: see the train and register logs", version, limit)
		}
		select {
		case <-ctx.Done():
			return registry.Decision{}, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// waitEvidently waits until the Evidently job has written n summaries.
func (a *app) waitEvidently(ctx context.Context, b *blobstore.Bucket, n int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		keys, _ := b.Keys(ctx, "drift/evidently/")
		got := 0
		for _, k := range keys {
			if strings.HasSuffix(k, "/summary.json") {
				got++
			}
		}
		if got >= n {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	fmt.Fprintln(a.stderr, "   the Evidently job has not finished; the dashboard fills in as it does (see logs/evidently-job.log)")
}

// demoSummary prints the links and what became of the servers behind them:
// without --keep-running they stop as soon as the summary is printed.
func (a *app) demoSummary(sys *localrun.System, took time.Duration, keep bool) {
	fmt.Fprintf(a.stdout, "\n== summary (%.0f s)\n", took.Seconds())
	if u := sys.URL("mlflow"); u != "" {
		fmt.Fprintf(a.stdout, "  MLflow UI:          %s/#/experiments (runs) and %s/#/models/claim-risk (registry)\n", u, u)
	} else {
		fmt.Fprintln(a.stdout, "  MLflow UI:          not started (make venv installs MLflow)")
	}
	fmt.Fprintf(a.stdout, "  prediction API:     %s/docs (OpenAPI: %s/openapi.json)\n", sys.URL("predict"), sys.URL("predict"))
	if u := sys.URL("evidently"); u != "" {
		fmt.Fprintf(a.stdout, "  Evidently UI:       %s\n", u)
	} else {
		fmt.Fprintln(a.stdout, "  Evidently UI:       not started (make venv installs Evidently)")
	}
	if b, err := blobstore.Open(context.Background(), a.bucketURL); err == nil {
		if rep, err := driftcheck.Latest(context.Background(), b); err == nil {
			fmt.Fprintf(a.stdout, "  latest drift report: %s/%s (claimrisk drift report)\n", b.URL, driftcheck.Key(rep.ID, "report.md"))
		}
		b.Close()
	}
	if b, err := blobstore.Normalize(a.bucketURL); err == nil {
		fmt.Fprintf(a.stdout, "  bucket:             %s\n", b)
	}
	fmt.Fprintf(a.stdout, "  logs:               %s\n", filepath.Join(config.Home(), "logs"))
	fmt.Fprintln(a.stdout, "  inspect:            bin/claimrisk runs list | registry list | drift report")
	if keep {
		fmt.Fprintln(a.stdout, "\nThe servers above keep running; Ctrl-C stops everything.")
		return
	}
	fmt.Fprintln(a.stdout, "\nThe servers above (MLflow, the API, Evidently) stop now, with the demo: the links work again once")
	fmt.Fprintln(a.stdout, "'bin/claimrisk up' runs (the data stays in the bucket), or rerun with 'make demo DEMO_FLAGS=--keep-running'.")
}
