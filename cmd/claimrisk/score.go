package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/tooling/batchscore"
)

func (a *app) scoreCmd() *cobra.Command {
	var input, output string
	var version int
	c := &cobra.Command{
		Use:   "score",
		Short: "Score a Parquet file of policy records with the champion (or --version N)",
		Long: `Score reads policy records (the columns of the prediction API's records,
as schema.PolicyRecord writes them to Parquet) from --input, in chunks, and
writes each record's policy_id with its claim_probability and risk_band to
--output as Parquet, in the input's order. The model is the registry's
champion, or --version N. Memory stays bounded whatever the file's size.

A record the prediction API would refuse stops the run with its row number;
--output is written to a temporary file first and renamed into place at the
end, so a failed run leaves no partial output (a run killed with SIGKILL
leaves its hidden temporary file, which the next run for the same --output
removes). An --output that is the input file (by any path) is refused: the
scores would replace the records.`,
		Example: "  claimrisk score --input policies.parquet --output scores.parquet\n  claimrisk score --input quotes.parquet --output scores.parquet --version 3",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if input == "" || output == "" {
				return usagef("--input and --output are both required")
			}
			if version < 0 {
				return usagef("--version %d: versions are numbered from 1", version)
			}
			ctx := cmd.Context()
			m, ver, err := a.scoringModel(ctx, version)
			if err != nil {
				return err
			}
			start := time.Now()
			last := start
			n, err := batchscore.File(ctx, m, input, output, func(done, total int64) {
				if now := time.Now(); now.Sub(last) >= time.Second {
					last = now
					a.progressf("scoring with %s v%d: %s of %s records (%.0f%%)", ver.Model, ver.Version, thousands(int(done)), thousands(int(total)), 100*float64(done)/float64(max(total, 1)))
				}
			})
			if errors.Is(err, batchscore.ErrOutputIsInput) {
				return usageError{err} // a mistake in the flags: status 2
			}
			if err != nil {
				return err
			}
			secs := time.Since(start).Seconds()
			fmt.Fprintf(a.stdout, "scored %s records with %s v%d into %s in %.1fs (%s records/s)\n",
				thousands(int(n)), ver.Model, ver.Version, output, secs, thousands(int(float64(n)/max(secs, 1e-9))))
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&input, "input", "", "Parquet file of policy records to score")
	f.StringVar(&output, "output", "", "Parquet file to write the scores to (replaced if it exists)")
	f.IntVar(&version, "version", 0, "registered model version to score with (default: the champion)")
	return c
}

// scoringModel loads the champion, or version v when v > 0.
func (a *app) scoringModel(ctx context.Context, v int) (*model.Model, registry.Version, error) {
	b, err := a.readBucket(ctx)
	if err != nil {
		return nil, registry.Version{}, err
	}
	defer b.Close()
	reg := registry.Open(b, model.Name)
	var ver registry.Version
	if v > 0 {
		ver, err = reg.Get(ctx, v)
	} else {
		ver, err = reg.Resolve(ctx, registry.Champion)
	}
	switch {
	case errors.Is(err, registry.ErrNoAlias):
		return nil, registry.Version{}, fmt.Errorf("%s has no champion in %s yet: train and register a model first, or pass --version", reg.Name(), b.URL)
	case errors.Is(err, registry.ErrNoVersion):
		return nil, registry.Version{}, fmt.Errorf("%s has no version %d in %s: see 'claimrisk registry list'", reg.Name(), v, b.URL)
	case err != nil:
		return nil, registry.Version{}, err
	}
	m, err := ver.LoadModel()
	if err != nil {
		return nil, registry.Version{}, err
	}
	return m, ver, nil
}
