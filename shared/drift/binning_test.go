package drift

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
)

func TestSturgesEdges(t *testing.T) {
	t.Parallel()
	// Every want is numpy 2.4.6 histogram_bin_edges(a, bins="sturges") for an
	// array a with this minimum, maximum, size and dtype; "bins" is
	// len(edges)-1 and first, second and last pin the ends.
	tests := []struct {
		name          string
		lo, hi        float64
		n             int
		integer       bool
		bins          int
		first, second float64
		penult, last  float64
	}{
		{"hist inputs combined", -3.7489999389667337, 3.9048001488489477, 7000, false, 14, -3.7489999389667337, -3.202299932694185, 3.3581001425763986, 3.9048001488489477},
		{"n a power of two", 0, 1, 1024, false, 11, 0, 0.09090909090909091, 0.9090909090909092, 1},
		{"n 1023", 0, 378.14, 1023, false, 11, 0, 34.376363636363635, 343.76363636363635, 378.14},
		{"constant", 3, 3, 10, false, 1, 2.5, 3.5, 2.5, 3.5},
		{"two values", 0, 1, 2, false, 2, 0, 0.5, 0.5, 1},
		{"negative", -5.5, 10, 7, false, 4, -5.5, -1.625, 6.125, 10},
		{"integer dtype widens bins to 1", 0, 19, 600000, true, 19, 0, 1, 18, 19},
		{"same values as float64", 0, 19, 600000, false, 21, 0, 0.9047619047619048, 18.095238095238095, 19},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := SturgesEdges(tt.lo, tt.hi, tt.n, tt.integer)
			if err != nil {
				t.Fatalf("SturgesEdges: %v", err)
			}
			if len(e)-1 != tt.bins {
				t.Fatalf("%d bins, want %d", len(e)-1, tt.bins)
			}
			got := []float64{e[0], e[1], e[len(e)-2], e[len(e)-1]}
			want := []float64{tt.first, tt.second, tt.penult, tt.last}
			if !slices.Equal(got, want) {
				t.Errorf("edges first, second, penultimate, last = %v, want %v", got, want)
			}
		})
	}
	t.Run("all edges", func(t *testing.T) {
		// numpy 2.4.6 histogram_bin_edges of the concatenated hist inputs.
		want := []float64{-3.7489999389667337, -3.202299932694185, -2.6555999264216363, -2.1088999201490877, -1.562199913876539, -1.0154999076039903, -0.46879990133144167, 0.077900104941107, 0.6246001112136557, 1.1713001174862039, 1.718000123758753, 2.264700130031302, 2.8114001363038503, 3.3581001425763986, 3.9048001488489477}
		got, _ := SturgesEdges(-3.7489999389667337, 3.9048001488489477, 7000, false)
		if !slices.Equal(got, want) {
			t.Errorf("edges = %v, want %v", got, want)
		}
	})
	t.Run("range too narrow", func(t *testing.T) {
		// numpy 2.4.6 histogram_bin_edges of 500 copies each of 1e16 and
		// 1e16+4 raises "ValueError: Too many bins for data range. Cannot
		// create 11 finite-sized bins."
		_, err := SturgesEdges(1e16, 1e16+4, 1000, false)
		if !errors.Is(err, ErrBinning) {
			t.Errorf("err = %v, want ErrBinning", err)
		}
	})
}

func TestHistogram(t *testing.T) {
	t.Parallel()
	// numpy 2.4.6 histogram(x, edges)[0]: the last bin is closed, so 4 is
	// counted; -1 and 5 lie outside the edges.
	x := []float64{-1, 0, 0.5, 1, 1, 2.999, 3, 4, 4, 5}
	edges := []float64{0, 1, 3, 4}
	want := []int{2, 3, 3}
	if got := histogram(nil, x, edges); !slices.Equal(got, want) {
		t.Errorf("histogram = %v, want %v", got, want)
	}
}

func TestQuantile7(t *testing.T) {
	t.Parallel()
	x := []float64{-3.5, -1.0, 0.5, 2.0, 2.0, 3.2, 4.75, 7.125, 10.0}
	// numpy 2.4.6 quantile(x, q), method="linear".
	tests := []struct {
		q, want float64
	}{
		{0, -3.5}, {0.1, -1.5}, {0.25, 0.5}, {0.3, 1.0999999999999999}, {0.5, 2.0},
		{0.7, 4.13}, {0.75, 4.75}, {0.9, 7.7}, {0.99, 9.77}, {1, 10.0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("x/", tt.q), func(t *testing.T) {
			if got := Quantile7(x, tt.q); got != tt.want {
				t.Errorf("Quantile7(x, %v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
	t.Run("one value", func(t *testing.T) {
		// numpy 2.4.6 quantile([4.2], 0.3).
		if got := Quantile7([]float64{4.2}, 0.3); got != 4.2 {
			t.Errorf("Quantile7([4.2], 0.3) = %v, want 4.2", got)
		}
	})
	// numpy 2.4.6 quantile(hist-ref, q).
	h := sorted(numericInputs["hist-ref"]())
	for _, tt := range []struct{ q, want float64 }{
		{0.01, -2.3327402954719796}, {0.05, -1.6737179681304724}, {0.5, -0.0004884748187226617},
		{0.95, 1.6541163416454678}, {0.999, 3.186798707489477},
	} {
		t.Run(fmt.Sprint("hist-ref/", tt.q), func(t *testing.T) {
			if got := Quantile7(h, tt.q); got != tt.want {
				t.Errorf("Quantile7(hist-ref, %v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestQuantile7Panics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		x    []float64
		q    float64
	}{
		{"empty", nil, 0.5},
		{"q above 1", []float64{1, 2}, 1.5},
		{"q NaN", []float64{1, 2}, math.NaN()},
		{"unsorted", []float64{2, 1}, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Quantile7(%v, %v) did not panic", tt.x, tt.q)
				}
			}()
			Quantile7(tt.x, tt.q)
		})
	}
}
