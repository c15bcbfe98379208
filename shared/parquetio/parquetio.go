package parquetio

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
)

// ErrMalformed marks a file that is not valid Parquet or not of the
// expected columns and types.
var ErrMalformed = errors.New("parquetio: malformed file")

// options are conservative on purpose: plain encoding for byte arrays,
// version 1 data pages and Snappy compression read everywhere.
func options() []parquet.WriterOption {
	return []parquet.WriterOption{
		parquet.DefaultEncodingFor(parquet.ByteArray, &parquet.Plain),
		parquet.DataPageVersion(1),
		parquet.Compression(&parquet.Snappy),
	}
}

// Encode returns rows as a Parquet file.
func Encode[T any](rows []T) ([]byte, error) {
	var buf bytes.Buffer
	if err := parquet.Write(&buf, rows, options()...); err != nil {
		return nil, fmt.Errorf("parquetio: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// Writer streams rows of T into a Parquet file.
type Writer[T any] struct{ w *parquet.GenericWriter[T] }

// NewWriter starts a Parquet file of T on w. Close finishes it.
func NewWriter[T any](w io.Writer) *Writer[T] {
	return &Writer[T]{w: parquet.NewGenericWriter[T](w, options()...)}
}

// Write appends rows.
func (w *Writer[T]) Write(rows []T) error {
	if _, err := w.w.Write(rows); err != nil {
		return fmt.Errorf("parquetio: write: %w", err)
	}
	return nil
}

// Flush ends the current row group, so that the rows written so far no
// longer take memory.
func (w *Writer[T]) Flush() error {
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("parquetio: flush: %w", err)
	}
	return nil
}

// Close writes the footer.
func (w *Writer[T]) Close() error {
	if err := w.w.Close(); err != nil {
		return fmt.Errorf("parquetio: close: %w", err)
	}
	return nil
}

// CheckColumns reports the first column of T that the file schema lacks or
// stores with another type.
func CheckColumns[T any](got *parquet.Schema) error {
	want := parquet.SchemaOf(new(T))
	for _, wf := range want.Fields() {
		gf, ok := schemaField(got, wf.Name())
		if !ok {
			return fmt.Errorf("%w: column %s is missing", ErrMalformed, wf.Name())
		}
		if !sameType(gf.Type(), wf.Type()) {
			return fmt.Errorf("%w: column %s is %s, want %s", ErrMalformed, wf.Name(), typeName(gf.Type()), typeName(wf.Type()))
		}
	}
	return nil
}

func schemaField(s *parquet.Schema, name string) (parquet.Field, bool) {
	for _, f := range s.Fields() {
		if f.Name() == name {
			return f, true
		}
	}
	return nil, false
}

func sameType(a, b parquet.Type) bool {
	if a.Kind() != b.Kind() {
		return false
	}
	return logical(a) == logical(b) || (logical(a) != "DATE" && logical(b) != "DATE")
}

func logical(t parquet.Type) string {
	if lt := t.LogicalType(); lt != nil {
		return lt.String()
	}
	return ""
}

func typeName(t parquet.Type) string {
	if logical(t) == "DATE" {
		return "date"
	}
	switch t.Kind() {
	case parquet.ByteArray:
		return "string"
	case parquet.Int32, parquet.Int64:
		return "integer (" + t.Kind().String() + ")"
	case parquet.Double, parquet.Float:
		return "number (" + t.Kind().String() + ")"
	}
	return t.Kind().String()
}

// recoverMalformed turns a panic inside the Parquet library, which some
// corrupt files provoke, into ErrMalformed.
func recoverMalformed(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %v", ErrMalformed, r)
	}
}
