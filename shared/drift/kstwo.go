package drift

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// This file ports scipy.stats.kstwo.sf(x, n), the survival function of the
// two-sided one-sample K-S statistic D_n, from scipy/stats/_ksstats.py
// (_kolmogn with cdf=False). It follows Simard and L'Ecuyer (2011) in picking
// among the Ruben-Gambino closed forms, Durbin's matrix (Marsaglia-Tsang-Wang),
// Pomeranz's recursion, the Pelz-Good expansion and 2*smirnov(n, x).
// ks_2samp uses it on its asymptotic path as kstwo.sf(d, round(m*n/(m+n))).

var (
	ep128 = math.Ldexp(1, 128)
	em128 = math.Ldexp(1, -128)
)

const (
	log2Pi  = 1.8378770664093453 // np.log(2*np.pi)
	sqrt2Pi = 2.5066282746310002 // np.sqrt(2*np.pi)
	minLog  = -708
)

// stirlingCoeffs are B_{2j}/(2j)/(2j-1) for j = 8..1 (_ksstats._STIRLING_COEFFS).
var stirlingCoeffs = [...]float64{
	-2.955065359477124183e-2, 6.4102564102564102564e-3,
	-1.9175269175269175269e-3, 8.4175084175084175084e-4,
	-5.952380952380952381e-4, 7.9365079365079365079e-4,
	-2.7777777777777777778e-3, 8.3333333333333333333e-2,
}

// logNFactorialDivNPowN is log(n!/n^n) by Stirling's series.
func logNFactorialDivNPowN(n int) float64 {
	fn := float64(n)
	rn := 1.0 / fn
	x := rn / fn
	p := 0.0
	for _, c := range stirlingCoeffs {
		p = p*x + c
	}
	return math.Log(fn)/2 - fn + log2Pi/2 + rn*p
}

// kstwoSF is scipy.stats.kstwo.sf(x, n) for n >= 1.
func kstwoSF(n int, x float64) float64 {
	fn := float64(n)
	// rv_continuous.sf: 1 at or below the support's lower end 0.5/n, 0 at or
	// above its upper end 1.
	if n < 1 || math.IsNaN(x) {
		return math.NaN()
	}
	if x <= 0.5/fn {
		return 1
	}
	if x >= 1 {
		return 0
	}
	t := fn * x
	if t <= 1 {
		// Ruben-Gambino: 1/2n <= x <= 1/n.
		if t <= 0.5 {
			return 1
		}
		var prob float64
		if n <= 140 {
			prob = 1
			c := 2*t - 1
			for i := 1; i <= n; i++ {
				prob *= float64(i) * (1.0 / fn) * c
			}
		} else {
			prob = math.Exp(logNFactorialDivNPowN(n) + fn*math.Log(2*t-1))
		}
		return clamp01(1 - prob)
	}
	if t >= fn-1 {
		// Ruben-Gambino.
		return clamp01(2 * math.Pow(1-x, fn))
	}
	if x >= 0.5 {
		return clamp01(2 * smirnov(n, x))
	}
	nxSquared := t * x
	if n <= 140 {
		if nxSquared <= 0.754693 {
			return clamp01(1 - kolmogornDMTW(n, x))
		}
		if nxSquared <= 4 {
			return clamp01(1 - kolmogornPomeranz(n, x))
		}
		return clamp01(2 * smirnov(n, x))
	}
	if nxSquared >= 370 {
		return 0
	}
	if nxSquared >= 2.2 {
		return clamp01(2 * smirnov(n, x))
	}
	var cdf float64
	switch {
	case nxSquared >= 18:
		cdf = 1
	case n <= 100000 && fn*math.Pow(x, 1.5) <= 1.4:
		cdf = kolmogornDMTW(n, x)
	default:
		cdf = kolmogornPelzGood(n, x)
	}
	return clamp01(1 - cdf)
}

// kolmogornDMTW is P(D_n <= d) by the Marsaglia-Tsang-Wang evaluation of
// Durbin's matrix: the k-th diagonal entry of (n!/n^n) H^n, with scaling.
func kolmogornDMTW(n int, d float64) float64 {
	if d >= 1 {
		return 1
	}
	nd := float64(n) * d
	if nd <= 0.5 {
		return 0
	}
	k := int(math.Ceil(nd))
	h := float64(k) - nd
	m := 2*k - 1

	v := make([]float64, m)
	w := make([]float64, m)
	fac := 1.0
	for j := 1; j <= m; j++ {
		w[j-1] = fac
		fac /= float64(j)
		v[j-1] = (1 - math.Pow(h, float64(j))) * fac
	}
	tt := math.Pow(math.Max(2*h-1, 0), float64(m)) - 2*math.Pow(h, float64(m))
	v[m-1] = (1 + tt) * fac

	H := blas64.General{Rows: m, Cols: m, Stride: m, Data: make([]float64, m*m)}
	for i := 1; i < m; i++ {
		// H[i-1:, i] = w[:m-i+1]
		for r := i - 1; r < m; r++ {
			H.Data[r*m+i] = w[r-(i-1)]
		}
	}
	for r := 0; r < m; r++ {
		H.Data[r*m] = v[r]
	}
	for c := 0; c < m; c++ {
		H.Data[(m-1)*m+c] = v[m-1-c]
	}

	pwr := blas64.General{Rows: m, Cols: m, Stride: m, Data: make([]float64, m*m)}
	for i := 0; i < m; i++ {
		pwr.Data[i*m+i] = 1
	}
	tmp := blas64.General{Rows: m, Cols: m, Stride: m, Data: make([]float64, m*m)}
	mul := func(dst, a, b *blas64.General) {
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, *a, *b, 0, tmp)
		copy(dst.Data, tmp.Data)
	}
	expnt, hExpnt := 0, 0
	for nn := n; nn > 0; nn /= 2 {
		if nn%2 == 1 {
			mul(&pwr, &pwr, &H)
			expnt += hExpnt
		}
		mul(&H, &H, &H)
		hExpnt *= 2
		if math.Abs(H.Data[(k-1)*m+k-1]) > ep128 {
			for i := range H.Data {
				H.Data[i] /= ep128
			}
			hExpnt += 128
		}
	}
	p := pwr.Data[(k-1)*m+k-1]
	for i := 1; i <= n; i++ {
		p = float64(i) * p / float64(n)
		if math.Abs(p) < em128 {
			p *= ep128
			expnt -= 128
		}
	}
	if expnt != 0 {
		p = math.Ldexp(p, expnt)
	}
	return clamp01(p)
}

func pomeranzJ1J2(i, n, ll, ceilf, roundf int) (int, int) {
	var j1, j2 int
	if i == 0 {
		j1, j2 = -ll-ceilf-1, ll+ceilf-1
	} else {
		half, odd := (i+1)/2, (i+1)%2
		switch {
		case odd == 0 && half == n+1:
			j1, j2 = n-ll-ceilf-1, n+ll+ceilf-1
		case odd == 0:
			j1, j2 = half-1-ll-roundf-1, half+ll-1+ceilf-1
		default:
			j1, j2 = half-1-ll-1, half+ll+roundf-1
		}
	}
	return max(j1+2, 0), min(j2, n)
}

// kolmogornPomeranz is P(D_n <= x) by Pomeranz's recursion (1974).
func kolmogornPomeranz(n int, x float64) float64 {
	t := float64(n) * x
	ll := int(math.Floor(t))
	f := t - float64(ll)
	g := math.Min(f, 1-f)
	ceilf, roundf := 0, 0
	if f > 0 {
		ceilf = 1
	}
	if f > 0.5 {
		roundf = 1
	}
	npwrs := 2 * (ll + 1)
	gpower := make([]float64, npwrs)
	twogpower := make([]float64, npwrs)
	onem2gpower := make([]float64, npwrs)
	gpower[0], twogpower[0], onem2gpower[0] = 1, 1, 1
	fn := float64(n)
	gOverN, twoGOverN, oneMinusTwoGOverN := g/fn, 2*g/fn, (1-2*g)/fn
	for m := 1; m < npwrs; m++ {
		fm := float64(m)
		gpower[m] = gpower[m-1] * gOverN / fm
		twogpower[m] = twogpower[m-1] * twoGOverN / fm
		onem2gpower[m] = onem2gpower[m-1] * oneMinusTwoGOverN / fm
	}

	v0 := make([]float64, npwrs)
	v1 := make([]float64, npwrs)
	v1[0] = 1
	v0s, v1s := 0, 0
	expnt := 0
	j1, _ := pomeranzJ1J2(0, n, ll, ceilf, roundf)
	for i := 1; i < 2*n+2; i++ {
		k1 := j1
		v0, v1 = v1, v0
		v0s, v1s = v1s, v0s
		clear(v1)
		var j2 int
		j1, j2 = pomeranzJ1J2(i, n, ll, ceilf, roundf)
		pwrs := onem2gpower
		switch {
		case i == 1 || i == 2*n+1:
			pwrs = gpower
		case i%2 == 1:
			pwrs = twogpower
		}
		ln2 := j2 - k1 + 1
		if ln2 <= 0 {
			continue
		}
		// conv = np.convolve(V0[k1-V0s : k1-V0s+ln2], pwrs[:ln2]), of which
		// entries j1-k1 .. j2-k1 become the new row.
		a := v0[min(k1-v0s, npwrs):min(k1-v0s+ln2, npwrs)]
		b := pwrs[:min(ln2, npwrs)]
		convStart, convLen := j1-k1, j2-j1+1
		maxV := 0.0
		for c := 0; c < convLen; c++ {
			idx := convStart + c
			s := 0.0
			for ia := max(0, idx-len(b)+1); ia <= min(idx, len(a)-1); ia++ {
				s += a[ia] * b[idx-ia]
			}
			v1[c] = s
			maxV = math.Max(maxV, s)
		}
		if 0 < maxV && maxV < em128 {
			for c := range v1 {
				v1[c] *= ep128
			}
			expnt -= 128
		}
		v1s = v0s + j1 - k1
	}
	ans := v1[n-v1s]
	for m := 1; m <= n; m++ {
		if math.Abs(ans) > ep128 {
			ans *= em128
			expnt += 128
		}
		ans *= float64(m)
	}
	if expnt != 0 {
		ans = math.Ldexp(ans, expnt)
	}
	return clamp01(ans)
}

// kolmogornPelzGood is the Pelz-Good (1976) approximation to P(D_n <= x).
func kolmogornPelzGood(n int, x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	const (
		piSquared = math.Pi * math.Pi
		piFour    = piSquared * piSquared
		piSix     = piFour * piSquared
	)
	z := math.Sqrt(float64(n)) * x
	z2, z3, z4, z6 := z*z, math.Pow(z, 3), math.Pow(z, 4), math.Pow(z, 6)

	qlog := -piSquared / 8 / z2
	if qlog < minLog {
		return 0
	}
	q := math.Exp(qlog)

	k1a := -z2
	k1b := piSquared / 4
	k2a := 6*z6 + 2*z4
	k2b := (2*z4 - 5*z2) * piSquared / 4
	k2c := piFour * (1 - 2*z2) / 16
	k3d := piSix * (5 - 30*z2) / 64
	k3c := piFour * (-60*z2 + 212*z4) / 16
	k3b := piSquared * (135*z4 - 96*z6) / 4
	k3a := -30*z6 - 90*math.Pow(z, 8)

	var K [4]float64
	maxk := int(math.Ceil(16 * z / math.Pi))
	for k := maxk; k > 0; k-- {
		m := int64(2*k - 1)
		m2, m4, m6 := float64(m*m), float64(m*m*m*m), float64(m*m*m*m*m*m)
		qpower := math.Pow(q, float64(8*k))
		coeffs := [4]float64{
			1.0,
			k1a + k1b*m2,
			k2a + k2b*m2 + k2c*m4,
			k3a + k3b*m2 + k3c*m4 + k3d*m6,
		}
		for i := range K {
			K[i] = K[i]*qpower + coeffs[i]
		}
	}
	den := [4]float64{z, 6 * z4, 72 * math.Pow(z, 7), 6480 * math.Pow(z, 10)}
	for i := range K {
		K[i] = K[i] * q * sqrt2Pi / den[i]
	}

	q = math.Exp(-piSquared / 2 / z2)
	sqrt3z := math.Sqrt(3) * z
	var k2extra, k3extra float64
	for k := maxk; k > 0; k-- {
		ksq := float64(k * k)
		qp := math.Pow(q, ksq)
		kspi := math.Pi * float64(k)
		k2extra += ksq * qp
		k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp
	}
	K[2] += k2extra * (piSquared * sqrt2Pi / (-36 * z3))
	K[3] += k3extra * (piSquared * sqrt2Pi / (216 * z6))
	fn := float64(n)
	K[1] /= math.Sqrt(fn)
	K[2] /= fn
	K[3] /= math.Pow(fn, 1.5)
	return K[0] + K[1] + K[2] + K[3]
}
