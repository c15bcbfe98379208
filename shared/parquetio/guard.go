package parquetio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// Limits on what a file may ask the reader to allocate. The Parquet
// library sizes its buffers from the footer and the page headers before it
// reads the data they describe, so a corrupt or hostile file could make it
// allocate gigabytes from a few bytes. The reader checks every such size
// first. The limits are far above what writers make: pyarrow and
// parquet-go write pages of 1 MiB or less and at most 20,000 rows.
const (
	// MaxPageSize bounds a page's uncompressed size.
	MaxPageSize = 64 << 20
	// MaxPageValues bounds the values (nulls included) of one page.
	MaxPageValues = 8 << 20
	// maxHeader bounds a page header, statistics included.
	maxHeader = 1 << 20
	// maxThriftDepth bounds the nesting of Thrift structures.
	maxThriftDepth = 32
)

// checkFrame checks the magic bytes and the footer before the Parquet
// library trusts them: a corrupt footer length makes it allocate up to
// 4 GiB, and a list length in the footer as many elements as it says.
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
	meta := make([]byte, footer)
	if _, err := r.ReadAt(meta, size-8-footer); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	n, err := skimStruct(meta, 0)
	if err != nil {
		return fmt.Errorf("%w: footer: %v", ErrMalformed, err)
	}
	if n != len(meta) {
		return fmt.Errorf("%w: footer: %d bytes of metadata in a %d-byte footer", ErrMalformed, n, len(meta))
	}
	return nil
}

// chunk is a column chunk whose pages chunkPages checks.
type chunk struct {
	start, end int64 // its bytes in the file
	rows       int64 // the values it must hold: its row group's rows
	codec      format.CompressionCodec
	maxDef     int // the column's maximum definition level; 0 if required
}

// chunkPages reads the page headers of a column chunk and checks each
// page's sizes and value count against the chunk's bytes and the limits
// above. Where the Parquet library would size buffers from the page's data
// itself (run lengths of dictionary indexes and definition levels, a
// compressed stream's decoded length), it checks those too, on the page
// decompressed within its stated size.
func chunkPages(r io.ReaderAt, c chunk) error {
	var buf, data []byte
	var values int64
	for pos := c.start; pos < c.end; {
		h, n, err := readPageHeader(r, pos, c.end, &buf)
		if err != nil {
			return fmt.Errorf("page header at byte %d: %w", pos, err)
		}
		size, full := int64(h.CompressedPageSize), int64(h.UncompressedPageSize)
		switch {
		case size < 0 || full < 0:
			return fmt.Errorf("page at byte %d has a negative size (%d compressed, %d uncompressed)", pos, size, full)
		case size > c.end-pos-n:
			return fmt.Errorf("page at byte %d claims %d bytes but its column chunk has %d left", pos, size, c.end-pos-n)
		case full > MaxPageSize:
			return fmt.Errorf("page at byte %d claims %d bytes uncompressed, more than the %d a page may have", pos, full, MaxPageSize)
		}
		var v int64
		switch h.Type {
		case format.DataPage:
			if !h.DataPageHeader.Valid {
				return fmt.Errorf("data page at byte %d has no data page header", pos)
			}
			v = int64(h.DataPageHeader.V.NumValues)
		case format.DataPageV2:
			if !h.DataPageHeaderV2.Valid {
				return fmt.Errorf("data page at byte %d has no data page header", pos)
			}
			v = int64(h.DataPageHeaderV2.V.NumValues)
			if l := int64(h.DataPageHeaderV2.V.DefinitionLevelsByteLength) + int64(h.DataPageHeaderV2.V.RepetitionLevelsByteLength); l > size || l > full {
				return fmt.Errorf("data page at byte %d has %d bytes of levels in %d bytes", pos, l, min(size, full))
			}
		case format.DictionaryPage:
			if !h.DictionaryPageHeader.Valid {
				return fmt.Errorf("dictionary page at byte %d has no dictionary page header", pos)
			}
			if d := int64(h.DictionaryPageHeader.V.NumValues); d < 0 || d > MaxPageValues {
				return fmt.Errorf("dictionary page at byte %d claims %d values", pos, d)
			}
		}
		if v < 0 || v > MaxPageValues {
			return fmt.Errorf("page at byte %d claims %d values, more than the %d a page may have", pos, v, MaxPageValues)
		}
		values += v
		if values > c.rows {
			return fmt.Errorf("the pages hold more than the %d values of their row group", c.rows)
		}
		if h.Type == format.DataPage || h.Type == format.DataPageV2 || c.codec != format.Uncompressed {
			k := kindOfPage(h, c)
			need := min(size, k.checked(c.codec))
			if int64(cap(data)) < need {
				data = make([]byte, need)
			}
			data = data[:need]
			if _, err := r.ReadAt(data, pos+n); err != nil {
				return fmt.Errorf("page at byte %d: %w", pos, err)
			}
			if err := checkPage(h, k, data, c); err != nil {
				return fmt.Errorf("page at byte %d: %w", pos, err)
			}
		}
		pos += n + size
	}
	if values != c.rows {
		return fmt.Errorf("the pages hold %d values, their row group %d", values, c.rows)
	}
	return nil
}

// checkPage checks what the Parquet library would size from a page's data:
// that it decompresses to its stated size, and that the runs of its
// definition levels and dictionary indexes hold no more values than the
// page has. Pages of neither are only checked for their decompressed size,
// and Snappy's without decompressing them.
func checkPage(h *format.PageHeader, k pageKind, data []byte, c chunk) error {
	full := int(h.UncompressedPageSize)
	var levels []byte // definition levels, when the page has them apart from its values
	values := data    // the compressed values (and, in version 1 pages, levels)
	n, compressed, rle, dictionary := k.values, k.compressed, k.rle, k.dictionary
	if h.Type == format.DataPageV2 {
		v2 := h.DataPageHeaderV2.V
		levels, values = data[v2.RepetitionLevelsByteLength:k.levels], data[k.levels:]
		full -= k.levels
	}
	if !compressed && !rle {
		return nil
	}
	if compressed && !rle && c.codec == format.Snappy {
		got, err := snappy.DecodedLen(values)
		if err != nil {
			return fmt.Errorf("snappy: %w", err)
		}
		if got != full {
			return fmt.Errorf("decompresses to %d bytes, its header says %d", got, full)
		}
		return nil
	}
	if compressed {
		var err error
		if values, err = decompress(c.codec, values, full); err != nil {
			return err
		}
	}
	if !rle {
		return nil
	}
	width := bits.Len(uint(c.maxDef))
	if h.Type == format.DataPage && c.maxDef > 0 {
		if len(values) < 4 {
			return errors.New("definition levels cut short")
		}
		l := binary.LittleEndian.Uint32(values)
		if uint64(l) > uint64(len(values)-4) {
			return fmt.Errorf("%d bytes of definition levels in %d", l, len(values)-4)
		}
		levels, values = values[4:4+l], values[4+l:]
	}
	if c.maxDef > 0 && len(levels) > 0 {
		if err := runs(levels, width, n); err != nil {
			return fmt.Errorf("definition levels: %w", err)
		}
	}
	if dictionary && len(values) > 0 {
		w := int(values[0])
		if w > 32 {
			return fmt.Errorf("dictionary indexes of %d bits", w)
		}
		if err := runs(values[1:], w, n); err != nil {
			return fmt.Errorf("dictionary indexes: %w", err)
		}
	}
	return nil
}

// pageKind is what checkPage checks of a page.
type pageKind struct {
	values     int  // the values its header states
	levels     int  // the bytes of levels ahead of the values in a version 2 page
	compressed bool // its values are compressed
	dictionary bool // its values are dictionary indexes
	rle        bool // it has runs to check: dictionary indexes or definition levels
}

func kindOfPage(h *format.PageHeader, c chunk) pageKind {
	k := pageKind{compressed: c.codec != format.Uncompressed}
	var enc format.Encoding
	switch h.Type {
	case format.DataPage:
		k.values, enc = int(h.DataPageHeader.V.NumValues), h.DataPageHeader.V.Encoding
	case format.DataPageV2:
		v2 := h.DataPageHeaderV2.V
		k.values, enc = int(v2.NumValues), v2.Encoding
		k.levels = int(v2.RepetitionLevelsByteLength) + int(v2.DefinitionLevelsByteLength)
		k.compressed = k.compressed && (!v2.IsCompressed.Valid || v2.IsCompressed.V)
	}
	// Old writers mark dictionary indexes PLAIN_DICTIONARY; they are RLE all the same.
	//lint:ignore SA1019 files written with the deprecated encoding must still be checked
	k.dictionary = enc == format.RLEDictionary || enc == format.PlainDictionary
	k.rle = h.Type != format.DictionaryPage && (k.dictionary || c.maxDef > 0)
	return k
}

// checked is how many bytes of a page's data checkPage reads: all of them
// where it decompresses the page or reads its runs, only the decoded
// length at the front of a Snappy page's values, and none of a page of
// plain uncompressed values. Reading no more than that took the reader's
// reads of a file of required columns from twice its size to once.
func (k pageKind) checked(codec format.CompressionCodec) int64 {
	switch {
	case k.rle || (k.compressed && codec != format.Snappy):
		return math.MaxInt64
	case k.compressed:
		return int64(k.levels) + binary.MaxVarintLen64
	}
	return int64(k.levels)
}

// runs checks that the runs of an RLE/bit-packed hybrid stream of values
// of width bits hold no more than the n values of the page (bit-packed
// runs come in groups of eight, so the last may pad the page with up to
// seven more).
func runs(b []byte, width, n int) error {
	limit := uint64(n) + 7
	var total uint64
	for len(b) > 0 {
		h, k, err := uvarint(b)
		if err != nil {
			return err
		}
		b = b[k:]
		var count, size uint64
		if h&1 == 1 { // bit-packed groups of 8 values
			count, size = (h>>1)*8, (h>>1)*uint64(width)
		} else {
			count, size = h>>1, uint64(width+7)/8
		}
		if count > limit-total {
			return fmt.Errorf("runs of more than the page's %d values", n)
		}
		total += count
		b = b[min(size, uint64(len(b))):]
	}
	return nil
}

// decompress decompresses a page of codec into at most size bytes.
func decompress(codec format.CompressionCodec, src []byte, size int) ([]byte, error) {
	dst := make([]byte, size)
	var got int
	var err error
	switch codec {
	case format.Snappy:
		if got, err = snappy.DecodedLen(src); err == nil && got == size {
			_, err = snappy.Decode(dst, src)
		}
	case format.Gzip:
		var r io.Reader
		if r, err = gzip.NewReader(bytes.NewReader(src)); err == nil {
			got, err = readAll(r, dst)
		}
	case format.Brotli:
		got, err = readAll(brotli.NewReader(bytes.NewReader(src)), dst)
	case format.Zstd:
		var r *zstd.Decoder
		if r, err = zstd.NewReader(bytes.NewReader(src), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxPageSize), zstd.WithDecoderMaxWindow(MaxPageSize)); err == nil {
			got, err = readAll(r, dst)
			r.Close()
		}
	case format.Lz4Raw:
		got, err = lz4.UncompressBlock(src, dst)
	default:
		return nil, fmt.Errorf("compression %s is not supported", codec)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", codec, err)
	}
	if got != size {
		return nil, fmt.Errorf("decompresses to %d bytes or more, its header says %d", got, size)
	}
	return dst, nil
}

// readAll reads r into dst, and one byte more if r has it.
func readAll(r io.Reader, dst []byte) (int, error) {
	n, err := io.ReadFull(r, dst)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return n, nil
	}
	if err != nil {
		return n, err
	}
	var one [1]byte
	if k, _ := r.Read(one[:]); k > 0 {
		return n + 1, nil
	}
	return n, nil
}

// readPageHeader decodes the page header at pos, reading more of the file
// until the whole header is in buf, and returns it with its length.
func readPageHeader(r io.ReaderAt, pos, end int64, buf *[]byte) (*format.PageHeader, int64, error) {
	for size := int64(256); ; size *= 4 {
		size = min(size, end-pos, maxHeader)
		if int64(cap(*buf)) < size {
			*buf = make([]byte, size)
		}
		b := (*buf)[:size]
		if _, err := r.ReadAt(b, pos); err != nil && !(errors.Is(err, io.EOF) && pos+size <= end) {
			return nil, 0, err
		}
		n, err := skimStruct(b, 0)
		if errors.Is(err, errShort) && size < min(end-pos, maxHeader) {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		h := new(format.PageHeader)
		if err := thrift.Unmarshal(new(thrift.CompactProtocol), b[:n], h); err != nil {
			return nil, 0, err
		}
		return h, int64(n), nil
	}
}

// errShort means the bytes end inside a Thrift structure.
var errShort = errors.New("thrift structure runs past the end of its bytes")

// Thrift compact protocol types.
const (
	tTrue, tFalse, tByte, tI16, tI32, tI64, tDouble, tBinary, tList, tSet, tMap, tStruct = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
)

// skimStruct walks the Thrift compact-protocol structure at the start of b
// without decoding it and returns its length. It fails when a string or a
// collection claims more bytes or elements than remain (every element takes
// at least one byte), so that the decoder, which allocates what a length
// says before reading, can then be given b safely.
func skimStruct(b []byte, depth int) (int, error) {
	if depth > maxThriftDepth {
		return 0, fmt.Errorf("thrift structures nested more than %d deep", maxThriftDepth)
	}
	pos := 0
	for {
		if pos >= len(b) {
			return 0, errShort
		}
		h := b[pos]
		pos++
		if h == 0 {
			return pos, nil
		}
		if h>>4 == 0 { // the field id follows as a varint
			_, n, err := uvarint(b[pos:])
			if err != nil {
				return 0, err
			}
			pos += n
		}
		n, err := skimValue(b[pos:], h&0x0f, depth)
		if err != nil {
			return 0, err
		}
		pos += n
	}
}

// skimValue returns the length of a value of type t at the start of b.
func skimValue(b []byte, t byte, depth int) (int, error) {
	switch t {
	case tTrue, tFalse:
		return 0, nil
	case tByte:
		if len(b) < 1 {
			return 0, errShort
		}
		return 1, nil
	case tI16, tI32, tI64:
		_, n, err := uvarint(b)
		return n, err
	case tDouble:
		if len(b) < 8 {
			return 0, errShort
		}
		return 8, nil
	case tBinary:
		l, n, err := uvarint(b)
		if err != nil {
			return 0, err
		}
		if l > uint64(len(b)-n) {
			return 0, fmt.Errorf("a string claims %d bytes in %d: %w", l, len(b)-n, errShort)
		}
		return n + int(l), nil
	case tList, tSet:
		if len(b) < 1 {
			return 0, errShort
		}
		size, et, pos := uint64(b[0]>>4), b[0]&0x0f, 1
		if size == 15 {
			s, n, err := uvarint(b[1:])
			if err != nil {
				return 0, err
			}
			size, pos = s, 1+n
		}
		return skimElements(b, pos, size, []byte{et}, depth)
	case tMap:
		size, pos, err := uvarint(b)
		if err != nil {
			return 0, err
		}
		if size == 0 {
			return pos, nil
		}
		if pos >= len(b) {
			return 0, errShort
		}
		kv := b[pos]
		return skimElements(b, pos+1, size, []byte{kv >> 4, kv & 0x0f}, depth)
	case tStruct:
		return skimStruct(b, depth+1)
	}
	return 0, fmt.Errorf("thrift type %d is not a type", t)
}

// skimElements skims size elements of the types in types, one after the
// other, from b[pos:], and returns the position after them.
func skimElements(b []byte, pos int, size uint64, types []byte, depth int) (int, error) {
	if size > uint64(len(b)-pos) {
		return 0, fmt.Errorf("a collection claims %d elements in %d bytes: %w", size, len(b)-pos, errShort)
	}
	for range size {
		for _, t := range types {
			if t == tTrue || t == tFalse { // a boolean element takes a byte
				t = tByte
			}
			n, err := skimValue(b[pos:], t, depth+1)
			if err != nil {
				return 0, err
			}
			pos += n
		}
	}
	return pos, nil
}

// uvarint reads a ULEB128 varint.
func uvarint(b []byte) (uint64, int, error) {
	v, n := binary.Uvarint(b)
	switch {
	case n == 0:
		return 0, 0, errShort
	case n < 0:
		return 0, 0, errors.New("thrift varint overflows 64 bits")
	}
	return v, n, nil
}
