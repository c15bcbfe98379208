package flatparquet

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"reflect"
	"runtime"
	"time"
	"unsafe"

	"github.com/claimrisk/claimrisk/shared/parallel"
	"github.com/klauspost/compress/s2"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// GroupRows is the most rows Encode puts in one row group. A column of a
// group is one page, whose size the format caps at 2 GiB: groups of a
// million rows keep a run's validation rows (about 20 bytes a value in its
// widest column) far below it, at any number of rows.
const GroupRows = 1 << 20

// maxPage is the largest page the format holds (a page's sizes are int32);
// a test lowers it.
var maxPage = math.MaxInt32

// Encode returns rows as a Parquet file, in row groups of GroupRows rows
// (one group for up to GroupRows rows, and for none).
func Encode[T any](rows []T) ([]byte, error) {
	return encode(rows, false, 0)
}

// EncodePaced is Encode for work done beside latency-sensitive goroutines
// on the same CPUs, such as the payload log's flush beside the requests: it
// pauses after each column, so the requests run between columns instead of
// waiting for the whole file. With pause 0 it yields the processor
// (runtime.Gosched), which lets only goroutines already runnable go first;
// a pause of a millisecond also lets the requests that arrive meanwhile be
// read and answered, and spreads the encode's CPU thinly over many of them
// (benchmarks/NOTES.md, eleventh pass). The bytes are Encode's.
func EncodePaced[T any](rows []T, pause time.Duration) ([]byte, error) {
	return encode(rows, true, pause)
}

func encode[T any](rows []T, yield bool, pause time.Duration) ([]byte, error) {
	var buf bytes.Buffer
	w, err := NewWriter[T](&buf)
	if err != nil {
		return nil, err
	}
	w.yield, w.pause, w.parallel = yield, pause, !yield
	for lo := 0; lo == 0 || lo < len(rows); lo += GroupRows {
		if err := w.Write(rows[lo:min(lo+GroupRows, len(rows))]); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Writer streams rows of T into a Parquet file, a row group per Write:
// each column of a group is one PLAIN page, compressed with Snappy.
type Writer[T any] struct {
	w      io.Writer
	cols   []Column
	groups []format.RowGroup
	rows   int64
	offset int64 // bytes written so far
	slots  []pageSlot
	proto  thrift.CompactProtocol
	err    error         // the first write error: every later call returns it
	yield  bool          // pause after each column (EncodePaced)
	pause  time.Duration // how long: 0 yields the processor
	// parallel builds a large group's pages on every core (Encode).
	parallel bool
}

// pageSlot holds one column's page, plain and compressed, while a group is
// written; the Writer keeps its buffers for the next group.
type pageSlot struct{ page, packed []byte }

// NewWriter starts a Parquet file of T on w. Close finishes it.
func NewWriter[T any](w io.Writer) (*Writer[T], error) {
	cols, err := Columns(reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	fw := &Writer[T]{w: w, cols: cols}
	fw.put([]byte("PAR1"))
	return fw, fw.err
}

// put writes b, keeping the first error.
func (w *Writer[T]) put(b []byte) {
	if w.err != nil {
		return
	}
	n, err := w.w.Write(b)
	w.offset += int64(n)
	if err != nil {
		w.err = fmt.Errorf("flatparquet: write: %w", err)
	}
}

// Write appends rows as one row group.
func (w *Writer[T]) Write(rows []T) error {
	if w.err != nil {
		return w.err
	}
	// Encode's large groups build their columns' pages on every core, as
	// many at a time as there are cores, and write them in column order:
	// the bytes are the same as one at a time, and no more than that many
	// pages are held at once.
	width := 1
	if w.parallel && len(rows) >= parallel.Rows {
		width = max(1, min(runtime.GOMAXPROCS(0), len(w.cols)))
	}
	for len(w.slots) < width {
		w.slots = append(w.slots, pageSlot{})
	}
	group := format.RowGroup{NumRows: int64(len(rows))}
	for lo := 0; lo < len(w.cols); lo += width {
		cols := w.cols[lo:min(lo+width, len(w.cols))]
		parallel.PerCore(len(cols), func(a, b int) {
			for j := a; j < b; j++ {
				s := &w.slots[j]
				s.page = plain(s.page[:0], cols[j], rows)
				if len(s.page) <= maxPage {
					// s2 writes Snappy blocks at its fast level; snappy.Encode
					// is its "better" level, which took three quarters of the
					// writer.
					s.packed = s2.EncodeSnappy(s.packed[:cap(s.packed)], s.page)
				}
			}
		})
		for j, c := range cols {
			if err := w.writePage(&group, c, &w.slots[j], len(rows)); err != nil {
				return err
			}
			if w.yield {
				pace(w.pause)
			}
		}
	}
	w.groups = append(w.groups, group)
	w.rows += int64(len(rows))
	return w.err
}

// writePage writes column c's page of a group of n rows, built in s.
func (w *Writer[T]) writePage(group *format.RowGroup, c Column, s *pageSlot, n int) error {
	if len(s.page) > maxPage {
		// The group's earlier columns are written already, so the file
		// cannot be finished: Close reports this too, and a caller that
		// checks only Close does not store a file short of these rows.
		w.err = fmt.Errorf("flatparquet: column %s of %d rows is %d bytes, more than one page holds: write fewer rows at a time", c.Name, n, len(s.page))
		return w.err
	}
	header, err := thrift.Marshal(&w.proto, &format.PageHeader{
		Type:                 format.DataPage,
		UncompressedPageSize: int32(len(s.page)),
		CompressedPageSize:   int32(len(s.packed)),
		DataPageHeader: thrift.New(format.DataPageHeader{
			NumValues: int32(n), Encoding: format.Plain,
			DefinitionLevelEncoding: format.RLE, RepetitionLevelEncoding: format.RLE,
		}),
	})
	if err != nil {
		w.err = fmt.Errorf("flatparquet: page header of %s: %w", c.Name, err)
		return w.err
	}
	offset := w.offset
	w.put(header)
	w.put(s.packed)
	group.Columns = append(group.Columns, format.ColumnChunk{
		FileOffset: offset,
		MetaData: format.ColumnMetaData{
			Type: c.element().Type.V, Encoding: []format.Encoding{format.Plain, format.RLE}, PathInSchema: []string{c.Name},
			Codec: format.Snappy, NumValues: int64(n),
			TotalUncompressedSize: int64(len(header) + len(s.page)), TotalCompressedSize: int64(len(header) + len(s.packed)),
			DataPageOffset: offset,
		},
	})
	group.TotalByteSize += int64(len(header) + len(s.page))
	return nil
}

// Close writes the footer; it does not close the io.Writer.
func (w *Writer[T]) Close() error {
	if w.err != nil {
		return w.err
	}
	schema := []format.SchemaElement{{Name: reflect.TypeFor[T]().Name(), NumChildren: thrift.New(int32(len(w.cols)))}}
	for _, c := range w.cols {
		schema = append(schema, c.element())
	}
	meta, err := thrift.Marshal(&w.proto, &format.FileMetaData{
		Version: 1, Schema: schema, NumRows: w.rows, RowGroups: w.groups,
		CreatedBy: "github.com/claimrisk/claimrisk/shared/flatparquet",
	})
	if err != nil {
		return fmt.Errorf("flatparquet: footer: %w", err)
	}
	w.put(binary.LittleEndian.AppendUint32(meta, uint32(len(meta))))
	w.put([]byte("PAR1"))
	return w.err
}

// element is the column's schema element, as parquet-go writes it for the
// same Go field.
func (c Column) element() format.SchemaElement {
	el := format.SchemaElement{Name: c.Name, RepetitionType: thrift.New(format.Required)}
	switch c.Kind {
	case Float64:
		el.Type = thrift.New(format.Double)
	case Float32:
		el.Type = thrift.New(format.Float)
	case Int, Int64:
		el.Type = thrift.New(format.Int64)
		el.ConvertedType = thrift.New(deprecated.Int64)
		el.LogicalType = format.LogicalType{Value: &format.IntType{BitWidth: 64, IsSigned: true}}
	case Int32:
		el.Type = thrift.New(format.Int32)
		if c.Date {
			el.ConvertedType = thrift.New(deprecated.Date)
			el.LogicalType = format.LogicalType{Value: &format.DateType{}}
		} else {
			el.ConvertedType = thrift.New(deprecated.Int32)
			el.LogicalType = format.LogicalType{Value: &format.IntType{BitWidth: 32, IsSigned: true}}
		}
	case Time:
		el.Type = thrift.New(format.Int64)
		el.ConvertedType = thrift.New(deprecated.TimestampMillis)
		el.LogicalType = format.LogicalType{Value: &format.TimestampType{IsAdjustedToUTC: true, Unit: format.TimeUnit{Value: &format.MilliSeconds{}}}}
	case String:
		el.Type = thrift.New(format.ByteArray)
		el.ConvertedType = thrift.New(deprecated.UTF8)
		el.LogicalType = format.LogicalType{Value: &format.StringType{}}
	}
	return el
}

// plain appends column c's values in rows, PLAIN-encoded, to b. The
// unsafe reads stay inside the rows: the column's offset and kind come
// from T by reflection (Columns), and i indexes rows.
func plain[T any](b []byte, c Column, rows []T) []byte {
	for i := range rows {
		p := unsafe.Add(unsafe.Pointer(&rows[i]), c.Offset)
		switch c.Kind {
		case Float64:
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(*(*float64)(p)))
		case Float32:
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(*(*float32)(p)))
		case Int:
			b = binary.LittleEndian.AppendUint64(b, uint64(*(*int)(p)))
		case Int64:
			b = binary.LittleEndian.AppendUint64(b, uint64(*(*int64)(p)))
		case Int32:
			b = binary.LittleEndian.AppendUint32(b, uint32(*(*int32)(p)))
		case Time:
			b = binary.LittleEndian.AppendUint64(b, uint64((*(*time.Time)(p)).UnixMilli()))
		case String:
			s := *(*string)(p)
			b = append(binary.LittleEndian.AppendUint32(b, uint32(len(s))), s...)
		}
	}
	return b
}

// pace lets other goroutines run: for d, or, when d is 0, until the
// scheduler comes back to this one.
func pace(d time.Duration) {
	if d > 0 {
		time.Sleep(d)
		return
	}
	runtime.Gosched()
}
