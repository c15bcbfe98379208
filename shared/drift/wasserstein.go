package drift

import (
	"math"

	"gonum.org/v1/gonum/stat"
)

// minWassersteinNorm is the floor Evidently puts under the reference
// standard deviation, so a constant reference does not divide by zero.
const minWassersteinNorm = 0.001

// WassersteinDistance returns the first Wasserstein (earth mover's) distance
// between the empirical distributions of u and v, the integral of
// |F_u(t) - F_v(t)| dt, as scipy.stats.wasserstein_distance(u, v) computes it.
//
// u and v must be sorted ascending, non-empty and free of NaN;
// WassersteinDistance panics otherwise. It is a single merge over the two
// samples, O(len(u)+len(v)), and allocates nothing; gonum 0.17's
// stat.WassersteinDistance rescans both samples for every pooled value, which
// is quadratic and unusable on a million rows.
func WassersteinDistance(u, v []float64) float64 {
	mustSorted("WassersteinDistance", u)
	mustSorted("WassersteinDistance", v)
	return wasserstein(u, v)
}

func wasserstein(u, v []float64) float64 {
	nu, nv := float64(len(u)), float64(len(v))
	var sum, comp float64 // Neumaier-compensated sum
	i, j := 0, 0
	t := math.Min(u[0], v[0])
	for {
		for i < len(u) && u[i] <= t {
			i++
		}
		for j < len(v) && v[j] <= t {
			j++
		}
		var next float64
		switch {
		case i == len(u) && j == len(v):
			return sum + comp
		case i == len(u):
			next = v[j]
		case j == len(v):
			next = u[i]
		default:
			next = math.Min(u[i], v[j])
		}
		term := math.Abs(float64(i)/nu-float64(j)/nv) * (next - t)
		s := sum + term
		if math.Abs(sum) >= math.Abs(term) {
			comp += (sum - s) + term
		} else {
			comp += (term - s) + sum
		}
		sum = s
		t = next
	}
}

// NormedWasserstein returns Evidently's "wasserstein" drift score: the first
// Wasserstein distance between ref and cur divided by the population
// standard deviation of ref (numpy's np.std, ddof 0), or by 0.001 when that
// is smaller. Evidently flags drift when the score is >= 0.1.
//
// ref and cur must be sorted ascending, non-empty and free of NaN;
// NormedWasserstein panics otherwise.
func NormedWasserstein(ref, cur []float64) float64 {
	mustSorted("NormedWasserstein", ref)
	mustSorted("NormedWasserstein", cur)
	return normedWasserstein(ref, cur)
}

func normedWasserstein(ref, cur []float64) float64 {
	return wasserstein(ref, cur) / math.Max(stat.PopStdDev(ref, nil), minWassersteinNorm)
}
