package predlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/flatparquet"
	"github.com/claimrisk/claimrisk/shared/retry"
)

// Prefixes of the two logs in the bucket.
const (
	PredictionsPrefix = "predlog/predictions/"
	FeedbackPrefix    = "predlog/feedback/"
	// ShadowPrefix holds the challenger's shadow answers (ShadowRow).
	ShadowPrefix = "predlog/shadow/"
)

// ErrFull means the buffer holds MaxPending rows because the bucket has
// been unavailable; the caller should refuse new work until it drains.
var ErrFull = errors.New("predlog: buffer full; the bucket is not accepting writes")

// Options tune a Logger.
type Options struct {
	// Prefix is where the objects go (PredictionsPrefix or FeedbackPrefix).
	Prefix string
	// Instance names the writer, so two replicas never write the same key.
	Instance string
	// BatchRows flushes once this many rows are buffered (default 5,000).
	BatchRows int
	// MaxAge flushes rows at most this old (default 10 s): a row is in
	// the bucket within MaxAge plus a quarter of it (at most 1 s) plus the
	// write, while the bucket takes writes. The drift check's watermark
	// (driftcheck.Checker.LogWait) relies on that bound.
	MaxAge time.Duration
	// MaxPending bounds the buffer while the bucket is away (default 500,000).
	MaxPending int
	Log        *slog.Logger
	// OnFlush, when set, is told of every flush attempt (for metrics).
	OnFlush func(rows int, err error)
	// Pace, when set, spreads the background flush beside the caller's
	// requests: the encode pauses this long after each column and the write
	// after each 64 KiB, so no request waits for a whole batch's CPU (the
	// predict function sets 1 ms; benchmarks/NOTES.md, eleventh pass). It
	// adds about 30 ms to a 5,000-row batch's write. Flush and Close, which
	// someone waits for, do not pace.
	Pace time.Duration
}

// batch is a sealed set of rows with its object key, written until it succeeds.
type batch[T any] struct {
	key  string
	rows []T
}

// Logger buffers rows of T and writes them to the bucket as Parquet objects,
// off the caller's path. A batch keeps its key across retries, so a write
// that succeeded but looked failed is rewritten with the same content under
// the same key: nothing is lost and nothing is duplicated.
type Logger[T any] struct {
	b    *blobstore.Bucket
	opts Options

	mu      sync.Mutex
	wmu     sync.Mutex // one writer of sealed batches at a time
	buf     []T
	oldest  time.Time
	sealed  []batch[T]
	seq     int
	pending int

	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

// NewLogger starts a logger; Close flushes and stops it.
func NewLogger[T any](b *blobstore.Bucket, o Options) *Logger[T] {
	if o.BatchRows <= 0 {
		o.BatchRows = 5000
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 10 * time.Second
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 500_000
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	l := &Logger[T]{b: b, opts: o, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	return l
}

// Add buffers rows. It never waits for the bucket; it returns ErrFull when
// too many rows are waiting for it.
// maxPrealloc bounds the rows a new batch's buffer is sized for up front.
const maxPrealloc = 16_384

func (l *Logger[T]) Add(rows ...T) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("predlog: logger is closed")
	}
	if l.pending+len(rows) > l.opts.MaxPending {
		return ErrFull
	}
	if len(l.buf) == 0 {
		l.oldest = time.Now()
		if l.buf == nil {
			// A batch's rows in one allocation, not a chain of doublings.
			l.buf = make([]T, 0, max(min(l.opts.BatchRows, maxPrealloc), len(rows)))
		}
	}
	l.buf = append(l.buf, rows...)
	l.pending += len(rows)
	if len(l.buf) >= l.opts.BatchRows {
		l.sealLocked()
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// Pending is the number of rows not yet written.
func (l *Logger[T]) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pending
}

func (l *Logger[T]) sealLocked() {
	if len(l.buf) == 0 {
		return
	}
	now := time.Now().UTC()
	l.seq++
	key := fmt.Sprintf("%s%s/%d-%s-%06d.parquet", l.opts.Prefix, now.Format("2006/01/02"), now.UnixMilli(), l.opts.Instance, l.seq)
	l.sealed = append(l.sealed, batch[T]{key: key, rows: l.buf})
	l.buf = nil
}

func (l *Logger[T]) run() {
	defer close(l.done)
	tick := time.NewTicker(min(l.opts.MaxAge/4, time.Second))
	defer tick.Stop()
	backoff := 200 * time.Millisecond
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		case <-l.kick:
		}
		l.mu.Lock()
		if len(l.buf) > 0 && time.Since(l.oldest) >= l.opts.MaxAge {
			l.sealLocked()
		}
		l.mu.Unlock()
		if err := l.writeSealed(context.Background(), l.opts.Pace); err != nil {
			l.opts.Log.Warn("payload log write failed; keeping the rows and retrying", "error", err.Error(), "pending_rows", l.Pending(), "retry_in", backoff.String())
			select {
			case <-l.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 10*time.Second)
			continue
		}
		backoff = 200 * time.Millisecond
	}
}

// writeSealed writes the sealed batches in order, stopping at the first
// failure; pace is Options.Pace or 0.
func (l *Logger[T]) writeSealed(ctx context.Context, pace time.Duration) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	for {
		l.mu.Lock()
		if len(l.sealed) == 0 {
			l.mu.Unlock()
			return nil
		}
		b := l.sealed[0]
		l.mu.Unlock()
		// flatparquet, not parquetio: the predict function links no
		// Parquet reader or codec but Snappy (see its package doc). The
		// encode and the write pause between columns and chunks: they share
		// the CPUs with the requests (benchmarks/NOTES.md, sixth and
		// eleventh passes).
		data, err := flatparquet.EncodePaced(b.rows, pace)
		if err != nil {
			return err
		}
		err = l.b.WritePaced(ctx, b.key, data, "application/vnd.apache.parquet", pace)
		if l.opts.OnFlush != nil {
			l.opts.OnFlush(len(b.rows), err)
		}
		if err != nil {
			return err
		}
		l.mu.Lock()
		l.sealed = l.sealed[1:]
		l.pending -= len(b.rows)
		l.mu.Unlock()
	}
}

// writeNow is writeSealed unpaced, for Flush and Close.
func (l *Logger[T]) writeNow(ctx context.Context) error { return l.writeSealed(ctx, 0) }

// Flush and Close write the sealed batches again until they succeed or
// their context ends.
var (
	flushRetries = retry.Policy{Initial: 50 * time.Millisecond, Multiplier: 2, Max: time.Second}
	closeRetries = retry.Policy{Initial: 100 * time.Millisecond, Multiplier: 2, Max: 2 * time.Second}
)

// Flush writes every buffered row now, retrying until ctx ends.
func (l *Logger[T]) Flush(ctx context.Context) error {
	l.mu.Lock()
	l.sealLocked()
	l.mu.Unlock()
	if err := retry.Do(ctx, flushRetries, l.writeNow); err != nil {
		return fmt.Errorf("predlog: flush: %d rows not written: %w", l.Pending(), err)
	}
	return nil
}

// Close stops accepting rows and writes everything buffered, retrying
// until ctx ends. Rows still unwritten then are reported, never dropped
// silently.
func (l *Logger[T]) Close(ctx context.Context) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.sealLocked()
	l.mu.Unlock()
	close(l.stop)
	<-l.done
	if err := retry.Do(ctx, closeRetries, l.writeNow); err != nil {
		return fmt.Errorf("predlog: %d rows could not be written before shutdown: %w", l.Pending(), err)
	}
	return nil
}
