package driftcheck

import (
	"slices"
	"strings"

	"github.com/claimrisk/claimrisk/shared/predlog"
)

// frame is logged predictions column by column, holding only what a check
// tests: each of FeatureColumns, the probability and the customer's
// protected group (for fairness). A categorical column and the group are
// held as codes into their own lists of values, so a frame has no pointer
// per row for the collector to scan: about 70 bytes a row, where a
// predlog.Row takes 206 bytes and five strings.
type frame struct {
	n           int
	numbers     [][]float64         // by FeatureColumns index; nil for a categorical column
	codes       [][]uint32          // by FeatureColumns index; nil for a numeric column
	values      [][]string          // a categorical column's values, by code
	index       []map[string]uint32 // a string column's codes, by value
	byCode      []map[int]uint32    // an integer-coded column's codes, by its code
	probability []float64
	group       []uint32          // codes into groups
	groups      []string          // a handful: F, M and none
	groupOf     map[string]string // the customers' groups, by customer key
}

// frameColumns are the payload log's columns a frame and readWindow read:
// the tested features, the probability, the customer (for the group), and
// the time and model version that choose the rows.
var frameColumns = func() []string {
	names := []string{"time", "model_version", "customer_id", PredictionColumn.Name}
	for _, c := range FeatureColumns {
		names = append(names, c.Name)
	}
	return names
}()

// newFrame is an empty frame for about capacity rows; groupOf gives each
// customer's protected group (nil leaves every row's group empty).
func newFrame(capacity int, groupOf map[string]string) *frame {
	f := &frame{
		numbers: make([][]float64, len(FeatureColumns)), codes: make([][]uint32, len(FeatureColumns)),
		values: make([][]string, len(FeatureColumns)), index: make([]map[string]uint32, len(FeatureColumns)),
		byCode:      make([]map[int]uint32, len(FeatureColumns)),
		probability: make([]float64, 0, capacity), group: make([]uint32, 0, capacity),
		groupOf: groupOf,
	}
	for i, c := range FeatureColumns {
		switch {
		case c.Code != nil:
			f.codes[i], f.byCode[i] = make([]uint32, 0, capacity), map[int]uint32{}
		case c.Categorical:
			f.codes[i], f.index[i] = make([]uint32, 0, capacity), map[string]uint32{}
		default:
			f.numbers[i] = make([]float64, 0, capacity)
		}
	}
	return f
}

// frameOf is rows as a frame.
func frameOf(rows []predlog.Row) *frame {
	f := newFrame(len(rows), nil)
	for i := range rows {
		f.add(&rows[i])
	}
	return f
}

// add appends a row's tested columns.
func (f *frame) add(r *predlog.Row) {
	for i := range FeatureColumns {
		c := &FeatureColumns[i]
		switch {
		case !c.Categorical:
			f.numbers[i] = push(f.numbers[i], c.Number(r))
		case c.Code != nil:
			code, ok := f.byCode[i][c.Code(r)]
			if !ok {
				code = f.newValue(i, c.Category(r))
				f.byCode[i][c.Code(r)] = code
			}
			f.codes[i] = push(f.codes[i], code)
		default:
			f.codes[i] = push(f.codes[i], f.code(i, c.Category(r)))
		}
	}
	f.probability = push(f.probability, r.Probability)
	g := f.groupOf[r.CustomerID]
	k := slices.Index(f.groups, g)
	if k < 0 {
		k = len(f.groups)
		f.groups = append(f.groups, g)
	}
	f.group = push(f.group, uint32(k))
	f.n++
}

// push appends v to s, doubling s's capacity when it is full: append grows
// a slice this long by about a quarter, so a window's columns would be
// copied some four times over as they grow.
func push[T any](s []T, v T) []T {
	if len(s) == cap(s) {
		s = slices.Grow(s, max(len(s), 1024))
	}
	return append(s, v)
}

// code is the code of value v of string column i. A column with a few
// values, as every tested one has, finds it in its list faster than in a
// map: most values differ from v in their length or first byte.
func (f *frame) code(i int, v string) uint32 {
	if len(f.values[i]) <= 16 {
		if k := slices.Index(f.values[i], v); k >= 0 {
			return uint32(k)
		}
	} else if code, ok := f.index[i][v]; ok {
		return code
	}
	v = strings.Clone(v)
	code := f.newValue(i, v)
	f.index[i][v] = code
	return code
}

// newValue gives categorical column i's next code to v.
func (f *frame) newValue(i int, v string) uint32 {
	f.values[i] = append(f.values[i], v)
	return uint32(len(f.values[i]) - 1)
}

// counts is how many rows hold each of categorical column i's values.
func (f *frame) counts(i int) map[string]int {
	byCode := make([]int, len(f.values[i]))
	for _, code := range f.codes[i] {
		byCode[code]++
	}
	out := make(map[string]int, len(byCode))
	for code, v := range f.values[i] {
		out[v] += byCode[code]
	}
	return out
}
