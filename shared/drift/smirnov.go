package drift

import "math"

// This file ports the one-sided Smirnov survival function,
// scipy.special.smirnov(n, d) = P(D+_n >= d), from SciPy's xsf library
// (include/xsf/cephes/kolmogorov.h, _smirnov). scipy's kstwo.sf calls it for
// the tail of the two-sided one-sample K-S distribution, which ks_2samp uses
// on its asymptotic path. Like xsf, it sums the Birnbaum-Tingey series in
// double-double arithmetic, so the p-values agree with scipy to a few ulps
// even for large n.

// dd is a double-double number hi+lo with |lo| <= ulp(hi)/2 (the qd package's
// double_double, as xsf uses it).
type dd struct{ hi, lo float64 }

func twoSum(a, b float64) (s, e float64) {
	s = a + b
	c := s - a
	d := b - c
	f := s - c
	return s, (a - f) + d
}

func quickTwoSum(a, b float64) (s, e float64) {
	s = a + b
	return s, b - (s - a)
}

func twoProd(a, b float64) (p, e float64) {
	p = a * b
	return p, math.FMA(a, b, -p)
}

func ddf(x float64) dd { return dd{x, 0} }

func (x dd) neg() dd { return dd{-x.hi, -x.lo} }

// add is the IEEE-style double-double sum (Briggs and Kahan).
func (x dd) add(y dd) dd {
	s1, s2 := twoSum(x.hi, y.hi)
	t1, t2 := twoSum(x.lo, y.lo)
	s2 += t1
	s1, s2 = quickTwoSum(s1, s2)
	s2 += t2
	s1, s2 = quickTwoSum(s1, s2)
	return dd{s1, s2}
}

func (x dd) addF(b float64) dd {
	s1, s2 := twoSum(x.hi, b)
	s2 += x.lo
	s1, s2 = quickTwoSum(s1, s2)
	return dd{s1, s2}
}

func (x dd) sub(y dd) dd { return x.add(y.neg()) }

func (x dd) subF(b float64) dd { return x.addF(-b) }

func (x dd) mul(y dd) dd {
	p1, p2 := twoProd(x.hi, y.hi)
	p2 += x.hi*y.lo + x.lo*y.hi
	p1, p2 = quickTwoSum(p1, p2)
	return dd{p1, p2}
}

func (x dd) mulF(b float64) dd {
	p1, e1 := twoProd(x.hi, b)
	p2, e2 := twoProd(x.lo, b)
	p1, e1 = quickTwoSum(p1, e2+p2+e1)
	return dd{p1, e1}
}

func (x dd) div(y dd) dd {
	q1 := x.hi / y.hi
	r := x.sub(y.mulF(q1))
	q2 := r.hi / y.hi
	r = r.sub(y.mulF(q2))
	q3 := r.hi / y.hi
	q1, q2 = quickTwoSum(q1, q2)
	return dd{q1, q2}.addF(q3)
}

func (x dd) divF(b float64) dd { return x.div(ddf(b)) }

func (x dd) isZero() bool { return x.hi == 0 && x.lo == 0 }

func (x dd) floor() dd {
	hi := math.Floor(x.hi)
	lo := 0.0
	if hi == x.hi {
		lo = math.Floor(x.lo)
		hi, lo = quickTwoSum(hi, lo)
	}
	return dd{hi, lo}
}

func (x dd) ldexp(e int) dd { return dd{math.Ldexp(x.hi, e), math.Ldexp(x.lo, e)} }

// frexp returns m and e with x = m*2^e and 0.5 <= |m.hi| < 1 (or |m.hi| == 1
// with m.lo of the opposite sign).
func (x dd) frexp() (dd, int) {
	man, e := math.Frexp(x.hi)
	b1 := math.Ldexp(x.lo, -e)
	if math.Abs(man) == 0.5 && man*b1 < 0 {
		man *= 2
		b1 *= 2
		e--
	}
	return dd{man, b1}, e
}

const (
	smirnovMaxComputeN = 1000000
	smUpperMaxTerms    = 3
	smUpperSumMinN     = 10
	smMaxExponent      = 960
	cephesMinLog       = -7.451332191019412076235245305675398106812e2 // log(2**-1075), xsf const.h
)

// modNX returns floor(n*x) and the remainder, computed exactly, and n*x.
func modNX(n int, x float64) (alpha float64, nxfloor int, nx float64) {
	nxD := ddf(x).mulF(float64(n))
	nxfloorD := nxD.floor()
	alphaD := nxD.sub(nxfloorD)
	alpha = alphaD.hi
	nxfloor = int(nxfloorD.hi)
	if alpha == 1 {
		nxfloor++
		alpha = 0
	}
	return alpha, nxfloor, nxD.hi
}

// updateBinomial advances C(n, j) to C(n, j+1), kept as mantissa and exponent.
func updateBinomial(cman dd, cexpt, n, j int) (dd, int) {
	rat := ddf(float64(n - j)).divF(float64(j) + 1)
	man, e := cman.mul(rat).frexp()
	return man, cexpt + e
}

func powD(a dd, m int) dd {
	if m <= 0 {
		if m == 0 {
			return ddf(1)
		}
		return ddf(1).div(powD(a, -m))
	}
	if a.isZero() {
		return ddf(0)
	}
	ans := math.Pow(a.hi, float64(m))
	r := a.lo / a.hi
	adj := float64(m) * r
	if math.Abs(adj) > 1e-8 {
		if math.Abs(adj) < 1e-4 {
			adj += (float64(m) * r) * ((float64(m) - 1) / 2.0 * r)
		} else {
			adj = math.Expm1(float64(m) * math.Log1p(r))
		}
	}
	return ddf(ans).addF(ans * adj)
}

func pow2(a, b float64, m int) float64 { return powD(ddf(a).addF(b), m).hi }

// nextPowerOf2 is xsf's helper of that name, kept as written.
func nextPowerOf2(x float64) float64 {
	q := math.Ldexp(x, 1-53)
	l := math.Abs(q + x)
	if l == 0 {
		return math.Abs(x)
	}
	if li := float64(int(l)); li == l {
		return li
	}
	return l
}

// pow2ScaledD returns a^m as a significand and a binary exponent.
func pow2ScaledD(a dd, m int) (dd, int) {
	if m <= 0 {
		if m == 0 {
			return ddf(1), 0
		}
		ans, e1 := pow2ScaledD(a, -m)
		ans, e2 := ddf(1).div(ans).frexp()
		return ans, -e1 + e2
	}
	y, yE := a.frexp()
	if m == 1 {
		return y, yE
	}
	maxExpt := smMaxExponent
	if float64(m)*(y.hi-1)/y.hi < -smMaxExponent*math.Ln2 {
		lg2y := math.Log(y.hi) / math.Ln2
		if float64(m)*lg2y <= -smMaxExponent {
			maxExpt = int(nextPowerOf2(-smMaxExponent/lg2y+1) / 2)
		}
	}
	if m <= maxExpt {
		ans, e := powD(y, m).frexp()
		return ans, e + m*yE
	}
	q, r := m/maxExpt, m%maxExpt
	y2r, y2rE := pow2ScaledD(y, r)
	y2m, y2mE := pow2ScaledD(y, maxExpt)
	y2mq, y2mqE := pow2ScaledD(y2m, q)
	ans, e := y2r.mul(y2mq).frexp()
	y2mqE += y2mE * q
	return ans, e + y2mqE + y2rE + m*yE
}

// pow4D returns ((a+b)/(c+d))^m.
func pow4D(a, b, c, d float64, m int) dd {
	if m <= 0 {
		if m == 0 {
			return ddf(1)
		}
		return pow4D(c, d, a, b, -m)
	}
	A := ddf(a).addF(b)
	C := ddf(c).addF(d)
	if A.isZero() {
		if C.isZero() {
			return dd{math.NaN(), math.NaN()}
		}
		return ddf(0)
	}
	if C.isZero() {
		if A.hi < 0 {
			return dd{math.Inf(-1), math.Inf(-1)}
		}
		return dd{math.Inf(1), math.Inf(1)}
	}
	return powD(A.div(C), m)
}

// computeAv is one term of the series: C(n,v) (1-x-v/n)^(n-v) (x+v/n)^(v-1).
func computeAv(n int, x float64, v int, cman dd, cexpt int) dd {
	t2x := ddf(float64(n - v)).divF(float64(n)).subF(x)
	t2, t2E := pow2ScaledD(t2x, n-v)
	t1x := ddf(float64(v)).divF(float64(n)).addF(x)
	t1, t1E := pow2ScaledD(t1x, v-1)
	ans := t1.mul(t2).mul(cman)
	return ans.ldexp(cexpt + t1E + t2E)
}

// smirnov is scipy.special.smirnov(n, x): the survival function of the
// one-sided one-sample K-S statistic D+_n at x.
func smirnov(n int, x float64) float64 {
	if !(n > 0 && x >= 0 && x <= 1) {
		return math.NaN()
	}
	if n == 1 {
		return 1 - x
	}
	if x == 0 {
		return 1
	}
	if x == 1 {
		return 0
	}
	alpha, nxfl, _ := modNX(n, x)
	n1mxfl := n - nxfl
	if alpha != 0 {
		n1mxfl--
	}
	n1mxceil := n - nxfl
	if alpha == 0 {
		n1mxfl--
		n1mxceil++
	}
	// x <= 1/n.
	if nxfl == 0 || (nxfl == 1 && alpha == 0) {
		t := pow2(1, x, n-1)
		return 1 - x*t
	}
	// The survival function underflows.
	if -2*float64(n)*x*x < cephesMinLog {
		return 0
	}
	// x >= 1 - 1/n.
	if nxfl >= n-1 {
		return clamp01(pow2(1, -x, n))
	}
	if n > smirnovMaxComputeN {
		logp := -math.Pow(6.0*float64(n)*x+1, 2) / 18.0 / float64(n)
		if logp < -math.Ln2 {
			return clamp01(math.Exp(logp))
		}
		return clamp01(1 + math.Expm1(logp))
	}
	nUpperTerms := n - n1mxceil + 1
	useUpper := nUpperTerms <= 1 && x < 0.5
	useUpper = useUpper || (n >= smUpperSumMinN && nUpperTerms <= smUpperMaxTerms && x <= 0.5/math.Sqrt(float64(n)))

	start, step, nTerms := 0, 1, n1mxfl+1
	vmid := n / 2
	cman, cexpt := ddf(1), 0
	var aj dd
	if useUpper {
		start, step, nTerms = n, -1, n-n1mxceil+1
		aj = pow4D(1, x, 1, 0, n-1)
	} else {
		aj = pow4D(1, -x, 1, 0, n).divF(x)
	}
	sum := ddf(0).add(aj)
	cman, cexpt = updateBinomial(cman, cexpt, n, 0)
	for j := 1; j < nTerms; j++ {
		v := start + j*step
		aj = computeAv(n, x, v, cman, cexpt)
		if !math.IsInf(aj.hi, 0) && !math.IsNaN(aj.hi) && !aj.isZero() {
			sum = sum.add(aj)
		}
		if !aj.isZero() {
			if 4*float64(nTerms-j)*math.Abs(aj.hi) < eps*sum.hi && j != nTerms-1 {
				break
			}
		} else if j > vmid {
			break
		}
		cman, cexpt = updateBinomial(cman, cexpt, n, j)
	}
	prob := sum.mulF(x).hi
	if step < 0 {
		return clamp01(1 - prob)
	}
	return clamp01(prob)
}

// eps is the float64 machine epsilon, 2^-52.
const eps = 0x1p-52

func clamp01(p float64) float64 {
	switch {
	case p < 0:
		return 0
	case p > 1:
		return 1
	}
	return p
}
