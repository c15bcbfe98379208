package drift

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat"
)

func TestChiSquareTest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ref, cur []int
		p        float64
		stat     float64 // checked when not zero
	}{
		// evidently 0.7.23 _chi_stat_test on categorical series with these
		// counts; stat is scipy 1.17.1 chisquare([12,18,40], f_exp=[10,20,30]*70/60).
		{"three values", []int{10, 20, 30}, []int{12, 18, 40}, 0.37854187754140073, 1.9428571428571422},
		// evidently 0.7.23 _chi_stat_test on inputs cat-chi-ref, cat-chi-cur
		// (keys "1", "10", "2", "7").
		{"districts", []int{281, 62, 216, 141}, []int{340, 127, 248, 185}, 3.989992991417719e-07, 0},
		// evidently 0.7.23 _chi_stat_test on cat-chi-ref, cat-new-cur: "18" is
		// new in the current sample.
		{"value absent from reference", []int{281, 62, 0, 216, 141}, []int{351, 99, 3, 263, 184}, 0, math.Inf(1)},
		// scipy 1.17.1 chisquare([7], [7.0]): no degrees of freedom.
		{"one value", []int{5}, []int{7}, math.NaN(), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stat, p := ChiSquareTest(tt.ref, tt.cur)
			if !near(p, tt.p, 1e-13) {
				t.Errorf("p = %v, want %v", p, tt.p)
			}
			if tt.stat != 0 && !near(stat, tt.stat, 1e-14) {
				t.Errorf("stat = %v, want %v", stat, tt.stat)
			}
		})
	}
}

func TestZTest(t *testing.T) {
	t.Parallel()
	// Every want is evidently 0.7.23 _z_stat_test on categorical series with
	// these counts of the first and second value.
	tests := []struct {
		name     string
		ref, cur []int
		p        float64
	}{
		{"cat-z inputs", []int{161, 139}, []int{159, 191}, 0.036230137188990374},
		{"close shares", []int{40, 60}, []int{45, 55}, 0.4744863711713396},
		{"small samples", []int{3, 2}, []int{1, 9}, 0.03898861209635851},
		{"same single value", []int{5, 0}, []int{7, 0}, 1},
		{"different single values", []int{5, 0}, []int{0, 7}, 0.0005320055051392103},
		{"p underflows to 0", []int{1000, 0}, []int{0, 1000}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, p := ZTest(tt.ref, tt.cur); !near(p, tt.p, 1e-12) {
				t.Errorf("p = %v, want %v", p, tt.p)
			}
			// Swapping the coding of the two values changes nothing.
			rev := func(x []int) []int { return []int{x[1], x[0]} }
			if _, p := ZTest(rev(tt.ref), rev(tt.cur)); !near(p, tt.p, 1e-12) {
				t.Errorf("p with the values swapped = %v, want %v", p, tt.p)
			}
		})
	}
}

func TestJensenShannonDistance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ref, cur []float64
		want     float64
	}{
		// scipy 1.17.1 spatial.distance.jensenshannon(ref, cur).
		{"shares", []float64{0.1, 0.4, 0.5}, []float64{0.8, 0.15, 0.05}, 0.5396858721757166},
		{"zeros", []float64{0.5, 0.5, 0}, []float64{0, 0.1, 0.9}, 0.7469797975180145},
		{"normalised first", []float64{1, 2, 3}, []float64{3, 2, 1}, 0.29531004717204934},
		{"identical", []float64{0.2, 0.8}, []float64{0.2, 0.8}, 0},
		// evidently 0.7.23 _jensenshannon on categorical series with counts
		// {0, 30, 70} and {20, 30, 50}: zero shares are not replaced.
		{"evidently zero share", shares([]int{0, 30, 70}, 100), shares([]int{20, 30, 50}, 100), 0.27872399752630966},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := JensenShannonDistance(tt.ref, tt.cur); !near(got, tt.want, 1e-14) {
				t.Errorf("JensenShannonDistance = %v, want %v", got, tt.want)
			}
			// gonum's stat.JensenShannon is the divergence of normalised
			// inputs; the distance is its square root.
			p, q := normalised(tt.ref), normalised(tt.cur)
			if g := math.Sqrt(stat.JensenShannon(p, q)); !near(g, tt.want, 1e-12) {
				t.Errorf("sqrt(gonum stat.JensenShannon) = %v, want %v", g, tt.want)
			}
		})
	}
}

func normalised(x []float64) []float64 {
	s := sumFloats(x)
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = v / s
	}
	return y
}

func TestPopulationStabilityIndex(t *testing.T) {
	t.Parallel()
	// Every want is evidently 0.7.23 _psi on categorical series with these
	// counts; shares are counts / sample length, as get_binned_data makes them.
	tests := []struct {
		name     string
		ref, cur []int
		want     float64
	}{
		{"no zeros", []int{10, 40, 50}, []int{80, 15, 5}, 2.7369796842761374},
		{"zero replaced by 1e-4", []int{0, 30, 70}, []int{20, 30, 50}, 1.586714848986705},
		{"zero replaced by min/1e6", []int{0, 1, 19999}, []int{1, 1, 0}, 25.32654395995896},
		{"identical", []int{5, 5}, []int{5, 5}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, cur := shares(tt.ref, sumInts(tt.ref)), shares(tt.cur, sumInts(tt.cur))
			before := append([]float64(nil), ref...)
			if got := PopulationStabilityIndex(ref, cur); !near(got, tt.want, 1e-13) {
				t.Errorf("PopulationStabilityIndex = %v, want %v", got, tt.want)
			}
			for i := range ref {
				if ref[i] != before[i] {
					t.Fatalf("PopulationStabilityIndex modified its argument: %v, was %v", ref, before)
				}
			}
		})
	}
}
