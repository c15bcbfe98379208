package flatparquet

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"time"
	"unsafe"

	"github.com/klauspost/compress/snappy"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// Encode returns rows as a Parquet file.
func Encode[T any](rows []T) ([]byte, error) {
	cols, err := Columns(reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	out := []byte("PAR1")
	schema := []format.SchemaElement{{Name: reflect.TypeFor[T]().Name(), NumChildren: thrift.New(int32(len(cols)))}}
	group := format.RowGroup{NumRows: int64(len(rows))}
	var page []byte
	proto := new(thrift.CompactProtocol)
	for _, c := range cols {
		page = plain(page[:0], c, rows)
		if len(page) > math.MaxInt32 {
			return nil, fmt.Errorf("flatparquet: column %s of %d rows is %d bytes, more than one page holds: write fewer rows at a time", c.Name, len(rows), len(page))
		}
		packed := snappy.Encode(nil, page)
		header, err := thrift.Marshal(proto, &format.PageHeader{
			Type:                 format.DataPage,
			UncompressedPageSize: int32(len(page)),
			CompressedPageSize:   int32(len(packed)),
			DataPageHeader: thrift.New(format.DataPageHeader{
				NumValues: int32(len(rows)), Encoding: format.Plain,
				DefinitionLevelEncoding: format.RLE, RepetitionLevelEncoding: format.RLE,
			}),
		})
		if err != nil {
			return nil, fmt.Errorf("flatparquet: page header of %s: %w", c.Name, err)
		}
		offset := int64(len(out))
		out = append(append(out, header...), packed...)
		el := c.element()
		schema = append(schema, el)
		group.Columns = append(group.Columns, format.ColumnChunk{
			FileOffset: offset,
			MetaData: format.ColumnMetaData{
				Type: el.Type.V, Encoding: []format.Encoding{format.Plain, format.RLE}, PathInSchema: []string{c.Name},
				Codec: format.Snappy, NumValues: int64(len(rows)),
				TotalUncompressedSize: int64(len(header) + len(page)), TotalCompressedSize: int64(len(header) + len(packed)),
				DataPageOffset: offset,
			},
		})
		group.TotalByteSize += int64(len(header) + len(page))
	}
	meta, err := thrift.Marshal(proto, &format.FileMetaData{
		Version: 1, Schema: schema, NumRows: int64(len(rows)), RowGroups: []format.RowGroup{group},
		CreatedBy: "github.com/claimrisk/claimrisk/shared/flatparquet",
	})
	if err != nil {
		return nil, fmt.Errorf("flatparquet: footer: %w", err)
	}
	out = binary.LittleEndian.AppendUint32(append(out, meta...), uint32(len(meta)))
	return append(out, "PAR1"...), nil
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
