package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/claimrisk/claimrisk/shared/deadletter"
)

func (a *app) deadletterCmd() *cobra.Command {
	c := &cobra.Command{Use: "deadletter", Short: "Inspect the events nobody could deliver"}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the dead letters in the bucket, oldest first, with why each was given up on",
		Long: `List prints the events that were not delivered: on a laptop the local
broker of 'claimrisk up' writes them to the bucket under deadletter/; on a
cluster Knative's broker sends them to the drift function, which writes them
there too. Each has the time, the HTTP status of the last refusal, where it
was going and the answer.`,
		Example: "  claimrisk deadletter list\n  claimrisk deadletter list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := a.readBucket(cmd.Context())
			if err != nil {
				return err
			}
			defer b.Close()
			letters, err := deadletter.List(cmd.Context(), b)
			if err != nil {
				return err
			}
			return listing(a.stdout, letters, asJSON, fmt.Sprintf("no dead letters in %s: every event was delivered", b.URL),
				"TIME\tEVENT\tTYPE\tTO\tSTATUS\tREASON", func(l deadletter.Letter) string {
					to := l.Trigger
					if to == "" {
						to = l.Subscriber
					}
					return fmt.Sprintf("%s\t%s\t%s\t%s\t%d\t%s", l.Time.Format("2006-01-02 15:04:05"), l.Event.ID(), l.Event.Type(),
						dashIfEmpty(to), l.Status, oneLine(l.Error))
				})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	c.AddCommand(list)
	return c
}

// oneLine keeps a table row on one line: a refusal's body may hold newlines.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
