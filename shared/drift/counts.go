package drift

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// ChiSquareTest is Evidently's "chisquare" test on category counts: ref[i]
// and cur[i] count the reference and current rows holding the i-th value of
// the union of both samples' values. The expected current count of value i is
// ref[i] * sum(cur) / sum(ref); stat is Pearson's chi-square statistic and p
// its upper tail with len(ref)-1 degrees of freedom, as
// scipy.stats.chisquare(f_obs=cur, f_exp=expected) computes it. Evidently
// flags drift when p < 0.05.
//
// A value absent from the reference has expected count 0, so stat is +Inf
// and p is 0: such a column always drifts. With fewer than two values p is
// NaN, as in scipy. ChiSquareTest panics if len(ref) != len(cur).
func ChiSquareTest(ref, cur []int) (stat, p float64) {
	if len(ref) != len(cur) {
		panic("drift: ChiSquareTest: count slices differ in length")
	}
	nRef, nCur := sumInts(ref), sumInts(cur)
	kNorm := float64(nCur) / float64(nRef)
	for i := range ref {
		exp := float64(ref[i]) * kNorm
		d := float64(cur[i]) - exp
		stat += d * d / exp
	}
	k := len(ref)
	if k < 2 || math.IsNaN(stat) {
		return stat, math.NaN()
	}
	return stat, distuv.ChiSquared{K: float64(k - 1)}.Survival(stat)
}

// ZTest is Evidently's "z" test, a two-proportion z-test, on category
// counts: ref[i] and cur[i] count the rows holding the i-th value, with the
// values in ascending order. As in Evidently, the first value present codes
// as 0 and every other value as 1; p1 and p2 are the shares of 1s, P the
// pooled share, z = (p1 - p2) / sqrt(P(1-P)(1/n1 + 1/n2)) and
// p = 2(1 - Phi(|z|)). When both samples hold one and the same single value,
// Evidently sets p = 1 (z is reported as 0). Evidently flags drift when
// p < 0.05.
//
// Evidently chooses this test only for columns with at most two values,
// where the coding does not change the result. With no counts at all z and
// p are NaN. ZTest panics if len(ref) != len(cur).
func ZTest(ref, cur []int) (z, p float64) {
	if len(ref) != len(cur) {
		panic("drift: ZTest: count slices differ in length")
	}
	first := -1
	refValues, curValues, refOnly, curOnly := 0, 0, -1, -1
	for i := range ref {
		if ref[i] != 0 {
			refValues++
			refOnly = i
		}
		if cur[i] != 0 {
			curValues++
			curOnly = i
		}
		if first < 0 && (ref[i] != 0 || cur[i] != 0) {
			first = i
		}
	}
	if first < 0 {
		return math.NaN(), math.NaN()
	}
	if refValues == 1 && curValues == 1 && refOnly == curOnly {
		return 0, 1
	}
	n1, n2 := float64(sumInts(ref)), float64(sumInts(cur))
	p1 := (n1 - float64(ref[first])) / n1
	p2 := (n2 - float64(cur[first])) / n2
	P := (p1*n1 + p2*n2) / (n1 + n2)
	z = (p1 - p2) / math.Sqrt(P*(1-P)*(1.0/n1+1.0/n2))
	return z, 2 * (1 - normCDF(math.Abs(z)))
}

// normCDF is the standard normal CDF with the branches of cephes ndtr, which
// scipy.stats.norm.cdf uses.
func normCDF(a float64) float64 {
	x := a * (1 / math.Sqrt2)
	if math.Abs(x) < 1 {
		return 0.5 + 0.5*math.Erf(x)
	}
	y := 0.5 * math.Erfc(math.Abs(x))
	if x > 0 {
		y = 1 - y
	}
	return y
}

// JensenShannonDistance is Evidently's "jensenshannon" score:
// scipy.spatial.distance.jensenshannon(ref, cur) with the natural logarithm.
// Both are normalised to sum 1, m = (ref+cur)/2, and the distance is
// sqrt((KL(ref||m) + KL(cur||m)) / 2), where 0*log(0) = 0. Evidently passes
// binned shares without replacing zeros and flags drift when the distance is
// >= 0.1. The result lies in [0, sqrt(ln 2)].
//
// JensenShannonDistance panics if len(ref) != len(cur).
func JensenShannonDistance(ref, cur []float64) float64 {
	if len(ref) != len(cur) {
		panic("drift: JensenShannonDistance: slices differ in length")
	}
	sp, sq := sumFloats(ref), sumFloats(cur)
	var left, right float64
	for i := range ref {
		p, q := ref[i]/sp, cur[i]/sq
		m := (p + q) / 2.0
		left += relEntr(p, m)
		right += relEntr(q, m)
	}
	return math.Sqrt((left + right) / 2.0)
}

// relEntr is scipy.special.rel_entr.
func relEntr(x, y float64) float64 {
	switch {
	case math.IsNaN(x) || math.IsNaN(y):
		return math.NaN()
	case x > 0 && y > 0:
		return x * math.Log(x/y)
	case x == 0 && y >= 0:
		return 0
	}
	return math.Inf(1)
}

// PopulationStabilityIndex is Evidently's "psi" score on binned shares:
// sum over bins of (ref - cur) * ln(ref / cur). First, in each slice
// separately, zero shares are replaced by the smallest non-zero share / 1e6
// when that share is <= 1e-4, and by 1e-4 otherwise (Evidently's
// get_binned_data with feel_zeroes=True). Evidently never chooses PSI by
// default; when asked for it, it flags drift when the index is >= 0.1.
//
// A slice with no non-zero share gives NaN. PopulationStabilityIndex panics
// if len(ref) != len(cur); it does not modify its arguments.
func PopulationStabilityIndex(ref, cur []float64) float64 {
	if len(ref) != len(cur) {
		panic("drift: PopulationStabilityIndex: slices differ in length")
	}
	zr, zc := psiZero(ref), psiZero(cur)
	var psi float64
	for i := range ref {
		r, c := ref[i], cur[i]
		if r == 0 {
			r = zr
		}
		if c == 0 {
			c = zc
		}
		psi += (r - c) * math.Log(r/c)
	}
	return psi
}

// psiZero is the value Evidently puts in place of zero shares in x.
func psiZero(x []float64) float64 {
	m := math.Inf(1)
	for _, v := range x {
		if v != 0 && v < m {
			m = v
		}
	}
	switch {
	case math.IsInf(m, 1):
		return math.NaN()
	case m <= 0.0001:
		return m / 1e6
	}
	return 0.0001
}

func sumInts(x []int) int {
	s := 0
	for _, v := range x {
		s += v
	}
	return s
}

func sumFloats(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s
}
