package drift

import (
	"testing"

	"gonum.org/v1/gonum/stat"
)

func TestWasserstein(t *testing.T) {
	t.Parallel()
	// dist is scipy 1.17.1 stats.wasserstein_distance(ref, cur); normed is
	// evidently 0.7.23 _wasserstein_distance_norm(ref, cur) on float series.
	tests := []struct {
		name         string
		ref, cur     []float64
		dist, normed float64
	}{
		{"disjoint", []float64{0, 1, 3}, []float64{5, 6, 8}, 5.0, 4.0089186286863665},
		{"ties", []float64{0, 1, 1, 2, 2, 2, 5}, []float64{1, 1, 3, 3, 4}, 0.8285714285714284, 0.5687367919007337},
		{"one-value reference, norm floor 0.001", []float64{3.5}, []float64{1.0, 2.0, 2.0, 9.0}, 2.75, 2750.0},
		{"wide range", []float64{-1e6, 0, 1e6}, []float64{-1e6, 1, 1e6}, 0.3333333333333333, 4.08248290463863e-07},
		{"constant reference", []float64{2, 2, 2, 2, 2}, []float64{2, 2, 2.001, 2}, 0.00024999999999997247, 0.24999999999997247},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, cur := sorted(tt.ref), sorted(tt.cur)
			if got := WassersteinDistance(ref, cur); !near(got, tt.dist, 1e-14) {
				t.Errorf("WassersteinDistance = %v, want %v", got, tt.dist)
			}
			if got := NormedWasserstein(ref, cur); !near(got, tt.normed, 1e-14) {
				t.Errorf("NormedWasserstein = %v, want %v", got, tt.normed)
			}
			// gonum's quadratic implementation agrees on small samples.
			if g := stat.WassersteinDistance(tt.ref, tt.cur, nil, nil); !near(g, tt.dist, 1e-12) {
				t.Errorf("gonum stat.WassersteinDistance = %v, want %v", g, tt.dist)
			}
		})
	}
}

func TestWassersteinGenerated(t *testing.T) {
	t.Parallel()
	// dist is scipy 1.17.1 stats.wasserstein_distance(ref, cur); normed is
	// evidently 0.7.23 _wasserstein_distance_norm(ref, cur), on the
	// generated inputs named.
	tests := []struct {
		ref, cur     string
		dist, normed float64
	}{
		{"wass-ref", "wass-cur", 2.0619699999999996, 0.20342937641160494},
		{"large-ref", "large-cur", 0.003293121397947514, 0.003304178806999879},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			if testing.Short() && tt.ref == "large-ref" {
				t.Skip("1.1M values")
			}
			ref, cur := sorted(numericInputs[tt.ref]()), sorted(numericInputs[tt.cur]())
			if got := WassersteinDistance(ref, cur); !near(got, tt.dist, 1e-12) {
				t.Errorf("WassersteinDistance = %v, want %v", got, tt.dist)
			}
			if got := NormedWasserstein(ref, cur); !near(got, tt.normed, 1e-12) {
				t.Errorf("NormedWasserstein = %v, want %v", got, tt.normed)
			}
		})
	}
}
