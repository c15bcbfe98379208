package training

import (
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/claimrisk/claimrisk/shared/features"
)

// DefaultReferenceRows is the size of a model's reference sample.
const DefaultReferenceRows = 5000

// ReferenceSample draws n of the training examples (all of them when there
// are fewer), stratified by policy year: each year gets its share of n in
// proportion to its examples (largest remainders round), drawn without
// replacement. The same examples and seed give the same sample, in the
// examples' order. It is the reference a model's drift checks compare
// traffic with: its own training data, at a size large enough for the
// distance tests (Wasserstein, Jensen-Shannon) that Evidently chooses above
// 1,000 reference rows.
func ReferenceSample(exs []features.Example, n int, seed uint64) []features.Example {
	if n <= 0 || n >= len(exs) {
		return slices.Clone(exs)
	}
	byYear := map[int][]int{}
	for i, ex := range exs {
		y := ex.Start.Year()
		byYear[y] = append(byYear[y], i)
	}
	years := make([]int, 0, len(byYear))
	for y := range byYear {
		years = append(years, y)
	}
	sort.Ints(years)
	// Proportional allocation, rounded by largest remainder (ties: earlier year).
	quota := make([]int, len(years))
	rem := make([]float64, len(years))
	given := 0
	for i, y := range years {
		exact := float64(n) * float64(len(byYear[y])) / float64(len(exs))
		quota[i] = int(exact)
		rem[i] = exact - float64(quota[i])
		given += quota[i]
	}
	order := make([]int, len(years))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rem[order[a]] > rem[order[b]] })
	for _, i := range order[:n-given] {
		quota[i]++
	}
	r := rand.New(rand.NewPCG(seed, 0x5e1ec7))
	var picked []int
	for i, y := range years {
		idx := slices.Clone(byYear[y])
		r.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		picked = append(picked, idx[:quota[i]]...)
	}
	sort.Ints(picked)
	out := make([]features.Example, len(picked))
	for i, j := range picked {
		out[i] = exs[j]
	}
	return out
}
