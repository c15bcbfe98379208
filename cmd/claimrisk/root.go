package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/version"
)

// app holds what every command shares.
type app struct {
	stdout, stderr io.Writer
	bucketURL      string
	mlflowURI      string
}

// usageError is a mistake in how a command was called (exit status 2).
type usageError struct{ error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// run executes the command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if ctx.Err() != nil {
		// Ctrl-C or SIGTERM: the command stopped what it had started.
		fmt.Fprintln(stderr, "claimrisk: interrupted; stopped what it had started")
		return 130
	}
	msg := strings.TrimSpace(err.Error())
	fmt.Fprintf(stderr, "claimrisk: %s\n", strings.ReplaceAll(msg, "\n", " "))
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand") || strings.Contains(msg, "flag needs an argument") ||
		strings.HasPrefix(msg, "invalid argument") || strings.HasPrefix(msg, "accepts ") || strings.HasPrefix(msg, "requires ") {
		return 2
	}
	return 1
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "claimrisk",
		Short: "MLOps for an insurer's claim-risk model, on Knative functions",
		Long: `claimrisk generates the insurer's data, trains and registers claim-risk
models, serves and monitors them, and runs the whole system on one machine.

Every command reads and writes the same bucket: --bucket, else
CLAIMRISK_BUCKET, else ~/.claimrisk/bucket. A directory bucket is made by
up, demo and data upload; runs, registry, drift, dashboard, deadletter and
score refuse one that does not exist, and lab check finds nothing done in it.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.String(),
	}
	def := os.Getenv("CLAIMRISK_BUCKET")
	if def == "" {
		def = config.DefaultBucket()
	}
	root.PersistentFlags().StringVar(&a.bucketURL, "bucket", def, "bucket URL or directory of the model and metric store (env CLAIMRISK_BUCKET)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(a.dataCmd(), a.runsCmd(), a.registryCmd(), a.upCmd(), a.demoCmd(), a.predictCmd(), a.simulateCmd(), a.driftCmd(), a.dashboardCmd())
	root.AddCommand(a.labCmd(), a.docsCmd())
	root.AddCommand(a.scoreCmd(), a.deadletterCmd())
	return root
}

// openBucket opens the bucket named by --bucket, making a file bucket's
// directory when missing: for the commands that put data in.
func (a *app) openBucket(ctx context.Context) (*blobstore.Bucket, error) {
	return blobstore.Open(ctx, a.bucketURL)
}

// readBucket opens the bucket named by --bucket for a command that reads
// or changes what is there: a missing file bucket is a mistyped --bucket
// or a system not yet started, said so, not a new bucket with nothing yet.
func (a *app) readBucket(ctx context.Context) (*blobstore.Bucket, error) {
	b, err := blobstore.OpenExisting(ctx, a.bucketURL)
	if errors.Is(err, blobstore.ErrNoBucket) {
		return nil, fmt.Errorf("%w: check --bucket (or CLAIMRISK_BUCKET); 'claimrisk up' and 'claimrisk data upload' make it", err)
	}
	return b, err
}

// progressf writes a progress line to stderr.
func (a *app) progressf(format string, args ...any) {
	fmt.Fprintf(a.stderr, format+"\n", args...)
}
