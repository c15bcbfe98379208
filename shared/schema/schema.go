package schema

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Kind is the logical type of a column.
type Kind string

// The column kinds used by the tables.
const (
	KindString Kind = "string"
	KindInt    Kind = "integer"
	KindFloat  Kind = "number"
	KindDate   Kind = "date"
)

// Column describes one column of a table or one field of a record.
type Column struct {
	Name        string   `json:"name"`
	Kind        Kind     `json:"kind"`
	Unit        string   `json:"unit,omitempty"`
	Description string   `json:"description"`
	Min         *float64 `json:"min,omitempty"`
	Max         *float64 `json:"max,omitempty"`
	Values      []string `json:"values,omitempty"`
	// Categorical marks numeric columns whose values are codes (a district
	// number), so drift tests treat them as categories.
	Categorical bool `json:"categorical,omitempty"`
}

// Table is a named list of columns with the column that identifies a row.
type Table struct {
	Name    string   `json:"name"`
	Key     string   `json:"key,omitempty"`
	Columns []Column `json:"columns"`
}

// Column returns the named column; ok is false when the table has none.
func (t Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Names lists the table's column names in order.
func (t Table) Names() []string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return names
}

func bound(v float64) *float64 { return &v }

// CheckNumber reports whether v is a finite number inside the column's range.
func (c *Column) CheckNumber(v float64) error {
	switch {
	case math.IsNaN(v):
		return fmt.Errorf("%s: NaN is not a number", c.Name)
	case math.IsInf(v, 0):
		return fmt.Errorf("%s: infinity is not allowed", c.Name)
	case c.Min != nil && v < *c.Min:
		return fmt.Errorf("%s: %v is below the minimum %v%s", c.Name, v, *c.Min, c.unitSuffix())
	case c.Max != nil && v > *c.Max:
		return fmt.Errorf("%s: %v is above the maximum %v%s", c.Name, v, *c.Max, c.unitSuffix())
	}
	return nil
}

// CheckString reports whether s is one of the column's allowed values
// (any non-empty string when the column lists none).
func (c *Column) CheckString(s string) error {
	if s == "" {
		return fmt.Errorf("%s: must not be empty", c.Name)
	}
	if len(c.Values) > 0 && !slices.Contains(c.Values, s) {
		return fmt.Errorf("%s: %q is not one of %s", c.Name, s, strings.Join(c.Values, ", "))
	}
	return nil
}

func (c Column) unitSuffix() string {
	if c.Unit == "" {
		return ""
	}
	return " " + c.Unit
}
