package flatparquet

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Kind is how a Go field is stored: the column's physical type and the
// conversion between it and the field.
type Kind int

// The kinds of field a flat row may have.
const (
	Float64 Kind = iota // float64 as DOUBLE
	Float32             // float32 as FLOAT
	Int                 // int as INT64
	Int64               // int64 as INT64
	Int32               // int32 (and types such as schema.Date) as INT32
	Time                // time.Time as an INT64 timestamp, milliseconds, UTC
	String              // string as BYTE_ARRAY, UTF-8
)

// Column is one field of a row type: its column name and where its value
// is in a row.
type Column struct {
	Name   string
	Offset uintptr
	Kind   Kind
	// Date marks an INT32 field tagged "date": days since 1970-01-01.
	Date bool
}

var timeType = reflect.TypeFor[time.Time]()

// Columns lists the columns of struct type t with the names parquet-go
// gives them: a field's parquet tag (its name before the first comma), or
// the Go name; "-" skips a field; an embedded struct without a tag
// contributes its own fields, as parquet-go inlines it.
func Columns(t reflect.Type) ([]Column, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("flatparquet: %s is not a struct", t)
	}
	var out []Column
	var walk func(t reflect.Type, base uintptr) error
	walk = func(t reflect.Type, base uintptr) error {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag, tagged := sf.Tag.Lookup("parquet")
			name, opts, _ := strings.Cut(tag, ",")
			if name == "-" || (!sf.IsExported() && !sf.Anonymous) {
				continue
			}
			if sf.Anonymous && !tagged && sf.Type.Kind() == reflect.Struct {
				if err := walk(sf.Type, base+sf.Offset); err != nil {
					return err
				}
				continue
			}
			if name == "" {
				name = sf.Name
			}
			k, ok := kindOf(sf.Type)
			if !ok {
				return fmt.Errorf("flatparquet: field %s.%s of type %s is not supported", t, sf.Name, sf.Type)
			}
			date := k == Int32 && slices.Contains(strings.Split(opts, ","), "date")
			out = append(out, Column{Name: name, Offset: base + sf.Offset, Kind: k, Date: date})
		}
		return nil
	}
	if err := walk(t, 0); err != nil {
		return nil, err
	}
	return out, nil
}

func kindOf(t reflect.Type) (Kind, bool) {
	if t == timeType {
		return Time, true
	}
	switch t.Kind() {
	case reflect.Float64:
		return Float64, true
	case reflect.Float32:
		return Float32, true
	case reflect.Int:
		return Int, true
	case reflect.Int64:
		return Int64, true
	case reflect.Int32:
		return Int32, true
	case reflect.String:
		return String, true
	}
	return 0, false
}
