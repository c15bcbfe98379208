package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// scoringFixture writes Parquet files of policy records of each size, the
// smaller ones the first rows of the largest, from a portfolio generated
// with another seed than the champion's data.
func scoringFixture(ctx context.Context, cfg *config) (map[int]string, error) {
	largest := 0
	for _, n := range cfg.scoreSizes {
		largest = max(largest, n)
	}
	dir := filepath.Join(cfg.work, fmt.Sprintf("score-%d", largest))
	files := map[int]string{}
	for _, n := range cfg.scoreSizes {
		files[n] = filepath.Join(dir, fmt.Sprintf("policies-%d.parquet", n))
	}
	err := cached(dir, func() error {
		d, err := generate(43, largest)
		if err != nil {
			return err
		}
		recs := records(d)
		for _, n := range cfg.scoreSizes {
			if err := writeRecords(files[n], recs[:min(n, len(recs))], 128*1024); err != nil {
				return err
			}
		}
		return nil
	})
	return files, err
}

type scoreSize struct {
	Rows      int     `json:"rows"`
	Seconds   Figure  `json:"seconds"`
	RowsPerS  Figure  `json:"rows_per_second"`
	PeakMB    Figure  `json:"peak_mb"`
	OfLimit   float64 `json:"of_limit"`
	InputMB   float64 `json:"input_mb"`
	OutputMB  float64 `json:"output_mb"`
	Processes string  `json:"command"`
}

type scoringData struct {
	LimitNs       Figure      `json:"limit_ns_per_record"`
	LimitRowsPerS float64     `json:"limit_rows_per_second"`
	Sizes         []scoreSize `json:"sizes"`
}

func scoringBench(ctx context.Context, cfg *config) (*result, error) {
	fx, err := newServingFixture(ctx, cfg)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "   data ...\n")
	files, err := scoringFixture(ctx, cfg)
	if err != nil {
		return nil, err
	}
	data := &scoringData{}
	res := &result{Data: data}
	// The in-process limit on the same records: the smallest file, in memory.
	smallest := cfg.scoreSizes[0]
	raw, err := os.ReadFile(files[smallest])
	if err != nil {
		return res, err
	}
	recs, err := parquetio.Decode[schema.PolicyRecord](raw)
	if err != nil {
		return res, err
	}
	var limit []float64
	for range max(cfg.scoreReps, 3) {
		limit = append(limit, predictLimit(fx.model, recs, len(recs)))
	}
	recs = nil
	data.LimitNs = figure("ns", limit...)
	data.LimitRowsPerS = 1e9 / data.LimitNs.Median
	for _, n := range cfg.scoreSizes {
		out := filepath.Join(cfg.work, "scores.parquet")
		argv := []string{filepath.Join(cfg.bin, "claimrisk"), "score", "--input", files[n], "--output", out, "--bucket", "file://" + fx.bucket}
		s := scoreSize{Rows: n, Processes: "claimrisk score --input policies.parquet --output scores.parquet"}
		var secs, rate, peak []float64
		for range cfg.scoreReps {
			// Every run writes a new file, as a first run does: replacing
			// one makes ext4 start writing the new file's data back at the
			// rename (its auto_da_alloc), about 25 ms at 1M rows, so runs
			// that replaced the last one's output measured the file system
			// as well, and only some of them did.
			if err := os.Remove(out); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return res, err
			}
			_, wall, p, err := run(ctx, cfg.work, argv, nil)
			if err != nil {
				return res, err
			}
			secs, rate, peak = append(secs, wall.Seconds()), append(rate, float64(n)/wall.Seconds()), append(peak, mb(p))
		}
		s.Seconds, s.RowsPerS, s.PeakMB = figure("s", secs...), figure("rows/s", rate...), figure("MB", peak...)
		s.OfLimit = s.RowsPerS.Median / data.LimitRowsPerS
		if st, err := os.Stat(files[n]); err == nil {
			s.InputMB = mb(st.Size())
		}
		if st, err := os.Stat(out); err == nil {
			s.OutputMB = mb(st.Size())
		}
		os.Remove(out)
		fmt.Fprintf(os.Stderr, "   %s rows: %s, %s, peak %s\n", thousands(int64(n)), s.Seconds, s.RowsPerS, s.PeakMB)
		data.Sizes = append(data.Sizes, s)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "`claimrisk score --input FILE --output FILE` (the serving benchmark's champion, from its bucket) on Parquet files of policy records from a portfolio generated with seed 43, written in row groups of 131,072 rows. Wall time is the whole process (start, model load, reading, validating, scoring and writing a new output file: replacing one costs ext4's write-back at the rename too); peak memory its maximum resident set. The in-process limit is `model.Predict` + `model.Band` on the same records already in memory, one goroutine: %s per record, %s records/s.\n\n",
		data.LimitNs, thousands(int64(data.LimitRowsPerS)))
	b.WriteString("| rows | input (MB) | output (MB) | wall time | records/s | share of the in-process limit | peak memory (MB) |\n|---|---|---|---|---|---|---|\n")
	allFast, allSmall := true, true
	var shares, peaks []string
	for _, s := range data.Sizes {
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %s | %s | %.0f%% | %s |\n", thousands(int64(s.Rows)), s.InputMB, s.OutputMB, s.Seconds, s.RowsPerS, 100*s.OfLimit, s.PeakMB)
		allFast = allFast && s.OfLimit >= 0.8
		shares = append(shares, fmt.Sprintf("%.0f%%", 100*s.OfLimit))
		if s.Rows >= 5_000_000 || cfg.smoke {
			allSmall = allSmall && s.PeakMB.Median < 300
			peaks = append(peaks, fmt.Sprintf("%.0f MB", s.PeakMB.Median))
		}
	}
	res.Markdown = b.String()
	res.Targets = append(res.Targets,
		target{"scoring: records/s as a share of the in-process limit", ">= 80% at every size", strings.Join(shares, ", "), allFast},
		target{"scoring: peak memory for 5M rows", "< 300 MB", strings.Join(peaks, ", "), allSmall},
	)
	return res, nil
}
