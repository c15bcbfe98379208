package drift

import (
	"math"
	"slices"
)

// Sorting dominates the cost of a numeric column: pdqsort (slices.Sort)
// takes about 170 ms for a million float64s on the benchmark machine, a
// least-significant-digit radix sort about a fifth of that.

const (
	radixMin    = 1 << 12 // below this, slices.Sort is faster
	radixBits   = 11
	radixPasses = (64 + radixBits - 1) / radixBits
	radixMask   = 1<<radixBits - 1
)

// radixKey maps a float64 to a uint64 with the same order: negative numbers
// have all bits flipped, others only the sign bit. -0 sorts just before +0.
func radixKey(v float64) uint64 {
	b := math.Float64bits(v)
	return b ^ (uint64(int64(b)>>63) | 1<<63)
}

// sortFloats sorts x, which must hold no NaN, in ascending order, using tmp
// (at least as long as x) as scratch space.
func sortFloats(x, tmp []float64) {
	if len(x) < radixMin {
		slices.Sort(x)
		return
	}
	var counts [radixPasses][1 << radixBits]int
	for _, v := range x {
		k := radixKey(v)
		for p := range radixPasses {
			counts[p][(k>>(p*radixBits))&radixMask]++
		}
	}
	src, dst := x, tmp[:len(x)]
	for p := range radixPasses {
		c := &counts[p]
		shift := p * radixBits
		if c[(radixKey(src[0])>>shift)&radixMask] == len(src) {
			continue // every value has the same digit here
		}
		sum := 0
		for d, n := range c {
			c[d] = sum
			sum += n
		}
		for _, v := range src {
			d := (radixKey(v) >> shift) & radixMask
			dst[c[d]] = v
			c[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &x[0] {
		copy(x, src)
	}
}

// finiteSortedPair returns sorted copies of the finite values of ref and cur.
func finiteSortedPair(ref, cur []float64) (r, c []float64) {
	r, c = finiteCopy(ref), finiteCopy(cur)
	var tmp []float64
	if n := max(len(r), len(c)); n >= radixMin {
		tmp = make([]float64, n)
	}
	sortFloats(r, tmp)
	sortFloats(c, tmp)
	return r, c
}

// finiteCopy copies the values of x that are neither NaN nor ±Inf.
func finiteCopy(x []float64) []float64 {
	n := 0
	for _, v := range x {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			n++
		}
	}
	out := make([]float64, 0, n)
	for _, v := range x {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	return out
}
