package features

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/claimrisk/claimrisk/shared/parallel"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// Spec describes a feature set as fitted: the features in column order,
// the centre and scale that standardise them, and for the accident set the
// area figures that serving joins.
type Spec struct {
	Set    string    `json:"set"`
	Names  []string  `json:"names"`
	Center []float64 `json:"center"`
	Scale  []float64 `json:"scale"`
	// Areas maps a district (as a string) to its latest accident figures.
	Areas map[string]Accident `json:"areas,omitempty"`
	// AreasAsOf is the last month of accident data behind Areas.
	AreasAsOf string `json:"areas_as_of,omitempty"`
}

// NewSpec fits the standardisation of set on the training examples and, for
// the accident set, records the latest area figures from idx.
func NewSpec(set string, train []Example, idx *AccidentIndex) (Spec, error) {
	defs, err := definitions(set)
	if err != nil {
		return Spec{}, err
	}
	if len(train) == 0 {
		return Spec{}, fmt.Errorf("features: no training examples")
	}
	s := Spec{Set: set}
	// One pass over the examples per core, each for its share of the
	// features (each example is a couple of hundred bytes; a pass per
	// feature read them all 17 times). Each feature's sums are still taken
	// in example order, so the centres and scales do not depend on the
	// number of cores.
	sum, sq := make([]float64, len(defs)), make([]float64, len(defs))
	parallel.PerCore(len(defs), func(lo, hi int) {
		// Sums of its own, not shared cache lines, until the pass ends.
		s, q := make([]float64, hi-lo), make([]float64, hi-lo)
		for i := range train {
			ex := &train[i]
			for j := lo; j < hi; j++ {
				v := defs[j].f(ex.Record, ex.Accident)
				s[j-lo] += v
				q[j-lo] += v * v
			}
		}
		copy(sum[lo:hi], s)
		copy(sq[lo:hi], q)
	})
	for j, d := range defs {
		n := float64(len(train))
		mean := sum[j] / n
		sd := math.Sqrt(math.Max(sq[j]/n-mean*mean, 0))
		if sd < 1e-9 {
			sd = 1 // a constant column; the penalty keeps its coefficient at zero
		}
		s.Names = append(s.Names, d.name)
		s.Center = append(s.Center, mean)
		s.Scale = append(s.Scale, sd)
	}
	if set == SetAccident && idx != nil {
		s.Areas = map[string]Accident{}
		for area, a := range idx.Latest() {
			s.Areas[strconv.Itoa(area)] = a
		}
		s.AreasAsOf = idx.LastMonth().Format("2006-01")
	}
	return s, nil
}

// Design is a Spec ready to compute rows.
type Design struct {
	Spec
	defs []raw
	// areas holds the accident figures by area number (nil for sets
	// without them): a slice, not a map, since every record scored looks
	// its area up.
	areas []Accident
}

// Design checks the spec and prepares it for use.
func (s Spec) Design() (*Design, error) {
	defs, err := definitions(s.Set)
	if err != nil {
		return nil, err
	}
	if len(s.Names) != len(defs) || len(s.Center) != len(defs) || len(s.Scale) != len(defs) {
		return nil, fmt.Errorf("features: spec %q has %d names, %d centres and %d scales; this version computes %d features",
			s.Set, len(s.Names), len(s.Center), len(s.Scale), len(defs))
	}
	for i, d := range defs {
		if s.Names[i] != d.name {
			return nil, fmt.Errorf("features: spec %q column %d is %q; this version computes %q there", s.Set, i, s.Names[i], d.name)
		}
		if !finite(s.Center[i]) || !finite(s.Scale[i]) || s.Scale[i] <= 0 {
			return nil, fmt.Errorf("features: spec %q: %s has centre %v and scale %v", s.Set, d.name, s.Center[i], s.Scale[i])
		}
	}
	d := &Design{Spec: s, defs: defs}
	if s.Set == SetAccident {
		d.areas = make([]Accident, slices.Max(schema.Areas)+1)
		for _, area := range schema.Areas {
			a, ok := s.Areas[strconv.Itoa(area)]
			if !ok || !finite(a.CrashRate) || !finite(a.InjuryShare) {
				return nil, fmt.Errorf("features: spec has no accident figures for area %d", area)
			}
			d.areas[area] = a
		}
	}
	return d, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Field is the request field feature i derives from ("home_area" for the
// accident figures joined by district, "legacy_risk_factor" for the legacy
// formula of age, experience, use and mileage).
func (d *Design) Field(i int) string { return d.defs[i].field }

// Width is the number of features (without the intercept).
func (d *Design) Width() int { return len(d.defs) }

// AccidentFor is the accident figures serving joins to a record: the
// latest known for its area (zero for sets that use none).
func (d *Design) AccidentFor(r schema.PolicyRecord) Accident {
	if uint(r.HomeArea) < uint(len(d.areas)) {
		return d.areas[r.HomeArea]
	}
	return Accident{}
}

// Raw writes the unstandardised feature values of r into dst.
func (d *Design) Raw(dst []float64, r schema.PolicyRecord, a Accident) {
	for i, def := range d.defs {
		dst[i] = def.f(r, a)
	}
}

// Row writes the standardised feature values of r into dst.
func (d *Design) Row(dst []float64, r schema.PolicyRecord, a Accident) {
	for i, def := range d.defs {
		dst[i] = (def.f(r, a) - d.Center[i]) / d.Scale[i]
	}
}

// Matrix builds the standardised design of examples, row-major, n by Width.
// The rows are computed on all cores.
func (d *Design) Matrix(examples []Example) []float64 {
	p := d.Width()
	x := make([]float64, len(examples)*p)
	parallel.For(len(examples), parallel.Rows, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ex := &examples[i] // not a copy of each example
			d.Row(x[i*p:(i+1)*p], ex.Record, ex.Accident)
		}
	})
	return x
}

// Matrix32 is Matrix in float32, for fitting: half the memory of a large
// design. Each row is computed in float64 and rounded once.
func (d *Design) Matrix32(examples []Example) []float32 {
	p := d.Width()
	x := make([]float32, len(examples)*p)
	parallel.For(len(examples), parallel.Rows, func(lo, hi int) {
		row := make([]float64, p)
		for i := lo; i < hi; i++ {
			ex := &examples[i]
			d.Row(row, ex.Record, ex.Accident)
			for j, v := range row {
				x[i*p+j] = float32(v)
			}
		}
	})
	return x
}

// Labels are the examples' outcomes as 0 and 1.
func Labels(examples []Example) []float64 {
	y := make([]float64, len(examples))
	for i, ex := range examples {
		y[i] = indicator(ex.Claim)
	}
	return y
}

// SplitByYear separates the examples starting in the last year from the rest.
func SplitByYear(examples []Example, validYear int) (train, valid []Example) {
	n := 0
	for _, ex := range examples {
		if ex.Start.Year() >= validYear {
			n++
		}
	}
	// Sized once: examples are large, and growing the slices copied each
	// one several times (a second of a 1M-policy training).
	train, valid = make([]Example, 0, len(examples)-n), make([]Example, 0, n)
	for _, ex := range examples {
		if ex.Start.Year() >= validYear {
			valid = append(valid, ex)
		} else {
			train = append(train, ex)
		}
	}
	return train, valid
}

// Window is a span of policy start dates.
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// WindowOf spans the examples' start dates.
func WindowOf(examples []Example) Window {
	var w Window
	for i, ex := range examples {
		if i == 0 || ex.Start.Before(w.From) {
			w.From = ex.Start
		}
		if i == 0 || ex.Start.After(w.To) {
			w.To = ex.Start
		}
	}
	return w
}
