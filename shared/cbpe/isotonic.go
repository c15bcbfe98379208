package cbpe

import (
	"fmt"
	"sort"
)

// Isotonic is a non-decreasing map fitted by least squares (the pool
// adjacent violators algorithm), interpolated linearly between its points
// and clipped outside them, as scikit-learn's
// IsotonicRegression(out_of_bounds="clip") is.
type Isotonic struct {
	x, y []float64
}

// FitIsotonic fits y on x. Equal x values are pooled first (their mean y,
// weighted by their count), as scikit-learn does.
func FitIsotonic(x, y []float64) (*Isotonic, error) {
	if len(x) != len(y) || len(x) == 0 {
		return nil, fmt.Errorf("cbpe: isotonic fit needs as many y as x, and some: %d and %d", len(x), len(y))
	}
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	// Pool equal x.
	var ux, uy, uw []float64
	for _, i := range idx {
		if n := len(ux); n > 0 && ux[n-1] == x[i] {
			uy[n-1] += y[i]
			uw[n-1]++
			continue
		}
		ux, uy, uw = append(ux, x[i]), append(uy, y[i]), append(uw, 1)
	}
	for i := range uy {
		uy[i] /= uw[i]
	}
	// Pool adjacent violators: blocks of (mean, weight, length).
	type block struct {
		mean, weight float64
		n            int
	}
	var blocks []block
	for i := range ux {
		blocks = append(blocks, block{uy[i], uw[i], 1})
		for len(blocks) > 1 && blocks[len(blocks)-2].mean >= blocks[len(blocks)-1].mean {
			a, b := blocks[len(blocks)-2], blocks[len(blocks)-1]
			w := a.weight + b.weight
			blocks = append(blocks[:len(blocks)-2], block{(a.mean*a.weight + b.mean*b.weight) / w, w, a.n + b.n})
		}
	}
	fy := make([]float64, 0, len(ux))
	for _, b := range blocks {
		for range b.n {
			fy = append(fy, b.mean)
		}
	}
	return &Isotonic{x: ux, y: fy}, nil
}

// Predict maps v: linear between the fitted points, clipped outside them.
func (f *Isotonic) Predict(v float64) float64 {
	n := len(f.x)
	if v <= f.x[0] {
		return f.y[0]
	}
	if v >= f.x[n-1] {
		return f.y[n-1]
	}
	j := sort.SearchFloat64s(f.x, v) // f.x[j-1] < v <= f.x[j]
	if f.x[j] == v {
		return f.y[j]
	}
	x0, x1, y0, y1 := f.x[j-1], f.x[j], f.y[j-1], f.y[j]
	return y0 + (y1-y0)*(v-x0)/(x1-x0)
}
