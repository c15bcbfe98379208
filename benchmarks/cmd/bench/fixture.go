package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/promotion"
	"github.com/claimrisk/claimrisk/shared/pseudonym"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/synth"
	"github.com/claimrisk/claimrisk/shared/training"
)

// generate is the seeded synthetic portfolio of about n policies, as
// `claimrisk data generate --policies n --seed seed` writes it.
func generate(seed uint64, n int) (*dataset.Dataset, error) {
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Policies = seed, n
	return synth.Generate(cfg)
}

// records are the policy records of a dataset's policies, in order.
func records(d *dataset.Dataset) []schema.PolicyRecord {
	customers := make(map[string]schema.Customer, len(d.Customers))
	for _, c := range d.Customers {
		customers[c.CustomerID] = c
	}
	out := make([]schema.PolicyRecord, len(d.Policies))
	for i, p := range d.Policies {
		out[i] = schema.RecordFor(customers[p.CustomerID], p)
	}
	return out
}

// trainChampion uploads the portfolio of n policies into the bucket, trains
// the three kinds on it as the train function does, and registers the best
// through the promotion gate, so that it becomes the champion. It returns
// the champion.
func trainChampion(ctx context.Context, bucketURL string, seed uint64, n int) (registry.Version, error) {
	b, err := blobstore.Open(ctx, bucketURL)
	if err != nil {
		return registry.Version{}, err
	}
	defer b.Close()
	d, err := generate(seed, n)
	if err != nil {
		return registry.Version{}, err
	}
	objs, m, err := d.Encode("synthetic (bench)")
	if err != nil {
		return registry.Version{}, err
	}
	if err := dataset.Upload(ctx, b, objs, m, nil); err != nil {
		return registry.Version{}, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, _ := pseudonym.New(pseudonym.DevKey)
	runs := runstore.New(b)
	tr := &training.Trainer{Bucket: b, Runs: runs, L2: 1, CodeVersion: "bench", Pseudonymise: p.Of, Log: quiet}
	out, err := tr.TrainDataset(ctx, m.ID(), "bench")
	if err != nil {
		return registry.Version{}, err
	}
	gate := &promotion.Gate{Registry: registry.Open(b, model.Name), Runs: runs, Policy: promotion.DefaultPolicy(), Actor: "bench", Log: quiet}
	dec, err := gate.Judge(ctx, out.Best.ID)
	if err != nil {
		return registry.Version{}, err
	}
	if !dec.Promoted {
		return registry.Version{}, fmt.Errorf("the gate did not promote %s: %s", out.Best.ID, dec.Reason)
	}
	return registry.Open(b, model.Name).Resolve(ctx, registry.Champion)
}

// writeRecords writes records to a Parquet file in row groups of chunk.
func writeRecords(path string, recs []schema.PolicyRecord, chunk int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := parquetio.NewWriter[schema.PolicyRecord](f)
	for lo := 0; lo < len(recs); lo += chunk {
		if err := w.Write(recs[lo:min(lo+chunk, len(recs))]); err != nil {
			f.Close()
			return err
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeNpy writes a row-major float64 matrix of rows by cols as a NumPy
// .npy file (format 1.0), which numpy.load reads without a copy.
func writeNpy(path string, data []float64, rows, cols int) error {
	shape := fmt.Sprintf("(%d, %d)", rows, cols)
	if cols == 0 {
		shape = fmt.Sprintf("(%d,)", rows)
	}
	header := fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': %s, }", shape)
	// The header is padded with spaces and ends in a newline so that the
	// data starts at a multiple of 64 bytes.
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad%64) + "\n"
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var pre [10]byte
	copy(pre[:], "\x93NUMPY\x01\x00")
	binary.LittleEndian.PutUint16(pre[8:], uint16(len(header)))
	buf := make([]byte, 0, 1<<20)
	buf = append(append(buf, pre[:]...), header...)
	for _, v := range data {
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
		if len(buf) >= 1<<20 {
			if _, err := f.Write(buf); err != nil {
				f.Close()
				return err
			}
			buf = buf[:0]
		}
	}
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readNpy reads a float64 .npy file written by writeNpy into values of
// type F, a block at a time, so that the file's bytes are never held
// beside the values (reading it whole once made the Go fit's peak memory
// twice the design's).
func readNpy[F float32 | float64](path string) ([]F, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(f, 1<<20)
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil || string(pre[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("%s: not a .npy file", path)
	}
	start := 10 + int64(binary.LittleEndian.Uint16(pre[8:10]))
	if _, err := r.Discard(int(start) - 10); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]F, (st.Size()-start)/8)
	var buf [8]byte
	for i := range out {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out[i] = F(math.Float64frombits(binary.LittleEndian.Uint64(buf[:])))
	}
	return out, nil
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// cached runs make unless dir/.done exists, then marks dir done: fixtures
// are deterministic (seeded), so a later run reuses them.
func cached(dir string, make func() error) error {
	if exists(filepath.Join(dir, ".done")) {
		return nil
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := make(); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ".done"), nil, 0o644)
}
