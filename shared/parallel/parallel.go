// Package parallel runs a loop over many items on all cores, in contiguous
// parts: for work on large slices whose items are independent, where each
// part writes only its own items, so the result does not depend on the
// order the parts run in.
package parallel

import (
	"runtime"
	"sync"
)

// For calls fn(lo, hi) for contiguous parts [lo, hi) that together cover
// [0, n) once, each part minPart items or more (but one part when n is
// smaller), and returns when every call has. With more than one part the
// calls run on their own goroutines, so fn must be safe for concurrent use
// on disjoint ranges. There are up to four parts per core, so that a part
// that shares its core with other work does not hold up the rest for long.
func For(n, minPart int, fn func(lo, hi int)) {
	parts := min(4*runtime.GOMAXPROCS(0), n/max(1, minPart))
	if parts <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	size := (n + parts - 1) / parts
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}
