package parquetio

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// kind is how a Go field is stored: the column's physical type and the
// conversion into the field.
type kind int

const (
	kindFloat64 kind = iota // float64 from DOUBLE
	kindFloat32             // float32 from FLOAT
	kindInt                 // int from INT64
	kindInt64               // int64 from INT64
	kindInt32               // int32 (and types such as schema.Date) from INT32
	kindTime                // time.Time from an INT64 timestamp
	kindString              // string from BYTE_ARRAY
)

// field is one column of T: its name in the file and where its value goes
// in a T.
type field struct {
	name   string
	offset uintptr
	kind   kind
}

var timeType = reflect.TypeFor[time.Time]()

// fieldsOf lists the columns of struct type t with the names parquet-go
// gives them: a field's parquet tag (its name before the first comma), or
// the Go name; "-" skips a field; an embedded struct without a tag
// contributes its own fields, as parquet-go inlines it.
func fieldsOf(t reflect.Type) ([]field, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("parquetio: %s is not a struct", t)
	}
	var out []field
	var walk func(t reflect.Type, base uintptr) error
	walk = func(t reflect.Type, base uintptr) error {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag, tagged := sf.Tag.Lookup("parquet")
			name, _, _ := strings.Cut(tag, ",")
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
				return fmt.Errorf("parquetio: field %s.%s of type %s is not supported", t, sf.Name, sf.Type)
			}
			out = append(out, field{name: name, offset: base + sf.Offset, kind: k})
		}
		return nil
	}
	if err := walk(t, 0); err != nil {
		return nil, err
	}
	return out, nil
}

func kindOf(t reflect.Type) (kind, bool) {
	if t == timeType {
		return kindTime, true
	}
	switch t.Kind() {
	case reflect.Float64:
		return kindFloat64, true
	case reflect.Float32:
		return kindFloat32, true
	case reflect.Int:
		return kindInt, true
	case reflect.Int64:
		return kindInt64, true
	case reflect.Int32:
		return kindInt32, true
	case reflect.String:
		return kindString, true
	}
	return 0, false
}
