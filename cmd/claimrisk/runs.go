package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/claimrisk/claimrisk/shared/runstore"
)

func (a *app) runsCmd() *cobra.Command {
	c := &cobra.Command{Use: "runs", Short: "Inspect training runs in the bucket"}
	var asJSON bool
	list := &cobra.Command{
		Use:     "list",
		Short:   "List finished training runs, newest first, with their out-of-time metrics",
		Example: "  claimrisk runs list\n  claimrisk runs list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := a.readBucket(cmd.Context())
			if err != nil {
				return err
			}
			defer b.Close()
			runs, err := runstore.New(b).List(cmd.Context())
			if err != nil {
				return err
			}
			return listing(a.stdout, runs, asJSON, fmt.Sprintf("no runs in %s yet: upload data with 'claimrisk data upload'", b.URL),
				"RUN\tKIND\tDATASET\tCREATED\tAUC\tGINI\tLOG LOSS\tBRIER\tMLFLOW", func(r runstore.Run) string {
					return fmt.Sprintf("%s\t%s\t%s\t%s\t%.4f\t%.4f\t%.4f\t%.4f\t%s", r.ID, r.Kind, r.DatasetID,
						r.Created.Format("2006-01-02 15:04"), r.Metrics.AUC, r.Metrics.Gini, r.Metrics.LogLoss, r.Metrics.Brier, dashIfEmpty(r.MLflowRunID))
				})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	c.AddCommand(list)
	return c
}
