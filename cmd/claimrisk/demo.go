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
	"github.com/claimrisk/claimrisk/shared/localrun"
)

func (a *app) demoCmd() *cobra.Command {
	var o upOptions
	var fresh, keep bool
	c := &cobra.Command{
		Use:   "demo",
		Short: "Tell the whole story on this machine in one command",
		Long: `Demo starts the system as 'claimrisk up' does, then walks through the story:
it generates the insurer's data, uploads it so that the train function fits
the legacy baseline and two GLMs and the register function names a
champion, and uploads a refreshed dataset whose challenger is promoted or
rejected on the same out-of-time data. It prints a summary with the links,
and stops what it started unless --keep-running is given.`,
		Example: "  claimrisk demo --fresh\n  claimrisk demo --keep-running",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
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
			a.demoSummary(sys, time.Since(start))
			if keep {
				fmt.Fprintln(a.stdout, "\nStill running; Ctrl-C stops everything.")
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
	for _, dir := range []string{def, filepath.Join(home, "mlflow"), filepath.Join(home, "data"), filepath.Join(home, "evidently")} {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("empty %s: %w", dir, err)
		}
	}
	fmt.Fprintf(a.stdout, "emptied the bucket and MLflow store in %s\n", home)
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
	broker := sys.URL("broker")

	a.step("2", "the insurer's data: customers, policies, claims and Chicago accident statistics")
	if err := a.sub(ctx, "data", "generate", "--out", filepath.Join(data, "2024")); err != nil {
		return err
	}
	a.step("3", "upload: the train function fits the legacy formula and two GLMs; register names a champion")
	if err := a.sub(ctx, "data", "upload", "--dir", filepath.Join(data, "2024"), "--sink", broker, "--wait", "5m"); err != nil {
		return err
	}
	if err := a.sub(ctx, "runs", "list"); err != nil {
		return err
	}
	a.step("4", "a refreshed dataset: its challenger must beat the champion on the same out-of-time data")
	if err := a.sub(ctx, "data", "generate", "--seed", "43", "--out", filepath.Join(data, "refresh")); err != nil {
		return err
	}
	if err := a.sub(ctx, "data", "upload", "--dir", filepath.Join(data, "refresh"), "--sink", broker, "--wait", "5m"); err != nil {
		return err
	}
	return a.sub(ctx, "registry", "list")
}

func (a *app) demoSummary(sys *localrun.System, took time.Duration) {
	fmt.Fprintf(a.stdout, "\n== summary (%.0f s)\n", took.Seconds())
	if u := sys.URL("mlflow"); u != "" {
		fmt.Fprintf(a.stdout, "  MLflow UI:          %s/#/experiments (runs) and %s/#/models/claim-risk (registry)\n", u, u)
	} else {
		fmt.Fprintln(a.stdout, "  MLflow UI:          not started (make venv installs MLflow)")
	}
	if b, err := blobstore.Normalize(a.bucketURL); err == nil {
		fmt.Fprintf(a.stdout, "  bucket:             %s\n", b)
	}
	fmt.Fprintf(a.stdout, "  logs:               %s\n", filepath.Join(config.Home(), "logs"))
	fmt.Fprintln(a.stdout, "  inspect:            bin/claimrisk runs list | bin/claimrisk registry list --json")
}
