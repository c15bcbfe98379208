package drift

import (
	"maps"
	"math"
	"math/rand/v2"
	"testing"
)

// The generated inputs the tests share. Each is fully determined by its PCG
// seed. The expected numbers in the tests were computed in Python (scipy
// 1.17.1, numpy 2.4.6, evidently 0.7.23) on exactly these values, written out
// by a copy of this file; TestInputs pins their length and sum to numpy's so
// that any change to the generator fails here first.

// normals draws n values mean + sd*N(0, 1), rounded to a multiple of step
// when step > 0 (to make ties).
func normals(seed uint64, n int, mean, sd, step float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	x := make([]float64, n)
	for i := range x {
		v := mean + sd*r.NormFloat64()
		if step > 0 {
			v = math.Round(v/step) * step
		}
		x[i] = v
	}
	return x
}

// pick draws an index with probabilities proportional to weights.
func pick(r *rand.Rand, weights []float64) int {
	u := r.Float64() * sumFloats(weights)
	for i, w := range weights {
		if u < w {
			return i
		}
		u -= w
	}
	return len(weights) - 1
}

// levels draws n values from values with the given weights.
func levels(seed uint64, n int, values, weights []float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	x := make([]float64, n)
	for i := range x {
		x[i] = values[pick(r, weights)]
	}
	return x
}

// categories draws n strings from values with the given weights.
func categories(seed uint64, n int, values []string, weights []float64) []string {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	x := make([]string, n)
	for i := range x {
		x[i] = values[pick(r, weights)]
	}
	return x
}

// withGaps returns a copy of x with every k-th value replaced by NaN, +Inf
// or -Inf in turn, the values Evidently drops before testing.
func withGaps(x []float64, k int) []float64 {
	y := append([]float64(nil), x...)
	gaps := []float64{math.NaN(), math.Inf(1), math.Inf(-1)}
	for i := 0; i < len(y); i += k {
		y[i] = gaps[(i/k)%len(gaps)]
	}
	return y
}

var numericInputs = map[string]func() []float64{
	"ks-exact-ref":     func() []float64 { return normals(11, 300, 0, 1, 0) },
	"ks-exact-cur":     func() []float64 { return normals(12, 500, 0.2, 1, 0) },
	"ks-ties-ref":      func() []float64 { return normals(13, 1000, 10, 2, 0.5) },
	"ks-ties-cur":      func() []float64 { return normals(14, 1000, 10.1, 2, 0.5) },
	"ks-edge-ref":      func() []float64 { return normals(15, 1000, 0, 1, 0) },
	"ks-edge-cur10000": func() []float64 { return normals(16, 10000, 0.06, 1, 0) },
	"ks-edge-cur10001": func() []float64 { return normals(16, 10001, 0.06, 1, 0) },
	"ks-small-ref":     func() []float64 { return normals(17, 50, 0, 1, 0) },
	"ks-small-cur":     func() []float64 { return normals(18, 20000, 0.3, 1, 0) },
	"large-ref":        func() []float64 { return normals(19, 100000, 0, 1, 0) },
	"large-cur":        func() []float64 { return normals(20, 1000000, 0.005, 1, 0) },
	"wass-ref":         func() []float64 { return normals(21, 5000, 50, 10, 0.1) },
	"wass-cur":         func() []float64 { return normals(22, 8000, 52, 11, 0.1) },
	"hist-ref":         func() []float64 { return normals(23, 3000, 0, 1, 0) },
	"hist-cur":         func() []float64 { return normals(24, 4000, 0.1, 1.1, 0) },
	"few-ref":          func() []float64 { return normals(25, 2000, 0, 2, 1) },
	"few-cur":          func() []float64 { return normals(26, 2500, 0.5, 2, 1) },
	"col-ks-ref":       func() []float64 { return withGaps(normals(31, 800, 0, 1, 0), 37) },
	"col-ks-cur":       func() []float64 { return withGaps(normals(32, 900, 0.1, 1, 0), 41) },
	"col-chi-ref":      func() []float64 { return levels(33, 600, []float64{1, 2, 3, 4}, []float64{1, 4, 3, 2}) },
	"col-chi-cur":      func() []float64 { return levels(34, 700, []float64{1, 2, 3, 4}, []float64{1, 3, 3, 3}) },
	"col-chinew-cur":   func() []float64 { return levels(34, 700, []float64{1, 2, 3, 4, 5}, []float64{10, 40, 30, 20, 1}) },
	"col-z-ref":        func() []float64 { return withGaps(levels(35, 500, []float64{0, 1}, []float64{7, 3}), 53) },
	"col-z-cur":        func() []float64 { return levels(36, 400, []float64{0, 1}, []float64{6, 4}) },
	"col-wass-ref":     func() []float64 { return withGaps(normals(37, 20000, 100, 15, 0), 101) },
	"col-wass-cur":     func() []float64 { return withGaps(normals(38, 50000, 101, 15, 0), 103) },
	"col-js-ref":       func() []float64 { return levels(39, 5000, []float64{0, 1, 2, 3}, []float64{4, 3, 2, 1}) },
	"col-js-cur":       func() []float64 { return levels(40, 6000, []float64{0, 1, 2, 3}, []float64{3, 3, 2, 2}) },
}

var districts = []string{"1", "2", "7", "10", "18", "22"}

var categoricalInputs = map[string]func() []string{
	"cat-chi-ref": func() []string { return categories(41, 700, districts[:4], []float64{4, 3, 2, 1}) },
	"cat-chi-cur": func() []string { return categories(42, 900, districts[:4], []float64{4, 3, 2, 1.4}) },
	"cat-new-cur": func() []string { return categories(42, 900, districts[:5], []float64{4, 3, 2, 1, 0.05}) },
	"cat-z-ref":   func() []string { return categories(43, 300, []string{"F", "M"}, []float64{1, 1}) },
	"cat-z-cur":   func() []string { return categories(44, 350, []string{"F", "M"}, []float64{1, 1.3}) },
	"cat-js-ref":  func() []string { return categories(45, 5000, districts, []float64{6, 5, 4, 3, 2, 1}) },
	"cat-js-cur":  func() []string { return categories(46, 8000, districts, []float64{6, 5, 4, 3, 2, 2}) },
	"large-cat-ref": func() []string {
		return categories(47, 100000, districts, []float64{6, 5, 4, 3, 2, 1})
	},
	"large-cat-cur": func() []string {
		return categories(48, 1000000, districts, []float64{6, 5, 4, 3, 2, 1.1})
	},
}

func TestInputs(t *testing.T) {
	t.Parallel()
	// n, finite and sum are len(x), the number of finite values and
	// math.fsum of the finite values, from Python 3.11 on the values the
	// generator wrote out.
	numeric := map[string]struct {
		n, finite int
		sum       float64
	}{
		"col-chi-cur":      {700, 700, 1979.0},
		"col-chi-ref":      {600, 600, 1505.0},
		"col-chinew-cur":   {700, 700, 1848.0},
		"col-js-cur":       {6000, 6000, 7749.0},
		"col-js-ref":       {5000, 5000, 5073.0},
		"col-ks-cur":       {900, 878, 106.7288918310596},
		"col-ks-ref":       {800, 778, 20.194697130741552},
		"col-wass-cur":     {50000, 49514, 4999731.89249715},
		"col-wass-ref":     {20000, 19801, 1977624.7377033688},
		"col-z-cur":        {400, 400, 155.0},
		"col-z-ref":        {500, 490, 138.0},
		"few-cur":          {2500, 2500, 1257.0},
		"few-ref":          {2000, 2000, 66.0},
		"hist-cur":         {4000, 4000, 362.945463978217},
		"hist-ref":         {3000, 3000, 16.677953683476368},
		"ks-edge-cur10000": {10000, 10000, 474.13554278090913},
		"ks-edge-cur10001": {10001, 10001, 474.5957094470439},
		"ks-edge-ref":      {1000, 1000, 47.04666470137564},
		"ks-exact-cur":     {500, 500, 108.53405492258229},
		"ks-exact-ref":     {300, 300, -14.020048519372498},
		"ks-small-cur":     {20000, 20000, 5904.563057209127},
		"ks-small-ref":     {50, 50, -9.937437950414557},
		"ks-ties-cur":      {1000, 1000, 10067.0},
		"ks-ties-ref":      {1000, 1000, 10014.5},
		"large-cur":        {1000000, 1000000, 4368.00356403912},
		"large-ref":        {100000, 100000, 360.44383390727364},
		"wass-cur":         {8000, 8000, 415285.0},
		"wass-ref":         {5000, 5000, 249272.0},
	}
	if len(numeric) != len(numericInputs) {
		t.Errorf("%d numeric inputs pinned, %d defined", len(numeric), len(numericInputs))
	}
	for name, want := range numeric {
		x := numericInputs[name]()
		finite, sum := 0, 0.0
		for _, v := range x {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				finite++
				sum += v
			}
		}
		if len(x) != want.n || finite != want.finite || math.Abs(sum-want.sum) > 1e-9*math.Abs(want.sum) {
			t.Errorf("%s: n, finite, sum = %d, %d, %v; want %d, %d, %v", name, len(x), finite, sum, want.n, want.finite, want.sum)
		}
	}
	// Value counts from pandas Series.value_counts on the written values.
	categorical := map[string]map[string]int{
		"cat-chi-cur":   {"1": 340, "10": 127, "2": 248, "7": 185},
		"cat-chi-ref":   {"1": 281, "10": 62, "2": 216, "7": 141},
		"cat-js-cur":    {"1": 2166, "10": 1103, "18": 736, "2": 1806, "22": 720, "7": 1469},
		"cat-js-ref":    {"1": 1438, "10": 680, "18": 464, "2": 1210, "22": 261, "7": 947},
		"cat-new-cur":   {"1": 351, "10": 99, "18": 3, "2": 263, "7": 184},
		"cat-z-cur":     {"F": 159, "M": 191},
		"cat-z-ref":     {"F": 161, "M": 139},
		"large-cat-cur": {"1": 284040, "10": 142545, "18": 95127, "2": 236948, "22": 51515, "7": 189825},
		"large-cat-ref": {"1": 28600, "10": 14298, "18": 9568, "2": 23434, "22": 4884, "7": 19216},
	}
	if len(categorical) != len(categoricalInputs) {
		t.Errorf("%d categorical inputs pinned, %d defined", len(categorical), len(categoricalInputs))
	}
	for name, want := range categorical {
		got := make(map[string]int)
		for _, v := range categoricalInputs[name]() {
			got[v]++
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s: counts %v, want %v", name, got, want)
		}
	}
}
