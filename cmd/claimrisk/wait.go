package main

import (
	"context"
	"fmt"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
)

// waitForDecision follows a dataset through training and registration,
// printing each step, until the registry has decided about a version
// trained on it.
func (a *app) waitForDecision(ctx context.Context, b *blobstore.Bucket, datasetID string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	runs, reg := runstore.New(b), registry.Open(b, model.Name)
	seenRuns := 0
	for {
		all, err := runs.List(ctx)
		if err == nil {
			n := 0
			for _, r := range all {
				if r.DatasetID == datasetID {
					n++
				}
			}
			if n > seenRuns {
				fmt.Fprintf(a.stdout, "trained: %d run(s) on dataset %s\n", n, datasetID)
				seenRuns = n
			}
		}
		versions, err := reg.All(ctx)
		if err == nil {
			for _, v := range versions {
				if v.Lineage.DatasetID != datasetID {
					continue
				}
				if d, err := reg.Decision(ctx, v.Version); err == nil {
					verdict := "rejected"
					if d.Promoted {
						verdict = "promoted to champion"
					}
					fmt.Fprintf(a.stdout, "registered: v%d (%s, run %s) %s: %s\n", v.Version, v.Kind, v.Lineage.RunID, verdict, d.Reason)
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no promotion decision on dataset %s within %s: see the logs of train and register (claimrisk up prints where)", datasetID, limit)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
