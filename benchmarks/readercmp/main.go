// Command readercmp compares Parquet readers on the same files, each run
// interleaved with the other in one process, CPU time (user + system, GC
// included) and bytes allocated per row:
//
//   - -mode readers: every column into typed slices, with parquet-go's page
//     API and with Apache Arrow's Go column readers (ReadBatch);
//   - -mode structs: into row structs, with parquetio.Decode (columnar)
//     and with parquet-go's GenericReader (row by row, as before issue 17).
//
// It is a module of its own so that Arrow stays out of the project's
// go.mod. The files come from ./gen (run it in an empty directory; a
// pyarrow copy of records.parquet is made with pq.write_table):
//
//	go run ./gen && go run . -reps 5 window-object.parquet records.parquet
//	go run . -mode structs window-object.parquet records.parquet policies.parquet customers.parquet
//
// benchmarks/NOTES.md gives its figures and what they decided.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	pq "github.com/parquet-go/parquet-go"

	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// cols is a file read into typed slices, by column name.
type cols struct {
	f64 map[string][]float64
	i64 map[string][]int64
	i32 map[string][]int32
	str map[string][]string
}

func newCols() *cols {
	return &cols{map[string][]float64{}, map[string][]int64{}, map[string][]int32{}, map[string][]string{}}
}

// viaParquetGo reads every column, page by page (page.Data()).
func viaParquetGo(data []byte, names []string) *cols {
	f, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)), pq.SkipPageIndex(true), pq.SkipBloomFilters(true))
	if err != nil {
		panic(err)
	}
	out := newCols()
	n := f.NumRows()
	for _, name := range names {
		col := f.Root().Column(name)
		kind := col.Type().Kind()
		var fs []float64
		var is []int64
		var i3 []int32
		var ss []string
		switch kind {
		case pq.Double:
			fs = make([]float64, 0, n)
		case pq.Int64:
			is = make([]int64, 0, n)
		case pq.Int32:
			i3 = make([]int32, 0, n)
		case pq.ByteArray:
			ss = make([]string, 0, n)
		}
		var dict pq.Dictionary
		var dictStr []string
		for _, rg := range f.RowGroups() {
			pages := rg.ColumnChunks()[col.Index()].Pages()
			for {
				p, err := pages.ReadPage()
				if err == io.EOF {
					break
				}
				if err != nil {
					panic(err)
				}
				v := p.Data()
				d := p.Dictionary()
				if d != nil && kind != pq.ByteArray {
					dv := d.Page().Data()
					for _, k := range v.Int32() {
						switch kind {
						case pq.Double:
							fs = append(fs, dv.Double()[k])
						case pq.Int64:
							is = append(is, dv.Int64()[k])
						case pq.Int32:
							i3 = append(i3, dv.Int32()[k])
						}
					}
					pq.Release(p)
					continue
				}
				switch kind {
				case pq.Double:
					fs = append(fs, v.Double()...)
				case pq.Int64:
					is = append(is, v.Int64()...)
				case pq.Int32:
					i3 = append(i3, v.Int32()...)
				case pq.ByteArray:
					if d != nil {
						if d != dict {
							dv := d.Page().Data()
							dict, dictStr = d, toStrings(dv.ByteArray())
						}
						for _, k := range v.Int32() {
							ss = append(ss, dictStr[k])
						}
					} else {
						ss = append(ss, toStrings(v.ByteArray())...)
					}
				}
				pq.Release(p)
			}
			pages.Close()
		}
		out.f64[name], out.i64[name], out.i32[name], out.str[name] = fs, is, i3, ss
	}
	return out
}

func toStrings(data []byte, off []uint32) []string {
	s := string(data)
	out := make([]string, len(off)-1)
	for i := range out {
		out[i] = s[off[i]:off[i+1]]
	}
	return out
}

// viaArrow reads every column with the typed column chunk readers.
func viaArrow(data []byte, names []string, batch int) *cols {
	r, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		panic(err)
	}
	defer r.Close()
	out := newCols()
	n := r.NumRows()
	sc := r.MetaData().Schema
	for _, name := range names {
		ci := sc.ColumnIndexByName(name)
		var fs []float64
		var is []int64
		var i3 []int32
		var ss []string
		fb, ib, i3b, bb := make([]float64, batch), make([]int64, batch), make([]int32, batch), make([]parquet.ByteArray, batch)
		for g := range r.NumRowGroups() {
			cr, err := r.RowGroup(g).Column(ci)
			if err != nil {
				panic(err)
			}
			for cr.HasNext() {
				switch c := cr.(type) {
				case *file.Float64ColumnChunkReader:
					if fs == nil {
						fs = make([]float64, 0, n)
					}
					_, k, err := c.ReadBatch(int64(batch), fb, nil, nil)
					check(err)
					fs = append(fs, fb[:k]...)
				case *file.Int64ColumnChunkReader:
					if is == nil {
						is = make([]int64, 0, n)
					}
					_, k, err := c.ReadBatch(int64(batch), ib, nil, nil)
					check(err)
					is = append(is, ib[:k]...)
				case *file.Int32ColumnChunkReader:
					if i3 == nil {
						i3 = make([]int32, 0, n)
					}
					_, k, err := c.ReadBatch(int64(batch), i3b, nil, nil)
					check(err)
					i3 = append(i3, i3b[:k]...)
				case *file.ByteArrayColumnChunkReader:
					if ss == nil {
						ss = make([]string, 0, n)
					}
					_, k, err := c.ReadBatch(int64(batch), bb, nil, nil)
					check(err)
					// One string per batch, as parquet-go's side makes one per page.
					size := 0
					for _, b := range bb[:k] {
						size += len(b)
					}
					buf := make([]byte, 0, size)
					for _, b := range bb[:k] {
						buf = append(buf, b...)
					}
					s := string(buf)
					pos := 0
					for _, b := range bb[:k] {
						ss = append(ss, s[pos:pos+len(b)])
						pos += len(b)
					}
				}
			}
			cr.Close()
		}
		out.f64[name], out.i64[name], out.i32[name], out.str[name] = fs, is, i3, ss
	}
	return out
}

func check(err error) {
	if err != nil && err != io.EOF {
		panic(err)
	}
}

func same(a, b *cols) error {
	for k, v := range a.f64 {
		w := b.f64[k]
		if len(v) != len(w) {
			return fmt.Errorf("%s: %d vs %d", k, len(v), len(w))
		}
		for i := range v {
			if v[i] != w[i] {
				return fmt.Errorf("%s[%d]", k, i)
			}
		}
	}
	for k, v := range a.str {
		w := b.str[k]
		if len(v) != len(w) {
			return fmt.Errorf("%s: %d vs %d", k, len(v), len(w))
		}
		for i := range v {
			if v[i] != w[i] {
				return fmt.Errorf("%s[%d]", k, i)
			}
		}
	}
	for k, v := range a.i64 {
		if len(v) != len(b.i64[k]) {
			return fmt.Errorf("%s", k)
		}
	}
	return nil
}

type sample struct {
	secs  float64 // CPU time of the process (user + system), GC included
	alloc uint64
}

func cpu() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func measure(f func()) sample {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	t := cpu()
	f()
	s := cpu() - t
	runtime.ReadMemStats(&m1)
	return sample{s, m1.TotalAlloc - m0.TotalAlloc}
}

// rowwise is parquetio.Decode before this change: parquet-go's GenericReader.
func rowwise[T any](data []byte) []T {
	f, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		panic(err)
	}
	r := pq.NewGenericReader[T](f)
	defer r.Close()
	rows := make([]T, 0, f.NumRows())
	buf := make([]T, 4096)
	for {
		n, err := r.Read(buf)
		rows = append(rows, buf[:n]...)
		if err == io.EOF {
			return rows
		}
		if err != nil {
			panic(err)
		}
	}
}

// structs compares Decode (columnar, into rows) with the row-wise reader.
func structs[T any](name string, data []byte, reps int) {
	var old, cur []sample
	n := 0
	for range reps {
		old = append(old, measure(func() { n = len(rowwise[T](data)) }))
		cur = append(cur, measure(func() {
			if _, err := parquetio.Decode[T](data); err != nil {
				panic(err)
			}
		}))
	}
	o, c := median(old), median(cur)
	fmt.Printf("%s into structs (%d rows), CPU per row:\n  row-wise (before): %.0f ns, %.0f B\n  columnar (after):  %.0f ns, %.0f B  (%.1fx less CPU)\n",
		name, n, o.secs*1e9/float64(n), float64(o.alloc)/float64(n), c.secs*1e9/float64(n), float64(c.alloc)/float64(n), o.secs/c.secs)
}

func median(v []sample) sample {
	sort.Slice(v, func(i, j int) bool { return v[i].secs < v[j].secs })
	return v[len(v)/2]
}

func main() {
	reps := flag.Int("reps", 7, "runs of each")
	batch := flag.Int("batch", 4096, "arrow batch")
	mode := flag.String("mode", "readers", "readers: parquet-go pages against Arrow; structs: Decode against the row-wise reader")
	prof := flag.String("arrowprofile", "", "CPU profile of the arrow side alone")
	flag.Parse()
	if *prof != "" {
		data, _ := os.ReadFile(flag.Arg(0))
		f, _ := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
		var names []string
		for _, c := range f.Root().Columns() {
			names = append(names, c.Name())
		}
		out, _ := os.Create(*prof)
		pprof.StartCPUProfile(out)
		for range *reps {
			viaArrow(data, names, *batch)
		}
		pprof.StopCPUProfile()
		return
	}
	type input struct {
		name  string
		files [][]byte
		names []string
		rows  int
	}
	var inputs []input
	for _, path := range flag.Args() {
		data, err := os.ReadFile(path)
		if err != nil {
			panic(err)
		}
		f, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			panic(err)
		}
		var names []string
		for _, c := range f.Root().Columns() {
			names = append(names, c.Name())
		}
		inputs = append(inputs, input{path, [][]byte{data}, names, int(f.NumRows())})
	}
	if len(inputs) == 0 {
		fmt.Fprintln(os.Stderr, "usage: readercmp FILE...")
		os.Exit(2)
	}
	if *mode == "structs" {
		for _, in := range inputs {
			switch {
			case strings.Contains(in.name, "window"):
				structs[predlog.Row](in.name, in.files[0], *reps)
			case strings.Contains(in.name, "records"):
				structs[schema.PolicyRecord](in.name, in.files[0], *reps)
			case strings.Contains(in.name, "policies"):
				structs[schema.Policy](in.name, in.files[0], *reps)
			case strings.Contains(in.name, "customers"):
				structs[schema.Customer](in.name, in.files[0], *reps)
			}
		}
		return
	}
	for _, in := range inputs {
		if err := same(viaParquetGo(in.files[0], in.names), viaArrow(in.files[0], in.names, 4096)); err != nil {
			panic(fmt.Errorf("%s: the readers disagree: %w", in.name, err))
		}
		var pg, ar []sample
		for range *reps {
			pg = append(pg, measure(func() {
				for _, d := range in.files {
					viaParquetGo(d, in.names)
				}
			}))
			ar = append(ar, measure(func() {
				for _, d := range in.files {
					viaArrow(d, in.names, *batch)
				}
			}))
		}
		p, a := median(pg), median(ar)
		rows := float64(in.rows * len(in.files))
		fmt.Printf("%s (%d rows, %d columns), CPU per row:\n  parquet-go pages: %.1f ns, %.1f B\n  arrow ReadBatch:  %.1f ns, %.1f B  (arrow/parquet-go CPU %.2fx)\n",
			in.name, int(rows), len(in.names), p.secs*1e9/rows, float64(p.alloc)/rows, a.secs*1e9/rows, float64(a.alloc)/rows, a.secs/p.secs)
	}
}
