// Package batchscore scores a Parquet file of policy records with a model
// into a Parquet file of scores, in bounded memory: reading, scoring and
// writing overlap, a chunk at a time. `claimrisk score` runs it.
package batchscore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/claimrisk/claimrisk/shared/flatparquet"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/parallel"
	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/prefault"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tempfile"
)

// Row is one row of the file File writes: a record's policy id, claim
// probability and risk band.
type Row struct {
	PolicyID         string  `parquet:"policy_id" json:"policy_id"`
	ClaimProbability float64 `parquet:"claim_probability" json:"claim_probability"`
	RiskBand         string  `parquet:"risk_band,dict" json:"risk_band"`
}

// Chunk is how many records are read, scored and written at a time: it
// bounds the memory a file of any size takes.
const Chunk = 32 * 1024

// ErrOutputIsInput is File's answer when the output names the input file
// (by any path): renaming the scores into place would replace the records.
var ErrOutputIsInput = errors.New("the output is the input file; the scores would replace its records")

// File scores the records of the Parquet file in with m into the
// Parquet file out, in the input's order, and returns the number of
// records. progress is called after each chunk with the records done and
// the file's total. out appears only when every
// record is scored: the rows go to a temporary file beside it, renamed at
// the end; a killed run's temporary file is removed by the next.
func File(ctx context.Context, m *model.Model, in, out string, progress func(done, total int64)) (int64, error) {
	f, err := os.Open(in)
	if err != nil {
		return 0, fmt.Errorf("score: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("score: %w", err)
	}
	if st.IsDir() {
		return 0, fmt.Errorf("score: %s is a directory, not a Parquet file", in)
	}
	if err := checkOutput(st, out); err != nil {
		return 0, fmt.Errorf("score: %w", err)
	}
	r, err := parquetio.Open[schema.PolicyRecord](f, st.Size())
	if err != nil {
		return 0, fmt.Errorf("score: %s: %w", in, err)
	}
	defer r.Close()
	// A run killed with SIGKILL cannot remove its temporary file: the next
	// run for the same output does.
	if _, err := tempfile.RemoveAbandoned(out); err != nil {
		return 0, fmt.Errorf("score: %s: %w", out, err)
	}
	tmp, err := tempfile.Beside(out) // the mode os.Create gives, not 0600
	if err != nil {
		return 0, fmt.Errorf("score: %s: %w", out, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	fw, err := flatparquet.NewWriter[Row](tmp)
	if err != nil {
		return 0, fmt.Errorf("score: %s: %w", out, err)
	}
	w := writeChunks(fw)
	defer w.stop()
	chunks, stop := readChunks(r)
	defer stop()
	var n int64
	for c := range chunks {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("score: %w", err)
		}
		if c.err != nil {
			return n, fmt.Errorf("score: %s: %w", in, c.err)
		}
		rows, err := w.buffer()
		if err != nil {
			return n, fmt.Errorf("score: %s: %w", out, err)
		}
		rows = rows[:len(c.recs)]
		if i, err := scoreRecords(m, c.recs, rows); err != nil {
			return n, fmt.Errorf("score: %s: row %d (policy_id %q): %w", in, n+int64(i)+1, c.recs[i].PolicyID, err)
		}
		c.release()
		w.write(rows)
		n += int64(len(rows))
		progress(n, r.NumRows())
	}
	if err := w.stop(); err != nil {
		return n, fmt.Errorf("score: %s: %w", out, err)
	}
	if n == 0 {
		return 0, fmt.Errorf("score: %s holds no records", in)
	}
	// Renamed while open, so still locked (see tempfile.RemoveAbandoned).
	if err := os.Rename(tmp.Name(), out); err != nil {
		return n, fmt.Errorf("score: %w", err)
	}
	done = true
	if err := tmp.Close(); err != nil {
		return n, fmt.Errorf("score: %s: %w", out, err)
	}
	progress(n, n)
	return n, nil
}

// checkOutput refuses, before any scoring rather than at the rename at the
// end, an output that is the input file, a directory, or not in one. An
// existing file is replaced.
func checkOutput(in fs.FileInfo, out string) error {
	if ost, err := os.Stat(out); err == nil {
		switch {
		case os.SameFile(in, ost):
			return fmt.Errorf("%s: %w", out, ErrOutputIsInput)
		case ost.IsDir():
			return fmt.Errorf("the output %s is a directory; name a file in it", out)
		}
		return nil
	}
	dir := filepath.Dir(out)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("the output's directory %s does not exist", dir)
	case err != nil:
		return fmt.Errorf("the output's directory %s: %w", dir, err)
	case !st.IsDir():
		return fmt.Errorf("the output's directory %s is not a directory", dir)
	}
	return nil
}

// scoreRecords validates and scores recs into rows, the chunk split by
// parallel.ForErr into four parts per core, each on a goroutine. (The reader and the writer
// share the cores: with one part per core, the part that shared its core
// with them finished last while the other core waited. Four parts per core
// took 5M records from 2.19 s to 1.82 s.) It returns the first record that
// fails validation, by position, with its error.
func scoreRecords(m *model.Model, recs []schema.PolicyRecord, rows []Row) (int, error) {
	return parallel.ForErr(len(recs), 1024, func(lo, hi int) (int, error) {
		for i := lo; i < hi; i++ {
			rec := &recs[i]
			if err := rec.Validate(); err != nil {
				return i, err
			}
			p := m.Predict(*rec)
			rows[i] = Row{PolicyID: rec.PolicyID, ClaimProbability: p, RiskBand: model.Band(p)}
		}
		return 0, nil
	})
}

// chunk is records read from the input, or the error that ended reading.
type chunk struct {
	recs    []schema.PolicyRecord
	err     error
	release func() // hands the buffer back for reading
}

// readChunks reads r in a goroutine of its own, a chunk ahead of the
// caller, so that decoding Parquet and scoring use two cores. The channel
// closes after the last chunk or an error; stop ends reading early and
// waits for the goroutine.
func readChunks(r *parquetio.Reader[schema.PolicyRecord]) (<-chan chunk, func()) {
	const buffers = 2
	out := make(chan chunk)
	free := make(chan []schema.PolicyRecord, buffers)
	for range buffers {
		buf := make([]schema.PolicyRecord, Chunk)
		prefault.Slice(buf)
		free <- buf
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		defer close(out)
		for {
			var buf []schema.PolicyRecord
			select {
			case buf = <-free:
			case <-done:
				return
			}
			k, err := r.Read(buf)
			if err == io.EOF {
				err = nil
			}
			send := func(c chunk) bool {
				select {
				case out <- c:
					return true
				case <-done:
					return false
				}
			}
			if k > 0 && !send(chunk{recs: buf[:k], release: func() { free <- buf }}) {
				return
			}
			if err != nil {
				send(chunk{err: err})
				return
			}
			if k == 0 {
				return
			}
		}
	}()
	var once sync.Once
	return out, func() {
		once.Do(func() { close(done) })
		<-finished
	}
}

// chunkWriter writes scored chunks to the output in a goroutine of its own,
// in the order they come, a row group each, so that encoding the output
// takes the other core while the next chunk is scored.
type chunkWriter struct {
	w        *flatparquet.Writer[Row]
	rows     chan []Row    // chunks to write
	free     chan []Row    // buffers written, to fill again
	done     chan struct{} // closed when the goroutine has finished
	err      error         // the first write error: read after done, or after failed is closed
	failed   chan struct{} // closed on the first write error
	stopOnce sync.Once
}

func writeChunks(w *flatparquet.Writer[Row]) *chunkWriter {
	const buffers = 2
	cw := &chunkWriter{w: w, rows: make(chan []Row), free: make(chan []Row, buffers), done: make(chan struct{}), failed: make(chan struct{})}
	for range buffers {
		buf := make([]Row, Chunk)
		prefault.Slice(buf)
		cw.free <- buf
	}
	go func() {
		defer close(cw.done)
		for rows := range cw.rows {
			if cw.err == nil {
				if err := cw.w.Write(rows); err != nil {
					cw.err = err
					close(cw.failed)
				}
			}
			cw.free <- rows[:cap(rows)]
		}
		if cw.err == nil {
			cw.err = cw.w.Close()
		}
	}()
	return cw
}

// buffer returns an empty chunk to fill, or the error that stopped writing.
func (cw *chunkWriter) buffer() ([]Row, error) {
	select {
	case rows := <-cw.free:
		return rows, nil
	case <-cw.failed:
		return nil, cw.err // set before failed closed, and never again
	}
}

// write hands a filled chunk to the writer.
func (cw *chunkWriter) write(rows []Row) { cw.rows <- rows }

// stop writes what is left, closes the file's footer and returns the first
// error; later calls return the same.
func (cw *chunkWriter) stop() error {
	cw.stopOnce.Do(func() { close(cw.rows) })
	<-cw.done
	return cw.err
}
