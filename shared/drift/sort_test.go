package drift

import (
	"math"
	"slices"
	"testing"
)

func TestSortFloats(t *testing.T) {
	t.Parallel()
	special := []float64{0, math.Copysign(0, -1), 1, -1, math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64,
		math.MaxFloat64, -math.MaxFloat64, 1e-300, -1e300, 0.5, 2, 2, 2}
	mixed := normals(91, 10000, 0, 1e3, 0)
	for i := range mixed {
		if i%7 == 0 {
			mixed[i] = special[i%len(special)]
		}
	}
	tests := map[string][]float64{
		"short":            normals(92, 100, 0, 1, 0),
		"radix":            normals(93, 50000, 5, 2, 0),
		"ties":             normals(94, 20000, 10, 2, 0.5),
		"one value":        levels(95, 5000, []float64{3}, []float64{1}),
		"special values":   mixed,
		"positive only":    normals(96, 8000, 1e6, 1, 0),
		"already sorted":   sorted(normals(97, 6000, 0, 1, 0)),
		"reverse sorted":   reversed(sorted(normals(98, 6000, 0, 1, 0))),
		"radixMin exactly": normals(99, radixMin, 0, 1, 0),
	}
	for name, x := range tests {
		t.Run(name, func(t *testing.T) {
			want := slices.Clone(x)
			slices.Sort(want)
			got := slices.Clone(x)
			sortFloats(got, make([]float64, len(got)))
			for i := range got {
				// -0 and +0 compare equal, so either order is sorted; the
				// radix sort puts -0 first.
				if got[i] != want[i] {
					t.Fatalf("index %d: got %v, want %v", i, got[i], want[i])
				}
			}
			if !slices.IsSorted(got) {
				t.Error("result not sorted")
			}
		})
	}
}

func reversed(x []float64) []float64 {
	slices.Reverse(x)
	return x
}
