package parquetio

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"slices"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"

	"github.com/claimrisk/claimrisk/shared/flatparquet"
)

// Reader streams rows of T from a Parquet file, column by column: only the
// columns of T are read, each a page at a time into the rows' fields, so
// no row is ever rebuilt value by value and a file of any size streams in
// bounded memory.
type Reader[T any] struct {
	r      io.ReaderAt
	f      *parquet.File
	footer int64 // where the data ends and the footer starts
	cols   []*cursor
	rg     int   // the current row group; -1 before the first
	left   int64 // rows of the current row group not yet read
	rows   int64
	size   int64 // the file's bytes
}

// Open checks that the file holds every column of T with T's type and
// returns a reader over it. Extra columns are ignored.
func Open[T any](r io.ReaderAt, size int64) (*Reader[T], error) {
	return OpenColumns[T](r, size, nil)
}

// OpenColumns is Open reading only the named columns of T, or all of them
// when names is nil: a field of another column is never written, and its
// pages are never read. The file must still hold every column of T.
func OpenColumns[T any](r io.ReaderAt, size int64, names []string) (rd *Reader[T], err error) {
	defer recoverMalformed(&err)
	fields, err := flatparquet.Columns(reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	if names != nil {
		if fields, err = selectColumns(fields, names); err != nil {
			return nil, err
		}
	}
	if err := checkFrame(r, size); err != nil {
		return nil, err
	}
	f, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := checkNames(f); err != nil {
		return nil, err
	}
	if err := CheckColumns[T](f.Schema()); err != nil {
		return nil, err
	}
	var total int64
	for i, rg := range f.Metadata().RowGroups {
		if rg.NumRows < 0 {
			return nil, fmt.Errorf("%w: row group %d has %d rows", ErrMalformed, i, rg.NumRows)
		}
		total += rg.NumRows
	}
	if total != f.NumRows() {
		return nil, fmt.Errorf("%w: the row groups hold %d rows, the file says %d", ErrMalformed, total, f.NumRows())
	}
	rd = &Reader[T]{r: r, f: f, footer: dataEnd(r, size), rg: -1, rows: total, size: size}
	for _, fd := range fields {
		col := f.Root().Column(fd.Name)
		switch {
		case col.Repeated() || col.MaxRepetitionLevel() > 0:
			return nil, fmt.Errorf("%w: column %s is a list; want one value per row", ErrMalformed, fd.Name)
		case !col.Leaf():
			return nil, fmt.Errorf("%w: column %s is a group; want one value per row", ErrMalformed, fd.Name)
		case col.Type().Kind() != physicalOf(fd.Kind):
			return nil, fmt.Errorf("%w: column %s is %s, want %s", ErrMalformed, fd.Name, col.Type().Kind(), physicalOf(fd.Kind))
		}
		c := &cursor{field: fd, index: col.Index(), maxDef: byte(col.MaxDefinitionLevel()), unit: time.Millisecond}
		if lt := col.Type().LogicalType(); lt != nil {
			if ts, ok := lt.Value.(*format.TimestampType); ok && ts.Unit.Value != nil {
				c.unit = ts.Unit.Value.Duration()
			}
		}
		rd.cols = append(rd.cols, c)
	}
	return rd, nil
}

// selectColumns is the fields of the named columns, in T's order; a name
// that is no column of T is an error.
func selectColumns(fields []flatparquet.Column, names []string) ([]flatparquet.Column, error) {
	var out []flatparquet.Column
	for _, n := range names {
		if !slices.ContainsFunc(fields, func(f flatparquet.Column) bool { return f.Name == n }) {
			return nil, fmt.Errorf("parquetio: %s is not a column of the rows read", n)
		}
	}
	for _, f := range fields {
		if slices.Contains(names, f.Name) {
			out = append(out, f)
		}
	}
	return out, nil
}

// dataEnd is where the footer starts: checkFrame has checked its length.
func dataEnd(r io.ReaderAt, size int64) int64 {
	var tail [4]byte
	r.ReadAt(tail[:], size-8)
	return size - 8 - int64(uint32(tail[0])|uint32(tail[1])<<8|uint32(tail[2])<<16|uint32(tail[3])<<24)
}

// checkNames rejects a file whose top-level columns repeat a name: which
// of them a reader gets would be arbitrary.
func checkNames(f *parquet.File) error {
	seen := map[string]bool{}
	for _, c := range f.Root().Columns() {
		if seen[c.Name()] {
			return fmt.Errorf("%w: column %s appears twice", ErrMalformed, c.Name())
		}
		seen[c.Name()] = true
	}
	return nil
}

func physicalOf(k flatparquet.Kind) parquet.Kind {
	switch k {
	case flatparquet.Float64:
		return parquet.Double
	case flatparquet.Float32:
		return parquet.Float
	case flatparquet.Int, flatparquet.Int64, flatparquet.Time:
		return parquet.Int64
	case flatparquet.Int32:
		return parquet.Int32
	}
	return parquet.ByteArray
}

// NumRows is the number of rows in the file.
func (r *Reader[T]) NumRows() int64 { return r.rows }

// tile is how many rows Read fills column by column before moving on: a
// tile of rows stays in the core's cache while each column writes its
// field, where a whole buffer of rows would be fetched again per column.
const tile = 512

// Read fills buf with the next rows; it returns io.EOF after the last.
func (r *Reader[T]) Read(buf []T) (n int, err error) {
	defer recoverMalformed(&err)
	stride := unsafe.Sizeof(*new(T))
	for n < len(buf) {
		if r.left == 0 {
			if err := r.nextRowGroup(); err != nil {
				return n, err
			}
			continue
		}
		k := int(min(int64(len(buf)-n), r.left, tile))
		base := unsafe.Pointer(&buf[n])
		for _, c := range r.cols {
			if err := c.fill(base, stride, k); err != nil {
				return n, fmt.Errorf("%w: row group %d: column %s: %v", ErrMalformed, r.rg, c.field.Name, err)
			}
		}
		n += k
		r.left -= int64(k)
	}
	return n, nil
}

// nextRowGroup checks the next row group's pages and starts reading them;
// it returns io.EOF after the last.
func (r *Reader[T]) nextRowGroup() error {
	r.closePages()
	groups := r.f.Metadata().RowGroups
	for r.rg+1 < len(groups) {
		r.rg++
		rows := groups[r.rg].NumRows
		if rows == 0 {
			continue
		}
		chunks := r.f.RowGroups()[r.rg].ColumnChunks()
		for _, c := range r.cols {
			if c.index >= len(groups[r.rg].Columns) {
				return fmt.Errorf("%w: row group %d has no column %s", ErrMalformed, r.rg, c.field.Name)
			}
			md := groups[r.rg].Columns[c.index].MetaData
			start := md.DataPageOffset
			if md.DictionaryPageOffset != 0 {
				start = md.DictionaryPageOffset
			}
			end := start + md.TotalCompressedSize
			if start < 4 || md.TotalCompressedSize < 0 || end > r.footer || end < start {
				return fmt.Errorf("%w: row group %d: column %s: its %d bytes at %d lie outside the data", ErrMalformed, r.rg, c.field.Name, md.TotalCompressedSize, start)
			}
			if err := chunkPages(r.r, chunk{start: start, end: end, rows: rows, codec: md.Codec, maxDef: int(c.maxDef)}); err != nil {
				return fmt.Errorf("%w: row group %d: column %s: %v", ErrMalformed, r.rg, c.field.Name, err)
			}
			c.start(chunks[c.index].Pages())
		}
		r.left = rows
		return nil
	}
	return io.EOF
}

func (r *Reader[T]) closePages() {
	for _, c := range r.cols {
		c.stop()
	}
}

// Close releases the reader.
func (r *Reader[T]) Close() error {
	r.closePages()
	return nil
}

// Decode reads every row of a Parquet file held in memory.
func Decode[T any](data []byte) ([]T, error) {
	rows, err := DecodeAppend[T](nil, data)
	if err != nil {
		return nil, err
	}
	if rows == nil {
		rows = []T{} // a file of no rows reads as no rows, not as nothing
	}
	return rows, nil
}

// DecodeAppend reads every row of a Parquet file held in memory and
// appends them to dst, growing it at most once when it is too small for
// the file's row count.
func DecodeAppend[T any](dst []T, data []byte) ([]T, error) {
	return DecodeColumnsAppend(dst, data, nil)
}

// DecodeColumnsAppend is DecodeAppend reading only the named columns (see
// OpenColumns): the other fields of the rows it adds keep what dst's
// spare capacity held, zero in rows it allocates.
func DecodeColumnsAppend[T any](dst []T, data []byte, names []string) ([]T, error) {
	r, err := OpenColumns[T](bytes.NewReader(data), int64(len(data)), names)
	if err != nil {
		return dst, err
	}
	defer r.Close()
	return r.AppendAll(dst)
}

// Capacity is the row count the file states, bounded by what a file of
// its size could plausibly hold: what AppendAll adds to a slice at most
// without growing it again.
func (r *Reader[T]) Capacity() int64 { return min(r.rows, r.size+1024) }

// AppendAll appends the rows not yet read to dst, growing it at most once
// when it has less room than Capacity; on an error dst comes back as it
// was given.
func (r *Reader[T]) AppendAll(dst []T) ([]T, error) {
	// The rows are allocated once, from the file's row count, unless that
	// count is implausible for the file's size; then they grow as read.
	total := r.rows
	base := len(dst)
	rows := slices.Grow(dst, int(r.Capacity()))
	rows = rows[:cap(rows)]
	n := base
	for int64(n-base) < total {
		if n == len(rows) {
			rows = append(rows, make([]T, min(int64(len(rows)-base)+1, total-int64(n-base)))...)
			rows = rows[:cap(rows)]
		}
		k, err := r.Read(rows[n:])
		n += k
		if err == io.EOF {
			break
		}
		if err != nil {
			clear(rows[base:n])
			return rows[:base], err
		}
	}
	return rows[:n], nil
}

// cursor reads one column, a page at a time, into a field of the rows.
type cursor struct {
	field  flatparquet.Column
	index  int  // the leaf column's index in the file
	maxDef byte // 0 for a required column
	unit   time.Duration

	pages parquet.Pages
	page  parquet.Page
	pos   int // next row of the page
	size  int // rows of the page

	// The page's values, one per row (nulls are zero values), in the
	// slice of the column's physical type: the page's own buffer when it
	// has neither nulls nor a dictionary, else the scratch slice below.
	f64 []float64
	f32 []float32
	i64 []int64
	i32 []int32
	str []string

	s64  []float64
	s32  []float32
	si64 []int64
	si32 []int32
	sstr []string
	pstr []string // a plain page's strings

	dict    parquet.Dictionary // the dictionary dictStr was made from
	dictStr []string
}

func (c *cursor) start(p parquet.Pages) {
	c.stop()
	c.pages = p
}

func (c *cursor) stop() {
	c.release()
	if c.pages != nil {
		c.pages.Close()
		c.pages = nil
	}
	c.dict, c.dictStr = nil, nil
}

func (c *cursor) release() {
	if c.page != nil {
		parquet.Release(c.page)
		c.page = nil
	}
	c.pos, c.size = 0, 0
}

// fill writes the next n values of the column into the field of n rows
// that start at base, stride bytes apart.
func (c *cursor) fill(base unsafe.Pointer, stride uintptr, n int) error {
	for row := 0; row < n; {
		if c.pos == c.size {
			if err := c.next(); err != nil {
				return err
			}
			continue
		}
		k := min(n-row, c.size-c.pos)
		c.put(base, stride, row, k)
		c.pos += k
		row += k
	}
	return nil
}

// put writes k values from c.pos on into rows row to row+k-1. The unsafe
// pointers stay inside the rows: fill is given the first of n rows and
// row+k <= n, and each field's offset and type come from T by reflection
// (flatparquet.Columns).
func (c *cursor) put(base unsafe.Pointer, stride uintptr, row, k int) {
	p := unsafe.Add(base, uintptr(row)*stride+c.field.Offset)
	i := c.pos
	switch c.field.Kind {
	case flatparquet.Float64:
		for j, v := range c.f64[i : i+k] {
			*(*float64)(unsafe.Add(p, uintptr(j)*stride)) = v
		}
	case flatparquet.Float32:
		for j, v := range c.f32[i : i+k] {
			*(*float32)(unsafe.Add(p, uintptr(j)*stride)) = v
		}
	case flatparquet.Int:
		for j, v := range c.i64[i : i+k] {
			*(*int)(unsafe.Add(p, uintptr(j)*stride)) = int(v)
		}
	case flatparquet.Int64:
		for j, v := range c.i64[i : i+k] {
			*(*int64)(unsafe.Add(p, uintptr(j)*stride)) = v
		}
	case flatparquet.Int32:
		for j, v := range c.i32[i : i+k] {
			*(*int32)(unsafe.Add(p, uintptr(j)*stride)) = v
		}
	case flatparquet.Time:
		for j, v := range c.i64[i : i+k] {
			*(*time.Time)(unsafe.Add(p, uintptr(j)*stride)) = c.timeOf(v)
		}
	case flatparquet.String:
		for j, v := range c.str[i : i+k] {
			*(*string)(unsafe.Add(p, uintptr(j)*stride)) = v
		}
	}
}

func (c *cursor) timeOf(v int64) time.Time {
	switch c.unit {
	case time.Microsecond:
		return time.UnixMicro(v).UTC()
	case time.Nanosecond:
		return time.Unix(0, v).UTC()
	}
	return time.UnixMilli(v).UTC()
}

// next reads the next page of the column and lays its values out one per
// row.
func (c *cursor) next() error {
	c.release()
	if c.pages == nil {
		return io.ErrUnexpectedEOF
	}
	p, err := c.pages.ReadPage()
	if err == io.EOF {
		return fmt.Errorf("the pages end before the row group's rows")
	}
	if err != nil {
		return err
	}
	c.page = p
	var defs []byte
	if c.maxDef > 0 {
		defs = p.DefinitionLevels()
	}
	rows := int(p.NumRows())
	if defs != nil && len(defs) != rows {
		return fmt.Errorf("a page of %d rows has %d definition levels", rows, len(defs))
	}
	vals := p.Data()
	var idx []int32
	dict := p.Dictionary()
	if dict != nil {
		idx = vals.Int32()
		vals = dict.Page().Data()
	}
	switch physicalOf(c.field.Kind) {
	case parquet.Double:
		c.f64, err = spread(&c.s64, vals.Double(), idx, defs, c.maxDef, rows)
	case parquet.Float:
		c.f32, err = spread(&c.s32, vals.Float(), idx, defs, c.maxDef, rows)
	case parquet.Int64:
		c.i64, err = spread(&c.si64, vals.Int64(), idx, defs, c.maxDef, rows)
	case parquet.Int32:
		c.i32, err = spread(&c.si32, vals.Int32(), idx, defs, c.maxDef, rows)
	case parquet.ByteArray:
		var strs []string
		if dict != nil {
			if dict != c.dict {
				c.dict, c.dictStr = dict, stringsOf(vals, c.dictStr[:0])
			}
			strs = c.dictStr
		} else {
			c.pstr = stringsOf(vals, c.pstr[:0])
			strs = c.pstr
		}
		c.str, err = spread(&c.sstr, strs, idx, defs, c.maxDef, rows)
	}
	if err != nil {
		return err
	}
	c.pos, c.size = 0, rows
	return nil
}

// stringsOf makes the byte arrays of a page strings, sharing one copy of
// the page's bytes: one allocation per page instead of one per value.
func stringsOf(vals encoding.Values, out []string) []string {
	data, offsets := vals.ByteArray()
	s := string(data)
	for i := 0; i+1 < len(offsets); i++ {
		lo, hi := offsets[i], offsets[i+1]
		if lo > hi || int(hi) > len(s) {
			return out // a corrupt page: the count check in spread reports it
		}
		out = append(out, s[lo:hi])
	}
	return out
}

// spread lays out a page's values one per row: vals itself when every row
// has a value of its own, else in scratch, looked up in the dictionary vals
// when idx is set and with the zero value for a null (a row whose
// definition level is below max).
func spread[V any](scratch *[]V, vals []V, idx []int32, defs []byte, max byte, rows int) ([]V, error) {
	n := len(vals) // values present
	if idx != nil {
		n = len(idx)
	}
	if idx == nil && defs == nil {
		if n != rows {
			return nil, fmt.Errorf("a page of %d rows has %d values", rows, n)
		}
		return vals, nil
	}
	if cap(*scratch) < rows {
		*scratch = make([]V, rows)
	}
	dst := (*scratch)[:rows]
	present := rows
	if defs != nil {
		present = 0
		for _, d := range defs {
			if d == max {
				present++
			}
		}
	}
	if n != present {
		return nil, fmt.Errorf("a page of %d rows has %d values, want %d", rows, n, present)
	}
	var zero V
	j := 0
	for i := range dst {
		if defs != nil && defs[i] != max {
			dst[i] = zero
			continue
		}
		if idx != nil {
			k := idx[j]
			if k < 0 || int(k) >= len(vals) {
				return nil, fmt.Errorf("dictionary index %d out of %d values", k, len(vals))
			}
			dst[i] = vals[k]
		} else {
			dst[i] = vals[j]
		}
		j++
	}
	return dst, nil
}
