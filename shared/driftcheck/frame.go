package driftcheck

import (
	"github.com/claimrisk/claimrisk/shared/predlog"
)

// frame is logged predictions column by column, holding only what a check
// tests: each of FeatureColumns, the probability and the customer (for
// fairness). A categorical column is held as codes into its own list of
// values, so a frame has no pointer per row but the customer's: about 80
// bytes a row and the customer's id, where a predlog.Row takes 206 bytes
// and its strings, every one of them for the collector to scan.
type frame struct {
	n           int
	numbers     [][]float64 // by FeatureColumns index; nil for a categorical column
	codes       [][]uint32  // by FeatureColumns index; nil for a numeric column
	values      [][]string  // a categorical column's values, by code
	index       []map[string]uint32
	probability []float64
	customer    []string
}

func newFrame(capacity int) *frame {
	f := &frame{
		numbers: make([][]float64, len(FeatureColumns)), codes: make([][]uint32, len(FeatureColumns)),
		values: make([][]string, len(FeatureColumns)), index: make([]map[string]uint32, len(FeatureColumns)),
		probability: make([]float64, 0, capacity), customer: make([]string, 0, capacity),
	}
	for i, c := range FeatureColumns {
		if c.Categorical {
			f.codes[i], f.index[i] = make([]uint32, 0, capacity), map[string]uint32{}
		} else {
			f.numbers[i] = make([]float64, 0, capacity)
		}
	}
	return f
}

// frameOf is rows as a frame.
func frameOf(rows []predlog.Row) *frame {
	f := newFrame(len(rows))
	for i := range rows {
		f.add(&rows[i])
	}
	return f
}

// add appends a row's tested columns.
func (f *frame) add(r *predlog.Row) {
	for i, c := range FeatureColumns {
		if !c.Categorical {
			f.numbers[i] = append(f.numbers[i], c.Number(*r))
			continue
		}
		v := c.Category(*r)
		code, ok := f.index[i][v]
		if !ok {
			code = uint32(len(f.values[i]))
			f.index[i][v] = code
			f.values[i] = append(f.values[i], v)
		}
		f.codes[i] = append(f.codes[i], code)
	}
	f.probability = append(f.probability, r.Probability)
	f.customer = append(f.customer, r.CustomerID)
	f.n++
}

// strings is categorical column i's values, row by row. The strings are
// the column's own values, shared, so the slice is all it allocates.
func (f *frame) strings(i int) []string {
	out := make([]string, f.n)
	for k, code := range f.codes[i] {
		out[k] = f.values[i][code]
	}
	return out
}
