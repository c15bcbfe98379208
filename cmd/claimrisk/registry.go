package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/logging"
	"github.com/claimrisk/claimrisk/shared/metrics"
	"github.com/claimrisk/claimrisk/shared/mlflow"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/promotion"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
	"github.com/claimrisk/claimrisk/shared/training"
)

func (a *app) registryCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "registry",
		Short: "Inspect the model registry, promote by hand, and sync MLflow's mirror",
		Long: `The registry lives in the bucket (registry/` + model.Name + `/): numbered versions,
the aliases champion and challenger, and an audit log of every alias move.
MLflow's model registry mirrors it: the server of --mlflow, else of
MLFLOW_TRACKING_URI, else the MLflow of a running 'claimrisk up' (found
through $CLAIMRISK_HOME/up.json). --mlflow "" turns the mirror off.`,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			if a.mlflowURI == "" && !cmd.Flags().Changed("mlflow") {
				a.mlflowURI = defaultURL("mlflow", "")
			}
		},
	}
	c.PersistentFlags().StringVar(&a.mlflowURI, "mlflow", os.Getenv("MLFLOW_TRACKING_URI"), "MLflow tracking server to mirror to (env MLFLOW_TRACKING_URI, else the running claimrisk up's)")
	c.AddCommand(a.registryListCmd(), a.registryShowCmd(), a.registryCardCmd(), a.registryPromoteCmd(), a.registrySyncCmd())
	return c
}

func (a *app) openRegistry(ctx context.Context) (*registry.Registry, *blobstore.Bucket, error) {
	b, err := a.readBucket(ctx)
	if err != nil {
		return nil, nil, err
	}
	return registry.Open(b, model.Name), b, nil
}

// versionView is a version as the CLI shows it.
type versionView struct {
	Version   int                `json:"version"`
	Kind      string             `json:"kind"`
	RunID     string             `json:"run_id"`
	DatasetID string             `json:"dataset_id"`
	Created   time.Time          `json:"created"`
	Aliases   []string           `json:"aliases"`
	Metrics   metrics.Summary    `json:"metrics"`
	Decision  *registry.Decision `json:"decision,omitempty"`
}

type registryView struct {
	Model    string         `json:"model"`
	Aliases  map[string]int `json:"aliases"`
	Versions []versionView  `json:"versions"`
}

func (a *app) registryListCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:     "list",
		Short:   "List versions with their aliases, out-of-time metrics and promotion decisions",
		Example: "  claimrisk registry list\n  claimrisk registry list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			reg, b, err := a.openRegistry(ctx)
			if err != nil {
				return err
			}
			defer b.Close()
			view, err := loadRegistryView(ctx, reg)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, view)
			}
			if len(view.Versions) == 0 {
				fmt.Fprintf(a.stdout, "no versions of %s in %s yet: training registers them once the register function runs\n", model.Name, b.URL)
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VERSION\tALIASES\tKIND\tRUN\tDATASET\tAUC\tGINI\tDECISION")
			for i := len(view.Versions) - 1; i >= 0; i-- {
				v := view.Versions[i]
				decision := "-"
				if v.Decision != nil {
					decision = "rejected: " + v.Decision.Reason
					if v.Decision.Promoted {
						decision = "promoted: " + v.Decision.Reason
					}
				}
				aliases := strings.Join(v.Aliases, ",")
				if aliases == "" {
					aliases = "-"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%.4f\t%.4f\t%s\n", v.Version, aliases, v.Kind, v.RunID, v.DatasetID, v.Metrics.AUC, v.Metrics.Gini, decision)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return c
}

func loadRegistryView(ctx context.Context, reg *registry.Registry) (registryView, error) {
	versions, err := reg.All(ctx)
	if err != nil {
		return registryView{}, err
	}
	state, err := reg.Aliases(ctx)
	if err != nil {
		return registryView{}, err
	}
	view := registryView{Model: reg.Name(), Aliases: state.Aliases, Versions: []versionView{}}
	for _, v := range versions {
		vv := versionView{Version: v.Version, Kind: v.Kind, RunID: v.Lineage.RunID, DatasetID: v.Lineage.DatasetID,
			Created: v.Created, Metrics: v.Metrics, Aliases: []string{}}
		for alias, n := range state.Aliases {
			if n == v.Version {
				vv.Aliases = append(vv.Aliases, alias)
			}
		}
		sort.Strings(vv.Aliases)
		if d, err := reg.Decision(ctx, v.Version); err == nil {
			vv.Decision = &d
		}
		view.Versions = append(view.Versions, vv)
	}
	return view, nil
}

// versionArg is a VERSION argument: a number (3 or v3) or an alias
// (champion, challenger), resolved in reg.
func versionArg(ctx context.Context, reg *registry.Registry, s string) (int, error) {
	if s == registry.Champion || s == registry.Challenger {
		v, err := reg.Resolve(ctx, s)
		if err != nil {
			return 0, err
		}
		return v.Version, nil
	}
	n, err := parseVersion(s)
	if err != nil {
		return 0, usagef("%q is neither a version number (like 3 or v3) nor an alias (champion, challenger)", s)
	}
	return n, nil
}

func parseVersion(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(strings.ToLower(s), "v"))
	if err != nil || n <= 0 {
		return 0, usagef("%q is not a version number (like 3 or v3)", s)
	}
	return n, nil
}

func (a *app) registryShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "show VERSION",
		Short:   "Show one version (a number, champion or challenger): lineage, metrics, tags, decision and its alias history",
		Example: "  claimrisk registry show 2\n  claimrisk registry show champion",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			reg, b, err := a.openRegistry(ctx)
			if err != nil {
				return err
			}
			defer b.Close()
			n, err := versionArg(ctx, reg, args[0])
			if err != nil {
				return err
			}
			v, err := reg.Get(ctx, n)
			if err != nil {
				return err
			}
			moves, err := reg.Log(ctx)
			if err != nil {
				return err
			}
			out := map[string]any{
				"model": v.Model, "version": v.Version, "kind": v.Kind, "created": v.Created, "created_by": v.CreatedBy,
				"description": v.Description, "tags": v.Tags, "lineage": v.Lineage, "metrics": v.Metrics,
			}
			if d, err := reg.Decision(ctx, n); err == nil {
				out["decision"] = d
			}
			var history []registry.Move
			for _, m := range moves {
				if m.Version == n || m.Previous == n {
					history = append(history, m)
				}
			}
			out["alias_history"] = history
			return writeJSON(a.stdout, out)
		},
	}
}

func (a *app) registryCardCmd() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "card VERSION",
		Short: "Print a version's factsheet: purpose, lineage, metrics by slice, fairness and promotion history",
		Long: `Card prints the factsheet stored with a version: what the model is for and
its limits, the data it was trained on, its parameters, its out-of-time
metrics overall and per slice with calibration, its fairness figures, and
its promotion history. It is written when the version is registered and
rewritten at each promotion decision. VERSION is a number (2 or v2) or an
alias (champion, challenger). --format html or json prints the other
stored forms.`,
		Example: "  claimrisk registry card 2\n  claimrisk registry card champion\n  claimrisk registry card 2 --format html > card.html",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "md" && format != "html" && format != "json" {
				return usagef("--format %q: use md, html or json", format)
			}
			reg, b, err := a.openRegistry(cmd.Context())
			if err != nil {
				return err
			}
			defer b.Close()
			n, err := versionArg(cmd.Context(), reg, args[0])
			if err != nil {
				return err
			}
			data, err := reg.Factsheet(cmd.Context(), n, format)
			if err != nil {
				return err
			}
			_, err = a.stdout.Write(data)
			return err
		},
	}
	c.Flags().StringVar(&format, "format", "md", "md, html or json")
	return c
}

func actor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "user:" + u.Username
	}
	return "user:unknown"
}

func (a *app) registryPromoteCmd() *cobra.Command {
	var reason string
	c := &cobra.Command{
		Use:   "promote VERSION --reason TEXT",
		Short: "Make a version the champion by hand; the reason goes into the audit log",
		Long: `Promote moves the champion alias to VERSION as a human decision. It is
recorded in the registry's audit log with your user name and the reason, and
mirrored to MLflow when a tracking server is configured. The prediction
function picks the new champion up by itself.`,
		Example: `  claimrisk registry promote 3 --reason "approved by the pricing committee, 2026-11-30"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			n, err := parseVersion(args[0])
			if err != nil {
				return err
			}
			if strings.TrimSpace(reason) == "" {
				return usagef("--reason is required: say why this version should serve")
			}
			reg, b, err := a.openRegistry(ctx)
			if err != nil {
				return err
			}
			defer b.Close()
			ver, err := reg.Get(ctx, n)
			if err != nil {
				return err
			}
			// A version whose stored model no longer loads (corrupted, or
			// features this code does not know) would be refused by the
			// prediction function: refuse it here, and the champion stays.
			if _, err := ver.LoadModel(); err != nil {
				return fmt.Errorf("v%d cannot be promoted, the champion stays: %w", n, err)
			}
			var move registry.Move
			for range 10 {
				s, err := reg.Aliases(ctx)
				if err != nil {
					return err
				}
				if s.Aliases[registry.Champion] == n {
					fmt.Fprintf(a.stdout, "v%d is already the champion\n", n)
					return nil
				}
				move, err = reg.SetAlias(ctx, s.Seq, registry.Champion, n, actor(), reason)
				if errors.Is(err, registry.ErrConflict) {
					continue
				}
				if err != nil {
					return err
				}
				break
			}
			if move.Seq == 0 {
				return fmt.Errorf("the registry kept changing; try again")
			}
			fmt.Fprintf(a.stdout, "champion: v%d -> v%d (audit entry %d, by %s)\n", move.Previous, n, move.Seq, move.Actor)
			if err := promotion.WriteFactsheets(ctx, reg, runstore.New(b), n, move.Previous); err != nil {
				return fmt.Errorf("the promotion is recorded, but the factsheets were not updated: %w", err)
			}
			return a.syncIfConfigured(ctx, reg)
		},
	}
	c.Flags().StringVar(&reason, "reason", "", "why this version should serve (required)")
	return c
}

func (a *app) mirror(reg *registry.Registry) (*registry.Mirror, error) {
	c, err := mlflow.New(a.mlflowURI, mlflow.WithBasicAuth(os.Getenv("MLFLOW_TRACKING_USERNAME"), os.Getenv("MLFLOW_TRACKING_PASSWORD")))
	if err != nil {
		return nil, err
	}
	runs := runstore.New(reg.Bucket())
	tracker := &training.Tracker{Client: c, Bucket: reg.Bucket()}
	return &registry.Mirror{Client: c, Registry: reg, MLflowRun: func(ctx context.Context, id string) (string, error) {
		return tracker.Ensure(ctx, runs, id)
	}}, nil
}

func (a *app) syncIfConfigured(ctx context.Context, reg *registry.Registry) error {
	if a.mlflowURI == "" {
		return nil
	}
	m, err := a.mirror(reg)
	if err != nil {
		return err
	}
	if _, err := m.Sync(ctx); err != nil {
		return fmt.Errorf("recorded in the bucket, but MLflow's mirror is behind (run 'claimrisk registry sync-mlflow' later): %w", err)
	}
	fmt.Fprintf(a.stdout, "mirrored to %s\n", logging.Redact(a.mlflowURI))
	return nil
}

func (a *app) registrySyncCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "sync-mlflow",
		Short: "Bring MLflow's model registry in line with the bucket's (versions, tags, aliases)",
		Long: "The bucket is the source of truth. " +
			"A version MLflow lacks is created from its training run, and that run is logged to MLflow first when MLflow does not hold it " +
			"(it was down at training, or its store has been replaced since).",
		Example: "  claimrisk registry sync-mlflow\n  claimrisk registry sync-mlflow --mlflow http://127.0.0.1:5050",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if a.mlflowURI == "" {
				return usagef("no MLflow server: claimrisk up is not running here (%s); start it, or pass --mlflow URL or set MLFLOW_TRACKING_URI",
					localrun.StateFile(config.Home()))
			}
			reg, b, err := a.openRegistry(ctx)
			if err != nil {
				return err
			}
			defer b.Close()
			m, err := a.mirror(reg)
			if err != nil {
				return err
			}
			rep, err := m.Sync(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "synced %s to %s: %d version(s) created, aliases set %v, cleared %v\n",
				reg.Name(), logging.Redact(a.mlflowURI), len(rep.Created), rep.AliasesSet, rep.AliasesClear)
			return nil
		},
	}
}

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// listing prints a list command's items: as JSON ([] for none) with
// --json, else the empty message or a table of header and one row per
// item (tab-separated cells).
func listing[T any](w io.Writer, items []T, asJSON bool, empty, header string, row func(T) string) error {
	if asJSON {
		if items == nil {
			items = []T{}
		}
		return writeJSON(w, items)
	}
	if len(items) == 0 {
		_, err := fmt.Fprintln(w, empty)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, it := range items {
		fmt.Fprintln(tw, row(it))
	}
	return tw.Flush()
}
