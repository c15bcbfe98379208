package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tempfile"
	"github.com/claimrisk/claimrisk/shared/tooling/crashes"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
	"github.com/claimrisk/claimrisk/shared/tooling/synth"
)

func (a *app) dataCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "data",
		Short: "Generate, fetch, validate and upload the insurer's data",
	}
	c.AddCommand(a.dataGenerateCmd(), a.dataFetchCrashesCmd(), a.dataValidateCmd(), a.dataUploadCmd())
	return c
}

func (a *app) dataGenerateCmd() *cobra.Command {
	cfg := synth.DefaultConfig()
	var out, accidents string
	c := &cobra.Command{
		Use:   "generate",
		Short: "Generate seeded customers, policies, claims and accident tables as Parquet",
		Long: `Generate writes customers.parquet, policies.parquet, claims.parquet,
accidents.parquet and manifest.json into --out. The same seed and sizes give
the same bytes. With --accidents, the accident table (for example the real
Chicago crashes from 'claimrisk data fetch-crashes') drives the claims.`,
		Example: "  claimrisk data generate\n  claimrisk data generate --policies 1000000 --out big\n  claimrisk data generate --accidents data/accidents-chicago.parquet",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return usageError{err}
			}
			source := fmt.Sprintf("synthetic (claimrisk data generate --seed %d)", cfg.Seed)
			if accidents != "" {
				rows, err := readAccidents(accidents)
				if err != nil {
					return err
				}
				cfg.Accidents = rows
				source = "accident table " + filepath.Base(accidents)
			}
			start := time.Now()
			cfg.Progress = func(done, total int) {
				a.progressf("generating: %s of %s policies", thousands(done), thousands(total))
			}
			d, err := synth.Generate(cfg)
			if err != nil {
				return err
			}
			if err := d.Validate(); err != nil {
				return fmt.Errorf("generated data failed validation (a bug): %w", err)
			}
			a.progressf("encoding Parquet ...")
			objs, m, err := d.Encode(source)
			if err != nil {
				return err
			}
			if err := dataset.WriteDir(out, objs, m); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "generated %s customers, %s policies (%d to %d), %s claims and %s accident rows in %s\n",
				thousands(len(d.Customers)), thousands(len(d.Policies)), cfg.FirstYear, cfg.LastYear,
				thousands(len(d.Claims)), thousands(len(d.Accidents)), out)
			fmt.Fprintf(a.stdout, "dataset %s (fingerprint %s) in %.1fs\n", m.ID(), m.Fingerprint, time.Since(start).Seconds())
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&out, "out", "data", "directory to write the tables into")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	f.IntVar(&cfg.Policies, "policies", cfg.Policies, "number of policies over all years")
	f.IntVar(&cfg.FirstYear, "first-year", cfg.FirstYear, "first policy year")
	f.IntVar(&cfg.LastYear, "last-year", cfg.LastYear, "last policy year (validated out of time)")
	f.StringVar(&accidents, "accidents", "", "accident table (Parquet) to drive the claims, e.g. from fetch-crashes")
	return c
}

func readAccidents(path string) ([]schema.AccidentMonth, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read accident table: %w", err)
	}
	rows, err := parquetio.Decode[schema.AccidentMonth](data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

func (a *app) dataFetchCrashesCmd() *cobra.Command {
	var out, file, exposureFile, api, from, to string
	var seed uint64
	c := &cobra.Command{
		Use:   "fetch-crashes",
		Short: "Download Chicago's traffic crashes and aggregate them per district and month",
		Long: `Fetch-crashes downloads the City of Chicago's "Traffic Crashes - Crashes"
dataset (Socrata ` + crashes.DatasetID + `) page by page, or reads a CSV export given with
--file, and writes the accident table: crashes and injury crashes per police
district (beat_of_occurrence / 100) and month.

The crash data holds no count of registered vehicles. Give one per district
with --exposure (a CSV of area,exposure in thousands); without it the
synthetic world's figures are used.`,
		Example: "  claimrisk data fetch-crashes --from 2020-01-01 --to 2024-12-31\n  claimrisk data fetch-crashes --file Traffic_Crashes_-_Crashes.csv",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			first, err := time.Parse(time.DateOnly, from)
			if err != nil {
				return usagef("--from %q is not a date like 2020-01-01", from)
			}
			last, err := time.Parse(time.DateOnly, to)
			if err != nil {
				return usagef("--to %q is not a date like 2024-12-31", to)
			}
			if last.Before(first) {
				return usagef("--to %s is before --from %s", to, from)
			}
			exposure, err := exposureFor(exposureFile, seed)
			if err != nil {
				return err
			}
			var agg crashes.Aggregate
			progress := func(rows int) { a.progressf("read %s crashes", thousands(rows)) }
			if file != "" {
				f, err := os.Open(file)
				if err != nil {
					return fmt.Errorf("open crash file: %w", err)
				}
				defer f.Close()
				if err := crashes.Read(f, &agg, progress); err != nil {
					return fmt.Errorf("%s: %w", file, err)
				}
			} else {
				a.progressf("downloading from %s ...", api)
				if err := crashes.Fetch(cmd.Context(), &http.Client{Timeout: 5 * time.Minute}, api, first, last, &agg, progress); err != nil {
					return err
				}
			}
			firstMonth := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC)
			lastMonth := time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, time.UTC)
			rows, err := agg.Table(firstMonth, lastMonth, exposure)
			if err != nil {
				return err
			}
			data, err := parquetio.Encode(rows)
			if err != nil {
				return err
			}
			if err := writeFileAtomic(out, data); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "aggregated %s crashes (%s skipped: no district or date) into %s rows, %s to %s, in %s\n",
				thousands(agg.Rows), thousands(agg.Skipped), thousands(len(rows)), firstMonth.Format("2006-01"), lastMonth.Format("2006-01"), out)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&out, "out", filepath.Join("data", "accidents-chicago.parquet"), "accident table to write")
	f.StringVar(&file, "file", "", "read this CSV export instead of downloading")
	f.StringVar(&exposureFile, "exposure", "", "CSV of area,exposure (registered vehicles in thousands per district)")
	f.StringVar(&api, "url", crashes.API, "Socrata endpoint of the dataset")
	f.StringVar(&from, "from", "2020-01-01", "first crash date")
	f.StringVar(&to, "to", "2024-12-31", "last crash date")
	f.Uint64Var(&seed, "seed", 42, "seed of the synthetic world whose exposure is used without --exposure")
	return c
}

func exposureFor(path string, seed uint64) (map[int]float64, error) {
	if path == "" {
		w := synth.NewWorld(seed)
		out := map[int]float64{}
		for _, area := range schema.Areas {
			out[area] = w.Exposure(area)
		}
		return out, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open exposure file: %w", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[int]float64{}
	for i, r := range recs {
		if i == 0 && len(r) > 0 && strings.EqualFold(strings.TrimSpace(r[0]), "area") {
			continue
		}
		if len(r) != 2 {
			return nil, fmt.Errorf("%s: line %d: want area,exposure", path, i+1)
		}
		area, err1 := strconv.Atoi(strings.TrimSpace(r[0]))
		e, err2 := strconv.ParseFloat(strings.TrimSpace(r[1]), 64)
		if err1 != nil || err2 != nil || !schema.IsArea(area) || e <= 0 {
			return nil, fmt.Errorf("%s: line %d: %q is not a district and a positive exposure", path, i+1, strings.Join(r, ","))
		}
		out[area] = e
	}
	return out, nil
}

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return tempfile.WriteFile(path, data)
}

// loadDir reads and validates the tables in dir.
func loadDir(dir string) (map[string][]byte, *dataset.Dataset, dataset.Manifest, error) {
	objs, local, err := dataset.ReadDir(dir)
	if err != nil {
		return nil, nil, dataset.Manifest{}, err
	}
	d, err := dataset.Decode(objs, nil)
	if err != nil {
		return nil, nil, dataset.Manifest{}, err
	}
	source := "unknown"
	if local != nil && local.AccidentSource != "" {
		source = local.AccidentSource
	}
	return objs, d, dataset.NewManifest(d, objs, source), nil
}

func (a *app) dataValidateCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:     "validate",
		Short:   "Check the tables in a directory against the schema",
		Example: "  claimrisk data validate --dir data",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, d, m, err := loadDir(dir)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "valid: %s customers, %s policies, %s claims, %s accident rows; dataset %s\n",
				thousands(len(d.Customers)), thousands(len(d.Policies)), thousands(len(d.Claims)), thousands(len(d.Accidents)), m.ID())
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "data", "directory holding the tables")
	return c
}

func (a *app) dataUploadCmd() *cobra.Command {
	var dir, sink string
	var wait time.Duration
	c := &cobra.Command{
		Use:   "upload",
		Short: "Validate the tables, write them to the bucket and announce them with a CloudEvent",
		Long: `Upload validates the tables in --dir, writes them to the bucket under
datasets/<id>/ (the manifest last), then sends a ` + events.DatasetUploaded + `
CloudEvent to --sink: the train function, or the broker of 'claimrisk up' or of
a cluster. Nothing is written when the data is invalid. With --sink "" no
event is sent.`,
		Example: "  claimrisk data upload\n  claimrisk data upload --sink http://127.0.0.1:8701   # the train function itself",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			objs, _, m, err := loadDir(dir)
			if err != nil {
				return err
			}
			b, err := a.openBucket(ctx)
			if err != nil {
				return err
			}
			defer b.Close()
			err = dataset.Upload(ctx, b, objs, m, func(name string, size int) {
				a.progressf("uploading %s (%s bytes)", name, thousands(size))
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "uploaded dataset %s to %s/%s\n", m.ID(), b.URL, dataset.KeyOf(m.ID(), ""))
			if sink == "" {
				return nil
			}
			if err := a.announce(ctx, sink, b.URL, m); err != nil {
				return err
			}
			if wait > 0 {
				return a.waitForDecision(ctx, b, m.ID(), wait)
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "data", "directory holding the tables")
	c.Flags().StringVar(&sink, "sink", defaultSink(), "where to send the CloudEvent (env K_SINK); it is signed with CLAIMRISK_EVENT_KEY when that is set")
	c.Flags().DurationVar(&wait, "wait", 0, "wait up to this long for training and the promotion decision (e.g. 5m)")
	return c
}

// DefaultBrokerURL is where `claimrisk up` serves its local broker.
const DefaultBrokerURL = "http://127.0.0.1:8700"

// defaultSink is K_SINK, else the broker of a running `claimrisk up`, else
// where that broker listens by default.
func defaultSink() string {
	if s := os.Getenv("K_SINK"); s != "" {
		return s
	}
	if state, err := localrun.ReadState(config.Home()); err == nil && state["broker"] != "" {
		return state["broker"]
	}
	return DefaultBrokerURL
}

func (a *app) announce(ctx context.Context, sink, bucketURL string, m dataset.Manifest) error {
	data := events.DatasetUploadedData{
		Bucket: bucketURL, DatasetID: m.ID(), Fingerprint: m.Fingerprint,
		Manifest: dataset.KeyOf(m.ID(), dataset.ManifestObject),
	}
	for _, o := range m.Objects {
		data.Objects = append(data.Objects, events.ObjectRef{Key: dataset.KeyOf(m.ID(), o.Name), Size: o.Size, SHA256: o.SHA256})
	}
	e, err := events.New("dataset-"+m.ID()+"-"+strconv.FormatInt(time.Now().UnixNano(), 36), events.DatasetUploaded, events.SourceCLI, data.Manifest, data)
	if err != nil {
		return err
	}
	events.NewSigner(os.Getenv("CLAIMRISK_EVENT_KEY")).Sign(&e)
	s, err := events.NewSender()
	if err != nil {
		return err
	}
	a.progressf("sending %s to %s (training may take a while) ...", events.DatasetUploaded, sink)
	reply, err := s.Send(ctx, sink, e)
	if err != nil {
		var de *events.DeliveryError
		if errors.As(err, &de) && de.Status == 0 {
			return fmt.Errorf("the data is uploaded, but nothing answered at %s: start the system with 'claimrisk up' or pass --sink (%v)", sink, err)
		}
		return fmt.Errorf("the data is uploaded, but the event was refused: %w", err)
	}
	if reply == nil {
		fmt.Fprintf(a.stdout, "sent %s (id %s) to %s; training runs in the background (see 'claimrisk runs list')\n", events.DatasetUploaded, e.ID(), sink)
	} else {
		fmt.Fprintf(a.stdout, "sent %s (id %s) to %s\n", events.DatasetUploaded, e.ID(), sink)
	}
	if reply != nil && reply.Type() == events.ModelTrained {
		var t events.ModelTrainedData
		if err := events.Decode(*reply, &t); err == nil {
			fmt.Fprintf(a.stdout, "trained: best candidate %s (%s), out-of-time Gini %.3f, AUC %.3f\n", t.RunID, t.Kind, t.Metrics.Gini, t.Metrics.AUC)
		}
	}
	return nil
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
