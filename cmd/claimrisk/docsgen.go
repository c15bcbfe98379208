package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/claimrisk/claimrisk/shared/tooling/refdocs"
)

func (a *app) docsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:    "docs",
		Short:  "Generate the reference pages of the docs site",
		Hidden: true,
	}
	var out string
	gen := &cobra.Command{
		Use:   "generate --out DIR",
		Short: "Write the CLI, event, API and configuration reference as Markdown",
		Long: `Generate writes the reference pages of the docs site into --out: the
command line (walked from the command tree), the event catalogue (from
shared/events and the Trigger manifests), the prediction API (from its
OpenAPI document, also written as openapi.json) and the functions'
configuration (from their envconfig structs). The pages are generated as a
fresh checkout would see them: no CLAIMRISK_* or MLFLOW_* variables and no
running system. 'make docs-reference' runs it; a test fails when the
committed pages differ.`,
		Example: "  claimrisk docs generate --out docs/reference",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pages, err := referenceFiles()
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return fmt.Errorf("docs: %w", err)
			}
			names := make([]string, 0, len(pages))
			for name := range pages {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				if err := os.WriteFile(filepath.Join(out, name), pages[name], 0o644); err != nil {
					return fmt.Errorf("docs: %w", err)
				}
			}
			fmt.Fprintf(a.stdout, "wrote %d reference files to %s\n", len(names), out)
			return nil
		},
	}
	gen.Flags().StringVar(&out, "out", filepath.Join("docs", "reference"), "directory to write the pages into")
	c.AddCommand(gen)
	return c
}

// referenceFiles renders the reference pages from this command tree.
func referenceFiles() (map[string][]byte, error) {
	return refdocs.Files(func() *cobra.Command { return (&app{}).rootCmd() })
}
