package parquetio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

type single struct {
	Value float64 `parquet:"value"`
}

type onlyA struct {
	A float64 `parquet:"a"`
}

type banded struct {
	Band string `parquet:"band,dict"`
}

// page is one page of a crafted file: its header and its bytes.
type page struct {
	h    *format.PageHeader
	data []byte
}

// craft writes rows as a file of one row group of one column,
// lets edit change its pages and footer, and puts the file back together
// with the footer's offsets and sizes following the edited pages, so that
// the only lie in the file is the one edit told.
func craft[T any](t *testing.T, codec compress.Codec, rows []T, edit func(pages []page, meta *format.FileMetaData)) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := parquet.Write(&buf, rows, parquet.Compression(codec), parquet.DataPageVersion(1)); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	footer := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
	var meta format.FileMetaData
	if err := thrift.Unmarshal(new(thrift.CompactProtocol), data[len(data)-8-footer:len(data)-8], &meta); err != nil {
		t.Fatal(err)
	}
	if len(meta.RowGroups) != 1 || len(meta.RowGroups[0].Columns) != 1 {
		t.Fatalf("want one row group of one column, got %d row groups", len(meta.RowGroups))
	}
	cc := &meta.RowGroups[0].Columns[0]
	md := &cc.MetaData
	// Drop the page index that follows the row group, which the reader skips.
	cc.OffsetIndexOffset, cc.OffsetIndexLength, cc.ColumnIndexOffset, cc.ColumnIndexLength = 0, 0, 0, 0
	var pages []page
	for pos := 4; pos < 4+int(md.TotalCompressedSize); {
		n, err := skimStruct(data[pos:], 0)
		if err != nil {
			t.Fatal(err)
		}
		h := new(format.PageHeader)
		if err := thrift.Unmarshal(new(thrift.CompactProtocol), data[pos:pos+n], h); err != nil {
			t.Fatalf("page header at %d: %v", pos, err)
		}
		h.CRC = 0 // no checksum, so that edited data is read
		pages = append(pages, page{h, data[pos+n : pos+n+int(h.CompressedPageSize)]})
		pos += n + int(h.CompressedPageSize)
	}
	edit(pages, &meta)
	out := []byte("PAR1")
	md.DictionaryPageOffset = 0
	for i, p := range pages {
		hb, err := thrift.Marshal(new(thrift.CompactProtocol), p.h)
		if err != nil {
			t.Fatalf("marshal page header: %v", err)
		}
		switch {
		case p.h.Type == format.DictionaryPage:
			md.DictionaryPageOffset = int64(len(out))
		case i == 0 || pages[i-1].h.Type == format.DictionaryPage:
			md.DataPageOffset = int64(len(out))
		}
		out = append(append(out, hb...), p.data...)
	}
	md.TotalCompressedSize = int64(len(out)) - 4
	md.TotalUncompressedSize = md.TotalCompressedSize
	fb, err := thrift.Marshal(new(thrift.CompactProtocol), &meta)
	if err != nil {
		t.Fatal(err)
	}
	out = binary.LittleEndian.AppendUint32(append(out, fb...), uint32(len(fb)))
	return append(out, "PAR1"...)
}

// TestCorruptFilesGetAClearErrorAndNoLargeAllocation gives the reader
// files whose headers or data claim gigabytes, and a file with two columns
// of one name. Before the checks, the Parquet library allocated what the
// sizes claimed (2.8 GiB for a page's compressed or uncompressed size, and
// for one run of dictionary indexes 4 GiB, which ended the process out of
// memory), and read the file of two columns a as if it had one. Each must
// now be a one-line ErrMalformed that names the problem, with little memory
// allocated. (The footer string of 2 GiB is only a clearer error: the
// library stopped at the end of the bytes.)
func TestCorruptFilesGetAClearErrorAndNoLargeAllocation(t *testing.T) {
	values := []single{{1}, {2}, {3}}
	bands := []banded{{"low"}, {"high"}, {"low"}}
	firstData := func(pages []page) *page {
		for i := range pages {
			if pages[i].h.Type == format.DataPage {
				return &pages[i]
			}
		}
		t.Fatal("no data page")
		return nil
	}
	tests := []struct {
		name   string
		data   func() []byte
		decode func([]byte) error
		want   string
	}{
		{"compressed page size of 2 GiB", func() []byte {
			return craft(t, &parquet.Uncompressed, values, func(p []page, _ *format.FileMetaData) { firstData(p).h.CompressedPageSize = 1<<31 - 1 })
		}, decodeAs[single], "claims 2147483647 bytes but its column chunk has 24 left"},
		{"uncompressed page size of 2 GiB", func() []byte {
			return craft(t, &parquet.Snappy, values, func(p []page, _ *format.FileMetaData) { firstData(p).h.UncompressedPageSize = 1<<31 - 1 })
		}, decodeAs[single], "claims 2147483647 bytes uncompressed, more than the 67108864 a page may have"},
		{"two billion values in a page", func() []byte {
			return craft(t, &parquet.Uncompressed, values, func(p []page, _ *format.FileMetaData) { firstData(p).h.DataPageHeader.V.NumValues = 1<<31 - 1 })
		}, decodeAs[single], "claims 2147483647 values, more than the 8388608 a page may have"},
		{"one dictionary run of a billion values", func() []byte {
			return craft(t, &parquet.Uncompressed, bands, func(p []page, _ *format.FileMetaData) {
				d := firstData(p)
				// bit width 1, then one RLE run of 2^30 copies of index 0
				d.data = binary.AppendUvarint([]byte{1}, 1<<31)
				d.data = append(d.data, 0)
				d.h.CompressedPageSize, d.h.UncompressedPageSize = int32(len(d.data)), int32(len(d.data))
			})
		}, decodeAs[banded], "dictionary indexes: runs of more than the page's 3 values"},
		{"two columns of one name", func() []byte {
			type two struct {
				A float64 `parquet:"a"`
				B float64 `parquet:"b"`
			}
			data, err := Encode([]two{{1, 2}})
			if err != nil {
				t.Fatal(err)
			}
			// Rename b to a in the footer's schema and column paths.
			footer := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
			meta := data[len(data)-8-footer : len(data)-8]
			renamed := bytes.ReplaceAll(meta, []byte{0x01, 'b'}, []byte{0x01, 'a'})
			return append(data[:len(data)-8-footer:len(data)-8-footer], append(renamed, data[len(data)-8:]...)...)
		}, decodeAs[onlyA], "column a appears twice"},
		{"a footer string of 2 GiB", func() []byte {
			// FileMetaData: version 1, then field 6 (created_by) a string claiming 2^31-1 bytes, and no more bytes.
			meta := append([]byte{0x15, 0x02, 0x58}, binary.AppendUvarint(nil, 1<<31-1)...)
			out := append([]byte("PAR1"), meta...)
			out = binary.LittleEndian.AppendUint32(out, uint32(len(meta)))
			return append(out, "PAR1"...)
		}, decodeAs[single], "footer: a string claims 2147483647 bytes in 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := tt.decode(data)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode = %v, want ErrMalformed containing %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("the error has more than one line: %q", err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 16<<20 {
				t.Errorf("Decode allocated %d MiB", got>>20)
			}
		})
	}
}

func decodeAs[T any](data []byte) error {
	_, err := Decode[T](data)
	return err
}

// TestCraftedFilesAreValidUntilEdited makes sure the crafting itself
// leaves a readable file, so that the errors above come from the edits.
func TestCraftedFilesAreValidUntilEdited(t *testing.T) {
	got, err := Decode[banded](craft(t, &parquet.Uncompressed, []banded{{"low"}, {"high"}}, func([]page, *format.FileMetaData) {}))
	if err != nil || len(got) != 2 || got[1].Band != "high" {
		t.Fatalf("Decode = %v, %v", got, err)
	}
	vals, err := Decode[single](craft(t, &parquet.Snappy, []single{{1}, {2}}, func([]page, *format.FileMetaData) {}))
	if err != nil || len(vals) != 2 || vals[1].Value != 2 {
		t.Fatalf("Decode = %v, %v", vals, err)
	}
}

func TestRuns(t *testing.T) {
	t.Parallel()
	rle := func(count int) []byte { return append(binary.AppendUvarint(nil, uint64(count)<<1), 0) } // width 1: one byte of value
	packed := func(groups int) []byte {
		return append(binary.AppendUvarint(nil, uint64(groups)<<1|1), make([]byte, groups)...) // width 1: a byte per group
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		b    []byte
		n    int
		ok   bool
	}{
		{"one run, exact", rle(20), 20, true},
		{"packed groups, exact", packed(3), 24, true},
		// pyarrow: an RLE run of 11, then the last values bit-packed, padded to a group of 8.
		{"last group padded after an odd run", cat(rle(11), packed(2)), 20, true},
		{"more than the padding allows", rle(28), 20, false},
		{"a group beyond the padding", cat(rle(11), packed(3)), 20, false},
		{"a billion", rle(1 << 30), 20, false},
	}
	for _, tt := range tests {
		if err := runs(tt.b, 1, tt.n); (err == nil) != tt.ok {
			t.Errorf("%s: runs = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}
