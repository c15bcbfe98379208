// Package parallel runs a loop over many items on all cores, in contiguous
// parts: for work on large slices whose items are independent, where each
// part writes only its own items, so the result does not depend on the
// order the parts run in.
package parallel

import (
	"runtime"
	"sync"
)

// Rows is the fewest rows worth a goroutine of their own in the loops over
// a dataset's rows: below a few thousand, starting goroutines costs more
// than it saves.
const Rows = 4096

// For calls fn(lo, hi) for contiguous parts [lo, hi) that together cover
// [0, n) once, each part minPart items or more (but one part when n is
// smaller), and returns when every call has. With more than one part the
// calls run on their own goroutines, so fn must be safe for concurrent use
// on disjoint ranges. There are up to four parts per core, so that a part
// that shares its core with other work does not hold up the rest for long.
func For(n, minPart int, fn func(lo, hi int)) {
	run(n, min(4*runtime.GOMAXPROCS(0), n/max(1, minPart)), fn)
}

// PerCore is For with one part per core (one per item when there are
// fewer items than cores): for loops in which every part makes its own
// pass over other, large data, so that more parts than cores would only
// add passes.
func PerCore(n int, fn func(lo, hi int)) {
	run(n, min(runtime.GOMAXPROCS(0), n), fn)
}

// ForErr is For for loops that can fail: fn returns the index of the item
// that failed and its error, or an error of nil, and a part stops at its
// first failure. ForErr returns the failure with the lowest index, the one
// a single loop over [0, n) would have stopped at.
func ForErr(n, minPart int, fn func(lo, hi int) (int, error)) (int, error) {
	var mu sync.Mutex
	first, firstErr := n, error(nil)
	For(n, minPart, func(lo, hi int) {
		if i, err := fn(lo, hi); err != nil {
			mu.Lock()
			if i < first {
				first, firstErr = i, err
			}
			mu.Unlock()
		}
	})
	if firstErr == nil {
		return 0, nil
	}
	return first, firstErr
}

// run splits [0, n) into the given number of parts of equal size (the
// last one shorter) and runs them, on goroutines when there are two or
// more.
func run(n, parts int, fn func(lo, hi int)) {
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
