package parallel

import (
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
