package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Figure is one measured quantity over repeated runs.
type Figure struct {
	Unit   string    `json:"unit"`
	Runs   []float64 `json:"runs"`
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	// Spread is (max - min) / median: the relative range of the runs.
	Spread float64 `json:"spread"`
}

// figure summarises runs.
func figure(unit string, runs ...float64) Figure {
	f := Figure{Unit: unit, Runs: runs}
	if len(runs) == 0 {
		f.Median, f.Min, f.Max, f.Spread = math.NaN(), math.NaN(), math.NaN(), math.NaN()
		return f
	}
	s := slices.Clone(runs)
	slices.Sort(s)
	f.Min, f.Max = s[0], s[len(s)-1]
	if len(s)%2 == 1 {
		f.Median = s[len(s)/2]
	} else {
		f.Median = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	if f.Median != 0 {
		f.Spread = (f.Max - f.Min) / math.Abs(f.Median)
	}
	return f
}

// ratio is a over b by their medians.
func ratio(a, b Figure) float64 {
	if b.Median == 0 {
		return math.NaN()
	}
	return a.Median / b.Median
}

// String is "median (min–max) unit".
func (f Figure) String() string {
	if len(f.Runs) == 0 {
		return "–"
	}
	if len(f.Runs) == 1 {
		return num(f.Median) + " " + f.Unit
	}
	return fmt.Sprintf("%s (%s–%s) %s", num(f.Median), num(f.Min), num(f.Max), f.Unit)
}

// num formats a number with about three significant digits.
func num(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "n/a"
	case a == 0:
		return "0"
	case a >= 1e6:
		return thousands(int64(math.Round(v)))
	case a >= 100:
		return thousands(int64(math.Round(v)))
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	case a >= 0.01:
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.2g", v)
}

func thousands(n int64) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// x formats a ratio as "12.3x".
func x(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	return num(r) + "x"
}
