package retry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Policy says how often an operation runs and how long Do waits between
// runs. The wait before attempt n+1 is Initial·Multiplierⁿ⁻¹, at most Max,
// then jittered.
type Policy struct {
	// Attempts is the most times the operation runs; 0 means until it
	// succeeds, fails permanently or the context ends.
	Attempts int
	// Initial is the wait before the second attempt.
	Initial time.Duration
	// Max caps every wait; 0 means no cap.
	Max time.Duration
	// Multiplier grows the wait after each attempt; 0 means 2 (doubling)
	// and 1 keeps it at Initial.
	Multiplier float64
	// Jitter spreads each wait at random, so that many clients that failed
	// together do not all come back together.
	Jitter Jitter
	// Rand is the source of the jitter; nil uses math/rand/v2's. Do uses
	// it without locking: give concurrent calls a source each.
	Rand *rand.Rand
}

// Jitter is how a wait is drawn from its computed length d.
type Jitter int

const (
	// NoJitter waits d exactly.
	NoJitter Jitter = iota
	// FullJitter waits a uniform time in [0, d).
	FullJitter
	// EqualJitter waits d/2 plus a uniform time in [0, d/2), rounded to
	// the nanosecond.
	EqualJitter
)

// Permanent marks err as one that another attempt cannot mend: Do returns
// err at once, without the mark. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanent{err}
}

type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

// Do runs op until it returns nil, and returns nil then. Otherwise it
// returns op's last error: once op returns an error marked Permanent
// (without the mark), or once Attempts runs out. When ctx ends after a
// failed attempt, Do stops waiting and returns an error that wraps both
// ctx.Err() and op's last error (that error alone if it already wraps
// ctx.Err()). The first attempt runs whatever the state of ctx; op should
// pass ctx to the work it does.
//
// Do panics on a policy that makes no sense: a negative Attempts, Initial
// or Max, a Multiplier between 0 and 1, or an unknown Jitter.
func Do(ctx context.Context, p Policy, op func(context.Context) error) error {
	return do(ctx, p, op, sleep)
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// do is Do with the wait as a parameter, so that tests see every wait
// without spending it.
func do(ctx context.Context, p Policy, op func(context.Context) error, wait func(context.Context, time.Duration) error) error {
	p.check()
	mult := p.Multiplier
	if mult == 0 {
		mult = 2
	}
	delay := p.Initial
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil {
			return nil
		}
		var perm *permanent
		if errors.As(err, &perm) {
			if err == error(perm) {
				return perm.err
			}
			return err
		}
		if p.Attempts > 0 && attempt >= p.Attempts {
			return err
		}
		if ctx.Err() != nil {
			return stopped(ctx, attempt, err)
		}
		d := delay
		if p.Max > 0 && d > p.Max {
			d = p.Max
		}
		if werr := wait(ctx, p.jitter(d)); werr != nil {
			return stopped(ctx, attempt, err)
		}
		delay = grow(d, mult)
	}
}

// stopped is the error of a Do whose context ended after attempt failed
// with last.
func stopped(ctx context.Context, attempt int, last error) error {
	if errors.Is(last, ctx.Err()) {
		return last
	}
	attempts := "attempts"
	if attempt == 1 {
		attempts = "attempt"
	}
	return fmt.Errorf("%w after %d %s: %w", ctx.Err(), attempt, attempts, last)
}

// grow multiplies d, saturating at the longest time.Duration.
func grow(d time.Duration, mult float64) time.Duration {
	next := float64(d) * mult
	if next >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(next)
}

func (p Policy) jitter(d time.Duration) time.Duration {
	if d <= 0 || p.Jitter == NoJitter {
		return d
	}
	n := rand.Int64N
	if p.Rand != nil {
		n = p.Rand.Int64N
	}
	switch p.Jitter {
	case FullJitter:
		return time.Duration(n(int64(d)))
	case EqualJitter:
		half := d / 2
		return half + time.Duration(n(int64(d-half)))
	}
	panic(fmt.Sprintf("retry: unknown jitter %d", int(p.Jitter)))
}

func (p Policy) check() {
	switch {
	case p.Attempts < 0:
		panic(fmt.Sprintf("retry: Attempts is %d; want 0 (no limit) or more", p.Attempts))
	case p.Initial < 0 || p.Max < 0:
		panic(fmt.Sprintf("retry: Initial %v or Max %v is negative", p.Initial, p.Max))
	case p.Multiplier != 0 && p.Multiplier < 1, math.IsNaN(p.Multiplier):
		panic(fmt.Sprintf("retry: Multiplier is %v; want 0 (doubling) or at least 1", p.Multiplier))
	case p.Jitter < NoJitter || p.Jitter > EqualJitter:
		panic(fmt.Sprintf("retry: unknown jitter %d", int(p.Jitter)))
	}
}
