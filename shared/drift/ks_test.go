package drift

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// near reports whether got is within rel relative error of want (or both
// are zero, or both NaN).
func near(got, want, rel float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	if got == want {
		return true
	}
	return math.Abs(got-want) <= rel*math.Abs(want)
}

func sorted(x []float64) []float64 {
	y := slices.Clone(x)
	slices.Sort(y)
	return y
}

func TestKolmogorovSmirnovSmall(t *testing.T) {
	t.Parallel()
	// Every want is scipy 1.17.1 stats.ks_2samp(x, y) (method="auto"),
	// statistic and pvalue.
	tests := []struct {
		name  string
		x, y  []float64
		d, p  float64
		exact bool // p must match to the last bit
	}{
		{
			name:  "equal sizes (prob outside square)",
			x:     []float64{0.61, 0.29, 0.06, 0.59, -1.73, -0.74, 0.51, -0.56, 0.39, 1.64},
			y:     []float64{0.22, 2.17, 0.14, 1.15, -0.34, 2.55, 0.62, 1.45, 0.84, 1.34},
			d:     0.6,
			p:     0.05244755244755244,
			exact: true,
		},
		{
			name: "unequal sizes with ties (inside method)",
			x:    []float64{1, 2, 2, 3, 3, 3, 4, 5},
			y:    []float64{2, 3, 3, 4, 4, 5, 6, 6, 7, 8, 9},
			d:    0.4772727272727273,
			p:    0.17817734381201875,
		},
		{
			name: "identical samples",
			x:    []float64{1.5, 2.5, 3.5},
			y:    []float64{1.5, 2.5, 3.5},
			d:    0,
			p:    1,
		},
		{
			name: "one value each",
			x:    []float64{0},
			y:    []float64{1},
			d:    1,
			p:    1,
		},
		{
			name: "disjoint",
			x:    []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
			y:    []float64{11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25},
			d:    1,
			p:    6.118528126873799e-07,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, p := KolmogorovSmirnov(sorted(tt.x), sorted(tt.y))
			if d != tt.d {
				t.Errorf("d = %v, want %v", d, tt.d)
			}
			rel := 1e-13
			if tt.exact {
				rel = 0
			}
			if !near(p, tt.p, rel) {
				t.Errorf("p = %v, want %v", p, tt.p)
			}
		})
	}
}

func TestKolmogorovSmirnovGenerated(t *testing.T) {
	t.Parallel()
	// Every want is scipy 1.17.1 stats.ks_2samp(ref, cur) (method="auto") on
	// the generated inputs named.
	tests := []struct {
		ref, cur string
		d, p     float64
		path     string
	}{
		{"ks-exact-ref", "ks-exact-cur", 0.158, 0.00015194380412582718, "exact, 300 vs 500"},
		{"ks-ties-ref", "ks-ties-cur", 0.03, 0.7593695685682871, "exact, equal sizes, ties"},
		{"ks-edge-ref", "ks-edge-cur10000", 0.0372, 0.1582177989798526, "exact at max size 10000"},
		{"ks-edge-ref", "ks-edge-cur10001", 0.03716768323167685, 0.15822460598588362, "asymptotic, kstwo n=909, Pelz-Good"},
		{"ks-small-ref", "ks-small-cur", 0.25145000000000006, 0.002842748841946019, "asymptotic, kstwo n=50, Pomeranz"},
		{"large-ref", "large-cur", 0.002152000000000015, 0.7929357283052778, "asymptotic, kstwo n=90909, Pelz-Good"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if testing.Short() && tt.ref == "large-ref" {
				t.Skip("1.1M values")
			}
			x, y := sorted(numericInputs[tt.ref]()), sorted(numericInputs[tt.cur]())
			d, p := KolmogorovSmirnov(x, y)
			if !near(d, tt.d, 1e-15) {
				t.Errorf("d = %v, want %v", d, tt.d)
			}
			if !near(p, tt.p, 1e-12) {
				t.Errorf("p = %v, want %v", p, tt.p)
			}
			// gonum computes the same statistic, up to its cumulative sums
			// of 1/n.
			if g := stat.KolmogorovSmirnov(x, nil, y, nil); !near(g, d, 1e-9) {
				t.Errorf("gonum stat.KolmogorovSmirnov = %v, ours %v", g, d)
			}
		})
	}
}

func TestKolmogorovSmirnovPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		x, y []float64
	}{
		{"empty", nil, []float64{1}},
		{"unsorted", []float64{2, 1}, []float64{1}},
		{"NaN", []float64{1, math.NaN()}, []float64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("KolmogorovSmirnov(%v, %v) did not panic", tt.x, tt.y)
				}
			}()
			KolmogorovSmirnov(tt.x, tt.y)
		})
	}
}

// TestKSTwoAndSmirnov checks the asymptotic distribution on every branch of
// scipy's _kolmogn (for the sf) and of xsf's _smirnov.
func TestKSTwoAndSmirnov(t *testing.T) {
	t.Parallel()
	// kstwo is scipy 1.17.1 stats.kstwo.sf(x, n); smirnov is scipy 1.17.1
	// special.smirnov(n, x). The comments name the branch taken.
	tests := []struct {
		n              int
		x              float64
		kstwo, smirnov float64
	}{
		{1, 0.01, 1.0, 0.99},   // kstwo: support; smirnov: n=1
		{1, 0.51, 0.98, 0.49},  // kstwo: ruben-gambino-low-prod; smirnov: n=1
		{1, 0.6, 0.8, 0.4},     // kstwo: ruben-gambino-low-prod; smirnov: n=1
		{2, 0.01, 1.0, 0.9899}, // kstwo: support; smirnov: x<=1/n
		{2, 0.255, 0.9998, 0.679975},
		{2, 0.3, 0.98, 0.61},          // kstwo: ruben-gambino-low-prod; smirnov: x<=1/n
		{2, 0.505, 0.49005, 0.245025}, // kstwo: ruben-gambino-high; smirnov: x>=1-1/n
		{2, 0.6, 0.32000000000000006, 0.16000000000000003},
		{3, 0.33666666666666667, 0.7688671111111112, 0.401863037037037}, // kstwo: dmtw-small-n; smirnov: lower-sum
		{3, 0.4, 0.5946666666666665, 0.3013333333333333},
		{3, 0.5, 0.3333333333333333, 0.16666666666666666}, // kstwo: 2smirnov-x>=0.5; smirnov: lower-sum
		{3, 0.501313238737352, 0.33027601705599546, 0.16513800852799773},
		{4, 0.45, 0.29290000000000005, 0.14651874999999998}, // kstwo: pomeranz; smirnov: lower-sum
		{4, 0.49, 0.20478384000000016, 0.10239203},
		{10, 0.101, 0.9995670338682896, 0.7609097687315276}, // kstwo: dmtw-small-n; smirnov: upper-sum
		{10, 0.15, 0.95396527, 0.5831277144961914},
		{20, 0.49, 5.954371796746067e-05, 2.9771858983730333e-05}, // kstwo: 2smirnov-small-n; smirnov: lower-sum
		{50, 0.3, 0.00017353260202718738, 8.676630101359369e-05},
		{140, 0.05, 0.8576480297656114, 0.4806544721283515},        // kstwo: dmtw-small-n
		{140, 0.1, 0.11353657290090946, 0.05677796337203063},       // kstwo: pomeranz
		{140, 0.2, 2.1981563302200222e-05, 1.0990781651100111e-05}, // kstwo: 2smirnov-small-n
		{141, 0.002127659574468085, 1.0, 0.9971349709549548},       // kstwo: support; smirnov: x<=1/n
		{141, 0.003617021276595745, 1.0, 0.9940038342853257},       // kstwo: ruben-gambino-low-stirling
		{141, 0.004210759605332595, 1.0, 0.99241697843673},
		{141, 0.007163120567375887, 1.0, 0.9806153206667968},                // kstwo: dmtw; smirnov: upper-sum
		{141, 0.025264557631995567, 0.9999737264249865, 0.8215383555619304}, // kstwo: dmtw; smirnov: lower-sum
		{141, 0.03546099290780142, 0.9917287760949992, 0.6853824691139383},
		{141, 0.05, 0.854845693009663, 0.47825576606563275}, // kstwo: pelz-good
		{141, 0.05895063447465632, 0.6887100401465364, 0.3611290875647633},
		{141, 0.12632278815997786, 0.020234604650559814, 0.010117302325279907}, // kstwo: 2smirnov
		{141, 0.14316582658130822, 0.005515250960112069, 0.0027576254800560345},
		{141, 0.5, 4.034017661079683e-33, 2.0170088305398415e-33}, // kstwo: 2smirnov-x>=0.5
		{141, 0.6, 4.550154415759682e-49, 2.275077207879841e-49},
		{141, 0.9929078014184397, 1.8244632139623947e-303, 9.122316069811974e-304}, // kstwo: ruben-gambino-high; smirnov: x>=1-1/n
		{141, 0.9964539007092199, 0.0, 0.0},
		{500, 0.9, 0.0, 0.0},                                                      // smirnov: underflow
		{500, 0.999, 0.0, 0.0},                                                    // kstwo: ruben-gambino-high
		{1000, 0.01, 0.9999496745370611, 0.8133237754763678},                      // kstwo: dmtw
		{1000, 0.02, 0.8108971656895577, 0.44342498843949424},                     // kstwo: pelz-good
		{1000, 0.043, 0.04811098765192656, 0.024055817823477488},                  // kstwo: pelz-good, near 0.05
		{1000, 0.05, 0.013012074781090332, 0.006506037390545166},                  // kstwo: 2smirnov
		{4000, 0.31622776601683794, 0.0, 0.0},                                     // kstwo: zero (n x^2 >= 370)
		{5000, 0.025, 0.0037948405200437306, 0.0018974202600218653},               // kstwo: 2smirnov
		{90909, 0.002152000000000015, 0.7929357283052778, 0.43022302494917186},    // kstwo: pelz-good
		{90909, 0.0008, 0.9999999929425707, 0.8896771945797317},                   // kstwo: pelz-good
		{100000, 0.0003, 1.0, 0.981964658974839},                                  // kstwo: dmtw
		{100001, 1.009989900100999e-05, 1.0, 0.999972372142582},                   // smirnov: upper-sum
		{1000001, 1.00999899000101e-06, 1.0, 0.9999972309177141},                  // smirnov: approx (n > 1e6)
		{1000001, 0.0014999992500005625, 0.0221957849667025, 0.01109789248335125}, // kstwo: 2smirnov; smirnov: approx
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n=%d,x=%g", tt.n, tt.x), func(t *testing.T) {
			if got := kstwoSF(tt.n, tt.x); !near(got, tt.kstwo, 2e-12) {
				t.Errorf("kstwoSF(%d, %v) = %v, want %v", tt.n, tt.x, got, tt.kstwo)
			}
			if got := smirnov(tt.n, tt.x); !near(got, tt.smirnov, 1e-12) {
				t.Errorf("smirnov(%d, %v) = %v, want %v", tt.n, tt.x, got, tt.smirnov)
			}
		})
	}
}
