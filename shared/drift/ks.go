package drift

import "math"

// ksMaxAutoN is ks_2samp's MAX_AUTO_N: with method="auto" the p-value is
// exact when both samples have at most this many values.
const ksMaxAutoN = 10000

// KolmogorovSmirnov returns the two-sample Kolmogorov-Smirnov statistic d of
// x and y and its two-sided p-value, as scipy.stats.ks_2samp(x, y) computes
// them with the default method="auto" (scipy 1.17):
//
//   - d = max |F_x(t) - F_y(t)| over the pooled values t, with right-continuous
//     empirical CDFs, so ties are handled as scipy does; in the exact mode d
//     is reported, as by scipy, rounded to a multiple of 1/lcm(len(x), len(y));
//   - when max(len(x), len(y)) <= 10000 the p-value is exact: the lattice-path
//     counts of Hodges (1958), for equal sizes by scipy's
//     _compute_prob_outside_square and otherwise by its
//     _compute_outer_prob_inside_method (Viehmann 2021); an exact result
//     outside [0, 1] falls back to the asymptotic path, as in scipy;
//   - otherwise the p-value is kstwo.sf(d, round(m*n/(m+n))), the one-sample
//     two-sided distribution at the effective sample size.
//
// Evidently's "ks" test is this p-value with drift when p <= 0.05.
//
// x and y must be sorted ascending, non-empty and free of NaN;
// KolmogorovSmirnov panics otherwise. It runs in O(len(x)+len(y)) time plus
// the p-value, which costs at most O(len(x)*len(y)*d) in the exact mode.
func KolmogorovSmirnov(x, y []float64) (d, p float64) {
	mustSorted("KolmogorovSmirnov", x)
	mustSorted("KolmogorovSmirnov", y)
	return ksPValue(len(x), len(y), ksStatistic(x, y))
}

// ksStatistic is the two-sided two-sample statistic of sorted x and y,
// computed as ks_2samp does: cdf1 - cdf2 at every pooled value.
func ksStatistic(x, y []float64) float64 {
	n1, n2 := float64(len(x)), float64(len(y))
	var maxS, minS float64 // max of cdf1-cdf2 and of cdf2-cdf1
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		var t float64
		switch {
		case j == len(y) || (i < len(x) && x[i] <= y[j]):
			t = x[i]
		default:
			t = y[j]
		}
		for i < len(x) && x[i] <= t {
			i++
		}
		for j < len(y) && y[j] <= t {
			j++
		}
		diff := float64(i)/n1 - float64(j)/n2
		if diff > maxS {
			maxS = diff
		}
		if -diff > minS {
			minS = -diff
		}
	}
	minS = math.Min(minS, 1)
	if minS > maxS {
		return minS
	}
	return maxS
}

// ksPValue is ks_2samp's two-sided p-value for sample sizes n1 and n2 and
// statistic d, with method="auto". In the exact mode scipy also reports d
// rounded to the lattice of multiples of 1/lcm(n1, n2), so ksPValue returns
// the statistic too.
func ksPValue(n1, n2 int, d float64) (float64, float64) {
	if max(n1, n2) <= ksMaxAutoN {
		dExact, p, ok := ksExact(n1, n2, d)
		if ok {
			return dExact, clamp01(p)
		}
		// scipy warns "Exact calculation unsuccessful" and carries on with
		// the rounded d.
		d = dExact
	}
	m, n := float64(max(n1, n2)), float64(min(n1, n2))
	en := m * n / (m + n)
	return d, clamp01(kstwoSF(int(math.RoundToEven(en)), d))
}

// ksExact is scipy's _attempt_exact_2kssamp for the two-sided alternative.
// It returns d rounded to the lattice of multiples of 1/lcm(n1, n2), the
// p-value, and whether the exact computation succeeded.
func ksExact(n1, n2 int, d float64) (float64, float64, bool) {
	g := gcd(n1, n2)
	lcm := (n1 / g) * n2
	h := int(math.RoundToEven(d * float64(lcm)))
	d = float64(h) * 1.0 / float64(lcm)
	if h == 0 {
		return d, 1, true
	}
	var p float64
	if n1 == n2 {
		p = probOutsideSquare(n1, h)
	} else {
		p = outerProbInside(n1, n2, g, h)
	}
	if !(0 <= p && p <= 1) {
		return d, p, false
	}
	return d, p, true
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// probOutsideSquare is scipy's _compute_prob_outside_square: the proportion
// of lattice paths from (0,0) to (n,n) that leave the band |x-y| < h,
// evaluated by a Horner-like scheme that avoids cancellation.
func probOutsideSquare(n, h int) float64 {
	P := 0.0
	for k := int(math.Floor(float64(n) / float64(h))); k >= 0; k-- {
		p1 := 1.0
		for j := 0; j < h; j++ {
			p1 = float64(n-k*h-j) * p1 / float64(n+k*h+j+1)
		}
		P = p1 * (1.0 - P)
	}
	return 2 * P
}

// outerProbInside is scipy's _compute_outer_prob_inside_method
// (scipy/stats/_stats_pythran.py): the proportion of lattice paths from
// (0,0) to (m,n) that do not stay strictly inside |x/m - y/n| < h/lcm(m,n),
// computed column by column over a sliding window.
func outerProbInside(m, n, g, h int) float64 {
	if m < n {
		m, n = n, m
	}
	mg, ng := m/g, n/g
	minj, maxj := 0, min(int(math.Ceil(float64(h)/float64(mg))), n+1)
	curlen := maxj - minj
	lenA := min(2*maxj+2, n+1)
	A := make([]float64, lenA)
	for i := range A {
		A[i] = 1
	}
	for i := minj; i < maxj; i++ {
		A[i] = 0
	}
	for i := 1; i <= m; i++ {
		lastminj, lastlen := minj, curlen
		minj = max(int(math.Floor(float64(ng*i-h)/float64(mg)))+1, 0)
		minj = min(minj, n)
		maxj = min(int(math.Ceil(float64(ng*i+h)/float64(mg))), n+1)
		if maxj <= minj {
			return 1
		}
		val := 1.0
		if minj == 0 {
			val = 0
		}
		fi := float64(i)
		for jj := 0; jj < maxj-minj; jj++ {
			j := jj + minj
			val = (A[jj+minj-lastminj]*fi + val*float64(j)) / float64(i+j)
			A[jj] = val
		}
		curlen = maxj - minj
		if lastlen > curlen {
			for k := maxj - minj; k < maxj-minj+(lastlen-curlen) && k < lenA; k++ {
				A[k] = 1
			}
		}
	}
	return A[maxj-minj-1]
}
