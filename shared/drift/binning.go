package drift

import (
	"fmt"
	"math"
	"slices"
)

// maxUnbinnedValues is Evidently's cut-off in get_binned_data: a numeric
// column with more distinct reference values than this is binned by a
// histogram, any other column by its values.
const maxUnbinnedValues = 20

// SturgesEdges returns the bin edges numpy.histogram_bin_edges(a,
// bins="sturges") gives for an array a of n values with minimum lo and
// maximum hi: ceil((hi-lo)/width) equal bins, width = (hi-lo)/(log2(n)+1),
// from np.linspace(lo, hi, bins+1) with the last edge exactly hi. A constant
// array (lo == hi) gets one bin, [lo-0.5, hi+0.5]. When a has an integer
// dtype (integer true), numpy widens bins narrower than 1 to width 1.
//
// It returns an error, as numpy raises one, when the range is too narrow for
// the bins to be distinct floats. SturgesEdges panics if n < 1 or lo > hi or
// either is not finite.
func SturgesEdges(lo, hi float64, n int, integer bool) ([]float64, error) {
	if n < 1 || !(lo <= hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		panic("drift: SturgesEdges: need n >= 1 and finite lo <= hi")
	}
	first, last := lo, hi
	if first == last {
		first -= 0.5
		last += 0.5
	}
	bins := 1
	if width := (hi - lo) / (math.Log2(float64(n)) + 1.0); width != 0 {
		if integer && width < 1 {
			width = 1
		}
		bins = int(math.Ceil((last - first) / width))
	}
	edges := linspace(first, last, bins+1)
	for i := 1; i < len(edges); i++ {
		if edges[i-1] >= edges[i] {
			return nil, fmt.Errorf("drift: %d Sturges bins over [%v, %v]: %w", bins, lo, hi, ErrBinning)
		}
	}
	return edges, nil
}

// linspace is np.linspace(start, stop, num) with endpoint=True: i*step +
// start with step = (stop-start)/(num-1), and the last point exactly stop.
func linspace(start, stop float64, num int) []float64 {
	y := make([]float64, num)
	div := num - 1
	delta := stop - start
	step := delta / float64(div)
	for i := range y {
		if step == 0 {
			// numpy's path for denormal steps.
			y[i] = float64(float64(i)/float64(div))*delta + start
		} else {
			// The conversion stops the compiler fusing into an FMA, which
			// numpy does not do.
			y[i] = float64(float64(i)*step) + start
		}
	}
	if num > 1 {
		y[num-1] = stop
	}
	return y
}

// histogram counts sorted values into the bins of edges as np.histogram
// does: bin i holds edges[i] <= v < edges[i+1], the last bin also v equal to
// the last edge, and values outside the edges are not counted. It runs in
// O(len(sorted) + len(edges)). (gonum's stat.Histogram panics on a value
// equal to the last divider, so it does not fit.)
func histogram(counts []int, sorted, edges []float64) []int {
	nb := len(edges) - 1
	counts = slices.Grow(counts[:0], nb)[:nb]
	clear(counts)
	b := 0
	for _, v := range sorted {
		if v < edges[0] || v > edges[nb] {
			continue
		}
		for b < nb-1 && v >= edges[b+1] {
			b++
		}
		counts[b]++
	}
	return counts
}

// shares divides counts by n, the length of the sample they came from.
func shares(counts []int, n int) []float64 {
	s := make([]float64, len(counts))
	for i, c := range counts {
		s[i] = float64(c) / float64(n)
	}
	return s
}

// binnedNumeric is Evidently's get_binned_data for a numeric column given
// as sorted, finite ref and cur, without the zero replacement: shares of a
// Sturges histogram over both samples when ref has more than 20 distinct
// values, otherwise shares of each value over the union of values.
func binnedNumeric(ref, cur []float64) (refShares, curShares []float64, err error) {
	if countDistinct(ref) > maxUnbinnedValues {
		lo, hi := math.Min(ref[0], cur[0]), math.Max(ref[len(ref)-1], cur[len(cur)-1])
		edges, err := SturgesEdges(lo, hi, len(ref)+len(cur), false)
		if err != nil {
			return nil, nil, err
		}
		rc := histogram(nil, ref, edges)
		cc := histogram(nil, cur, edges)
		return shares(rc, len(ref)), shares(cc, len(cur)), nil
	}
	rc, cc := numericCounts(ref, cur)
	return shares(rc, len(ref)), shares(cc, len(cur)), nil
}

// countDistinct counts the distinct values of sorted x (0 and -0 are one
// value, as in pandas).
func countDistinct(x []float64) int {
	n := 0
	for i, v := range x {
		if i == 0 || v != x[i-1] {
			n++
		}
	}
	return n
}

// countDistinctUnion counts the distinct values of sorted x and y together.
func countDistinctUnion(x, y []float64) int {
	n := 0
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		t := nextValue(x, y, i, j)
		for i < len(x) && x[i] == t {
			i++
		}
		for j < len(y) && y[j] == t {
			j++
		}
		n++
	}
	return n
}

// nextValue is the smaller of x[i] and y[j], whichever exist.
func nextValue(x, y []float64, i, j int) float64 {
	switch {
	case i == len(x):
		return y[j]
	case j == len(y):
		return x[i]
	}
	return math.Min(x[i], y[j])
}

// numericCounts counts each distinct value of sorted x and y, over the union
// of their values in ascending order.
func numericCounts(x, y []float64) (xc, yc []int) {
	k := countDistinctUnion(x, y)
	xc, yc = make([]int, k), make([]int, k)
	i, j := 0, 0
	for b := 0; b < k; b++ {
		t := nextValue(x, y, i, j)
		for i < len(x) && x[i] == t {
			i++
			xc[b]++
		}
		for j < len(y) && y[j] == t {
			j++
			yc[b]++
		}
	}
	return xc, yc
}

// Quantile7 returns the q-quantile of sorted by linear interpolation between
// order statistics (Hyndman and Fan's type 7), numpy.quantile's default
// method="linear", with numpy's arithmetic: at virtual index (n-1)q the
// result is a + (b-a)g for a fraction g < 0.5 and b - (b-a)(1-g) otherwise.
// gonum's stat.Quantile offers only the empirical and linear-interpolation
// (type 4) kinds.
//
// Quantile7 panics if sorted is empty, not sorted ascending or holds NaN, or
// if q is outside [0, 1].
func Quantile7(sorted []float64, q float64) float64 {
	if !(q >= 0 && q <= 1) {
		panic("drift: Quantile7: q outside [0, 1]")
	}
	mustSorted("Quantile7", sorted)
	n := len(sorted)
	vi := float64(n-1) * q
	if vi >= float64(n-1) {
		return sorted[n-1]
	}
	lo := math.Floor(vi)
	g := vi - lo
	a, b := sorted[int(lo)], sorted[int(lo)+1]
	diff := b - a
	if g >= 0.5 {
		return b - float64(diff*(1-g))
	}
	return a + float64(diff*g)
}

// mustSorted panics unless x is non-empty, sorted ascending and free of NaN.
func mustSorted(fn string, x []float64) {
	if len(x) == 0 {
		panic("drift: " + fn + ": empty sample")
	}
	for i, v := range x {
		if math.IsNaN(v) {
			panic("drift: " + fn + ": NaN in sample")
		}
		if i > 0 && v < x[i-1] {
			panic("drift: " + fn + ": sample not sorted")
		}
	}
}
