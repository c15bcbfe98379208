package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var errFlaky = errors.New("flaky")

// record is a wait that spends no time and remembers what it was asked.
func record(waits *[]time.Duration) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		*waits = append(*waits, d)
		return ctx.Err()
	}
}

// failing fails its first n calls with errFlaky and counts every call.
func failing(n int, calls *int) func(context.Context) error {
	return func(context.Context) error {
		*calls++
		if *calls <= n {
			return fmt.Errorf("call %d: %w", *calls, errFlaky)
		}
		return nil
	}
}

func TestDoWaits(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		name      string
		policy    Policy
		failures  int
		wantCalls int
		wantWaits []time.Duration
		wantErr   bool
	}{
		{"success at once", Policy{Attempts: 3, Initial: ms}, 0, 1, nil, false},
		{"doubling by default", Policy{Attempts: 5, Initial: 10 * ms}, 4, 5, []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms}, false},
		{"capped by Max", Policy{Attempts: 6, Initial: 50 * ms, Max: 150 * ms}, 5, 6, []time.Duration{50 * ms, 100 * ms, 150 * ms, 150 * ms, 150 * ms}, false},
		{"multiplier 4", Policy{Attempts: 3, Initial: 250 * ms, Max: time.Second, Multiplier: 4}, 5, 3, []time.Duration{250 * ms, time.Second}, true},
		{"constant", Policy{Attempts: 4, Initial: 10 * ms, Multiplier: 1}, 9, 4, []time.Duration{10 * ms, 10 * ms, 10 * ms}, true},
		{"one attempt", Policy{Attempts: 1, Initial: time.Hour}, 1, 1, nil, true},
		{"no limit", Policy{Initial: ms, Max: 4 * ms}, 6, 7, []time.Duration{ms, 2 * ms, 4 * ms, 4 * ms, 4 * ms, 4 * ms}, false},
		{"no waits", Policy{Attempts: 5}, 4, 5, []time.Duration{0, 0, 0, 0}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls int
			var waits []time.Duration
			err := do(context.Background(), tt.policy, failing(tt.failures, &calls), record(&waits))
			if calls != tt.wantCalls || !slices.Equal(waits, tt.wantWaits) {
				t.Errorf("calls, waits = %d, %v; want %d, %v", calls, waits, tt.wantCalls, tt.wantWaits)
			}
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
			}
			if err != nil && (!errors.Is(err, errFlaky) || err.Error() != fmt.Sprintf("call %d: flaky", calls)) {
				t.Errorf("err = %v, want the last attempt's error as it is", err)
			}
		})
	}
}

func TestDoJitter(t *testing.T) {
	t.Parallel()
	const d = 100 * time.Millisecond
	tests := []struct {
		name   string
		jitter Jitter
		lo, hi time.Duration // every wait in [lo, hi)
	}{
		{"full", FullJitter, 0, d},
		{"equal", EqualJitter, d / 2, d},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			run := func(seed uint64) []time.Duration {
				var calls int
				var waits []time.Duration
				p := Policy{Attempts: 200, Initial: d, Multiplier: 1, Jitter: tt.jitter, Rand: rand.New(rand.NewPCG(seed, 1))}
				if err := do(context.Background(), p, failing(199, &calls), record(&waits)); err != nil {
					t.Fatal(err)
				}
				return waits
			}
			waits := run(1)
			distinct := map[time.Duration]bool{}
			for _, w := range waits {
				if w < tt.lo || w >= tt.hi {
					t.Fatalf("wait %v outside [%v, %v)", w, tt.lo, tt.hi)
				}
				distinct[w] = true
			}
			if len(distinct) < 150 {
				t.Errorf("only %d distinct waits of 199: not jittered", len(distinct))
			}
			if again := run(1); !slices.Equal(again, waits) {
				t.Error("the same seed gave other waits")
			}
			if other := run(2); slices.Equal(other, waits) {
				t.Error("another seed gave the same waits")
			}
		})
	}
	// Jitter draws from the computed wait, which keeps growing without it.
	var calls int
	var waits []time.Duration
	p := Policy{Attempts: 4, Initial: d, Max: 3 * d, Jitter: EqualJitter, Rand: rand.New(rand.NewPCG(3, 3))}
	_ = do(context.Background(), p, failing(9, &calls), record(&waits))
	for i, base := range []time.Duration{d, 2 * d, 3 * d} {
		if waits[i] < base/2 || waits[i] >= base {
			t.Errorf("wait %d = %v, want in [%v, %v)", i, waits[i], base/2, base)
		}
	}
}

func TestDoPermanent(t *testing.T) {
	t.Parallel()
	refused := errors.New("refused")
	var calls int
	var waits []time.Duration
	err := do(context.Background(), Policy{Attempts: 5, Initial: time.Hour}, func(context.Context) error {
		calls++
		if calls < 3 {
			return errFlaky
		}
		return Permanent(refused)
	}, record(&waits))
	if err != refused || calls != 3 || len(waits) != 2 {
		t.Errorf("Do = %v after %d calls and waits %v; want refused itself after 3 calls and 2 waits", err, calls, waits)
	}
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) is not nil")
	}
	// A Permanent wrapped by op still stops Do; the error comes back whole.
	calls = 0
	err = Do(context.Background(), Policy{Attempts: 5}, func(context.Context) error {
		calls++
		return fmt.Errorf("op: %w", Permanent(refused))
	})
	if calls != 1 || !errors.Is(err, refused) || err.Error() != "op: refused" {
		t.Errorf("Do = %v after %d calls; want op: refused after 1", err, calls)
	}
}

func TestDoCancelledWhileWaiting(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var calls int
	start := time.Now()
	time.AfterFunc(50*time.Millisecond, cancel)
	err := Do(ctx, Policy{Attempts: 5, Initial: time.Hour}, failing(9, &calls))
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Do returned %v after the cancel, not at once", took)
	}
	if calls != 1 || !errors.Is(err, context.Canceled) || !errors.Is(err, errFlaky) {
		t.Fatalf("Do = %v after %d calls; want context.Canceled wrapping the first error", err, calls)
	}
	if want := "context canceled after 1 attempt: call 1: flaky"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}

func TestDoCancelledByAttempt(t *testing.T) {
	t.Parallel()
	// The context ends during an attempt: no wait follows it.
	ctx, cancel := context.WithCancel(context.Background())
	var waits []time.Duration
	var calls int
	err := do(ctx, Policy{Initial: time.Millisecond}, func(ctx context.Context) error {
		calls++
		if calls == 2 {
			cancel()
			return fmt.Errorf("read: %w", ctx.Err())
		}
		return errFlaky
	}, record(&waits))
	if calls != 2 || len(waits) != 1 {
		t.Errorf("calls, waits = %d, %v; want 2 and one wait", calls, waits)
	}
	// The last error already says the context ended: it comes back alone.
	if err == nil || err.Error() != "read: context canceled" {
		t.Errorf("err = %v, want read: context canceled", err)
	}
	// A context ended before Do still gets its first attempt.
	calls = 0
	err = Do(ctx, Policy{Attempts: 3, Initial: time.Hour}, failing(9, &calls))
	if calls != 1 || !errors.Is(err, context.Canceled) || !errors.Is(err, errFlaky) {
		t.Errorf("Do = %v after %d calls; want one attempt, then context.Canceled", err, calls)
	}
}

func TestDoRealWait(t *testing.T) {
	t.Parallel()
	var calls int
	start := time.Now()
	if err := Do(context.Background(), Policy{Attempts: 3, Initial: 20 * time.Millisecond}, failing(2, &calls)); err != nil {
		t.Fatal(err)
	}
	// 20 ms, then 40 ms.
	if took := time.Since(start); took < 60*time.Millisecond {
		t.Errorf("three attempts took %v, want at least the 60 ms of waits", took)
	}
}

func TestPolicyPanics(t *testing.T) {
	t.Parallel()
	for name, p := range map[string]Policy{
		"negative attempts":   {Attempts: -1},
		"negative initial":    {Initial: -time.Second},
		"negative max":        {Max: -time.Second},
		"shrinking":           {Multiplier: 0.5},
		"negative multiplier": {Multiplier: -2},
		"unknown jitter":      {Jitter: 7},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Errorf("Do with %+v did not panic", p)
				}
			}()
			_ = Do(context.Background(), p, func(context.Context) error { return nil })
		})
	}
}
