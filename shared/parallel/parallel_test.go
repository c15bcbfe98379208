package parallel

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

func TestForCoversEveryItemOnce(t *testing.T) {
	for _, c := range []struct{ n, minPart int }{{0, 10}, {1, 10}, {9, 10}, {10, 10}, {11, 3}, {1000, 1}, {100_003, 1024}, {5, 0}} {
		seen := make([]int, c.n)
		var mu sync.Mutex
		var parts [][2]int
		For(c.n, c.minPart, func(lo, hi int) {
			mu.Lock()
			parts = append(parts, [2]int{lo, hi})
			mu.Unlock()
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		for i, k := range seen {
			if k != 1 {
				t.Fatalf("n=%d minPart=%d: item %d visited %d times", c.n, c.minPart, i, k)
			}
		}
		for _, p := range parts {
			if p[1]-p[0] < min(c.minPart, c.n) && len(parts) > 1 && p[1] != c.n {
				t.Errorf("n=%d minPart=%d: part %v is shorter than %d", c.n, c.minPart, p, c.minPart)
			}
		}
		if c.n == 0 && len(parts) != 0 {
			t.Errorf("n=0: fn was called with %v", parts)
		}
	}
}

func TestForSplitsLargeLoops(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	For(1<<16, 1024, func(lo, hi int) {
		mu.Lock()
		calls++
		mu.Unlock()
	})
	if calls < 2 {
		t.Errorf("65,536 items in parts of 1,024 or more ran as %d part(s)", calls)
	}
}

// TestPerCoreRunsOnePartPerCore: a loop over 17 features on 2 cores is
// split in two (For with a minimum part of half the items made it one),
// and never into more parts than cores or items.
func TestPerCoreRunsOnePartPerCore(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, c := range []struct{ procs, n, parts int }{{2, 17, 2}, {2, 15, 2}, {2, 1, 1}, {2, 0, 0}, {4, 17, 4}, {4, 3, 3}, {1, 17, 1}} {
		runtime.GOMAXPROCS(c.procs)
		var mu sync.Mutex
		seen := make([]int, c.n)
		parts := 0
		PerCore(c.n, func(lo, hi int) {
			mu.Lock()
			parts++
			mu.Unlock()
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		if parts != c.parts {
			t.Errorf("%d items on %d cores: %d parts, want %d", c.n, c.procs, parts, c.parts)
		}
		for i, k := range seen {
			if k != 1 {
				t.Errorf("%d items on %d cores: item %d visited %d times", c.n, c.procs, i, k)
			}
		}
	}
}

// TestForErrReturnsTheFirstFailureByIndex: of failures in several parts,
// the one at the lowest index is returned, whatever part finishes first.
func TestForErrReturnsTheFirstFailureByIndex(t *testing.T) {
	bad := map[int]bool{6_000: true, 15_000: true, 19_999: true}
	for range 20 {
		i, err := ForErr(20_000, 1024, func(lo, hi int) (int, error) {
			for i := lo; i < hi; i++ {
				if bad[i] {
					return i, fmt.Errorf("item %d", i)
				}
			}
			return 0, nil
		})
		if i != 6_000 || err == nil || err.Error() != "item 6000" {
			t.Fatalf("ForErr = %d, %v; want 6000, item 6000", i, err)
		}
	}
	if i, err := ForErr(20_000, 1024, func(lo, hi int) (int, error) { return 0, nil }); i != 0 || err != nil {
		t.Errorf("ForErr without failures = %d, %v", i, err)
	}
}
