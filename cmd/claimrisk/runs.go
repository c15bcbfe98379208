package main

import (
	"fmt"
	"text/tabwriter"

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
			b, err := a.openBucket(cmd.Context())
			if err != nil {
				return err
			}
			defer b.Close()
			runs, err := runstore.New(b).List(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				if runs == nil {
					runs = []runstore.Run{}
				}
				return writeJSON(a.stdout, runs)
			}
			if len(runs) == 0 {
				fmt.Fprintf(a.stdout, "no runs in %s yet: upload data with 'claimrisk data upload'\n", b.URL)
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tKIND\tDATASET\tCREATED\tAUC\tGINI\tLOG LOSS\tBRIER\tMLFLOW")
			for _, r := range runs {
				ml := r.MLflowRunID
				if ml == "" {
					ml = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.4f\t%.4f\t%.4f\t%.4f\t%s\n", r.ID, r.Kind, r.DatasetID,
					r.Created.Format("2006-01-02 15:04"), r.Metrics.AUC, r.Metrics.Gini, r.Metrics.LogLoss, r.Metrics.Brier, ml)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	c.AddCommand(list)
	return c
}
