package parquetio

import (
	"bytes"
	"encoding/binary"
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

// Decode reads every row of a Parquet file held in memory.
func Decode[T any](data []byte) ([]T, error) {
	r, err := Open[T](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	rows := make([]T, 0, r.NumRows())
	buf := make([]T, 4096)
	for {
		n, err := r.Read(buf)
		rows = append(rows, buf[:n]...)
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Reader streams rows of T from a Parquet file after checking its columns.
type Reader[T any] struct {
	r    *parquet.GenericReader[T]
	rows int64
}

// Open checks that the file holds every column of T with T's type and
// returns a reader over it. Extra columns are ignored.
func Open[T any](r io.ReaderAt, size int64) (rd *Reader[T], err error) {
	defer recoverMalformed(&err)
	if err := checkFrame(r, size); err != nil {
		return nil, err
	}
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := CheckColumns[T](f.Schema()); err != nil {
		return nil, err
	}
	return &Reader[T]{r: parquet.NewGenericReader[T](f), rows: f.NumRows()}, nil
}

// NumRows is the number of rows in the file.
func (r *Reader[T]) NumRows() int64 { return r.rows }

// Read fills buf with the next rows; it returns io.EOF after the last.
func (r *Reader[T]) Read(buf []T) (n int, err error) {
	defer recoverMalformed(&err)
	n, err = r.r.Read(buf)
	if err != nil && err != io.EOF {
		return n, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return n, err
}

// checkFrame checks the magic bytes and the footer length before the
// Parquet library trusts them: a corrupt footer length makes it allocate
// up to 4 GiB.
func checkFrame(r io.ReaderAt, size int64) error {
	if size < 12 {
		return fmt.Errorf("%w: %d bytes is too short for Parquet", ErrMalformed, size)
	}
	var head [4]byte
	var tail [8]byte
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if string(head[:]) != "PAR1" || string(tail[4:]) != "PAR1" {
		return fmt.Errorf("%w: not a Parquet file (no PAR1 magic at both ends)", ErrMalformed)
	}
	footer := int64(binary.LittleEndian.Uint32(tail[:4]))
	if footer+12 > size {
		return fmt.Errorf("%w: footer of %d bytes in a %d-byte file", ErrMalformed, footer, size)
	}
	return nil
}

// Close releases the reader.
func (r *Reader[T]) Close() error { return r.r.Close() }

// CheckColumns reports the first column of T that the file schema lacks or
// stores with another type.
func CheckColumns[T any](got *parquet.Schema) error {
	want := parquet.SchemaOf(new(T))
	for _, wf := range want.Fields() {
		gf, ok := field(got, wf.Name())
		if !ok {
			return fmt.Errorf("%w: column %s is missing", ErrMalformed, wf.Name())
		}
		if !sameType(gf.Type(), wf.Type()) {
			return fmt.Errorf("%w: column %s is %s, want %s", ErrMalformed, wf.Name(), typeName(gf.Type()), typeName(wf.Type()))
		}
	}
	return nil
}

func field(s *parquet.Schema, name string) (parquet.Field, bool) {
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
