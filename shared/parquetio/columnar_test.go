package parquetio_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parquet-go/parquet-go"

	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/synth"
)

// rowwise is the reader parquetio used before it read column by column:
// parquet-go rebuilding each row. The columnar reader must give the same
// rows.
func rowwise[T any](t *testing.T, data []byte) []T {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	r := parquet.NewGenericReader[T](f)
	defer r.Close()
	out := make([]T, f.NumRows())
	n, err := r.Read(out)
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return out[:n]
}

// same checks that Decode reads back what was written, as the row-wise
// reader does, exactly (time.Time included, location and all).
func same[T any](t *testing.T, name string, rows []T) {
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		data := smallPages(t, rows)
		got, err := parquetio.Decode[T](data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rows, got) {
			t.Errorf("Decode differs from what was written (-want +got):\n%s", cmp.Diff(rows, got))
		}
		// == on time.Time compares the location too.
		if old := rowwise[T](t, data); !reflect.DeepEqual(old, got) {
			t.Errorf("Decode differs from the row-wise reader (-rowwise +columnar):\n%s", cmp.Diff(old, got, cmp.Comparer(func(a, b time.Time) bool { return a == b })))
		}
	})
}

// smallPages writes rows as parquetio does, but in pages of 4 KiB, so that
// a few thousand rows make many pages.
func smallPages[T any](t *testing.T, rows []T) []byte {
	t.Helper()
	var buf bytes.Buffer
	err := parquet.Write(&buf, rows, parquet.PageBufferSize(4096), parquet.DefaultEncodingFor(parquet.ByteArray, &parquet.Plain), parquet.DataPageVersion(1), parquet.Compression(&parquet.Snappy))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// logRows are n logged predictions with varied values, as the predict
// function writes them.
func logRows(n int, seed uint64) []predlog.Row {
	rng := rand.New(rand.NewPCG(seed, 1))
	types, usages, covers := []string{"sedan", "suv", "pickup", "van", "sports"}, []string{"pleasure", "commute", "business"}, []string{"liability", "standard", "comprehensive"}
	t0 := time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)
	rows := make([]predlog.Row, n)
	for i := range rows {
		rows[i] = predlog.Row{
			Time: t0.Add(time.Duration(rng.IntN(3_600_000)) * time.Millisecond), RequestID: fmt.Sprintf("req-%x", rng.Uint64()), ModelVersion: int32(1 + rng.IntN(3)),
			PolicyRecord: schema.PolicyRecord{
				PolicyID:   fmt.Sprintf("p%x", rng.Uint32()),
				CustomerID: fmt.Sprintf("c%x", rng.Uint32()),
				Driver: schema.Driver{
					Age:           18 + 70*rng.Float64(),
					YearsLicensed: 40 * rng.Float64(),
					HomeArea:      1 + rng.IntN(25),
				},
				Cover: schema.Cover{
					VehicleType:   types[rng.IntN(5)],
					VehicleAge:    rng.IntN(20),
					Usage:         usages[rng.IntN(3)],
					AnnualMileage: 1000 + 30000*rng.Float64(),
					Coverage:      covers[rng.IntN(3)],
					Deductible:    []int{250, 500, 1000}[rng.IntN(3)],
				},
			},
			CrashRate: rng.Float64() * 10, InjuryShare: rng.Float64(), Probability: rng.Float64(), Band: []string{"low", "medium", "high"}[rng.IntN(3)],
		}
	}
	return rows
}

func TestDecodeAgreesWithTheRowwiseReader(t *testing.T) {
	t.Parallel()
	cfg := synth.DefaultConfig()
	cfg.Policies = 3000
	d, err := synth.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "customers", d.Customers)
	same(t, "policies", d.Policies)
	same(t, "claims", d.Claims)
	same(t, "accidents", d.Accidents)
	rows := logRows(3000, 1)
	same(t, "log", rows)
	ref := make([]predlog.ReferenceRow, len(rows))
	for i, r := range rows {
		ref[i] = predlog.ReferenceRow{Row: r, StartDate: schema.DateOf(r.Time), Claim: int32(i % 2)}
	}
	same(t, "reference", ref)
	same(t, "records", func() []schema.PolicyRecord {
		out := make([]schema.PolicyRecord, len(rows))
		for i, r := range rows {
			out[i] = r.PolicyRecord
		}
		return out
	}())
	same(t, "feedback", []predlog.Feedback{{Time: time.UnixMilli(1_750_000_000_123).UTC(), RequestID: "r", PolicyID: "p", Claim: 1, PredictedAt: time.UnixMilli(1_749_999_000_000).UTC()}})
	same(t, "empty", []predlog.Feedback{})
}

// TestReaderStreamsAcrossRowGroupsAndPages reads a file of several row
// groups, each of several pages, in buffers that end inside pages and row
// groups, and gets every row once, in order.
func TestReaderStreamsAcrossRowGroupsAndPages(t *testing.T) {
	t.Parallel()
	rows := logRows(2500, 2)
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[predlog.Row](&buf, parquet.PageBufferSize(4096))
	for lo := 0; lo < len(rows); lo += 700 {
		if _, err := w.Write(rows[lo:min(lo+700, len(rows))]); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{1, 99, 700, 999, 3000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			r, err := parquetio.Open[predlog.Row](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.NumRows() != int64(len(rows)) {
				t.Fatalf("NumRows = %d, want %d", r.NumRows(), len(rows))
			}
			var got []predlog.Row
			chunk := make([]predlog.Row, size)
			for {
				n, err := r.Read(chunk)
				got = append(got, chunk[:n]...)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					t.Fatal("Read returned no rows and no error")
				}
			}
			if !reflect.DeepEqual(rows, got) {
				t.Errorf("rows differ (-want +got):\n%s", cmp.Diff(rows, got))
			}
		})
	}
}

// narrow is a consumer that needs two columns of the log.
type narrow struct {
	Age         float64 `parquet:"age"`
	Probability float64 `parquet:"probability"`
}

func TestDecodeReadsOnlyTheColumnsOfT(t *testing.T) {
	t.Parallel()
	rows := logRows(100, 3)
	data, err := parquetio.Encode(rows)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parquetio.Decode[narrow](data)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if got[i] != (narrow{r.Age, r.Probability}) {
			t.Fatalf("row %d = %+v, want age %v and probability %v", i, got[i], r.Age, r.Probability)
		}
	}
}

// TestDecodeColumnsReadsOnlyTheNamedColumns reads two columns of full
// rows: those fields hold the file's values, the others are left alone,
// and a name that is no column of the rows is an error.
func TestDecodeColumnsReadsOnlyTheNamedColumns(t *testing.T) {
	t.Parallel()
	rows := logRows(300, 4)
	data, err := parquetio.Encode(rows)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]predlog.Row, 1, 400)
	dst[0].Band = "kept"
	got, err := parquetio.DecodeColumnsAppend(dst, data, []string{"probability", "customer_id"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 301 || got[0].Band != "kept" {
		t.Fatalf("got %d rows, the first %+v; want the given row kept and 300 more", len(got), got[0])
	}
	for i, r := range rows {
		want := predlog.Row{}
		want.Probability, want.CustomerID = r.Probability, r.CustomerID
		if fmt.Sprintf("%+v", got[i+1]) != fmt.Sprintf("%+v", want) {
			t.Fatalf("row %d = %+v, want only probability and customer_id: %+v", i, got[i+1], want)
		}
	}
	if _, err := parquetio.DecodeColumnsAppend[predlog.Row](nil, data, []string{"probability", "no_such"}); err == nil || !strings.Contains(err.Error(), "no_such") {
		t.Errorf("an unknown column: err = %v, want one naming it", err)
	}
}

// pyarrowRow is row i of the files testdata/pyarrow/make.py writes.
func pyarrowRow(i int) predlog.Row {
	return predlog.Row{
		Time: time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC).Add(time.Duration(1237*i) * time.Millisecond), RequestID: fmt.Sprintf("req-%06d", i), ModelVersion: int32(1 + i%3),
		PolicyRecord: schema.PolicyRecord{
			PolicyID:   fmt.Sprintf("p%05d", i*7919%100000),
			CustomerID: fmt.Sprintf("c%05d", i/2),
			Driver: schema.Driver{
				Age:           18 + float64(i%700)/10,
				YearsLicensed: float64(i%400) / 10,
				HomeArea:      1 + i%25,
			},
			Cover: schema.Cover{
				VehicleType:   []string{"sedan", "suv", "pickup", "van", "sports"}[i%5],
				VehicleAge:    i % 20,
				Usage:         []string{"pleasure", "commute", "business"}[i%3],
				AnnualMileage: float64(1000 + (i*37)%30000),
				Coverage:      []string{"liability", "standard", "comprehensive"}[i%3],
				Deductible:    []int{250, 500, 1000, 2000}[i%4],
			},
		},
		CrashRate: float64(i%90) / 10, InjuryShare: float64(i%100) / 100, Probability: float64(i%997) / 997, Band: []string{"low", "medium", "high"}[i%3],
	}
}

// TestDecodeReadsWhatPyarrowWrites reads files written with pyarrow's
// defaults (optional columns, every column dictionary-encoded) and with
// version 2 data pages, zstd, microsecond timestamps and nulls: a null is
// the field's zero value, as parquet-go's row reader gave it.
func TestDecodeReadsWhatPyarrowWrites(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		file  string
		nulls bool
	}{{"log-defaults.parquet", false}, {"log-v2-zstd-nulls.parquet", true}} {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", "pyarrow", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := parquetio.Decode[predlog.Row](data)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]predlog.Row, 1200)
			for i := range want {
				want[i] = pyarrowRow(i)
				if tt.nulls && i%97 == 0 {
					want[i].Age, want[i].VehicleType, want[i].HomeArea = 0, "", 0
				}
			}
			if !reflect.DeepEqual(want, got) {
				t.Errorf("rows differ (-want +got):\n%s", cmp.Diff(want, got))
			}
			if old := rowwise[predlog.Row](t, data); !reflect.DeepEqual(old, got) {
				t.Errorf("Decode differs from the row-wise reader (-rowwise +columnar):\n%s", cmp.Diff(old, got))
			}
		})
	}
}

// FuzzDecodeLog decodes mutated payload-log files: it must return rows or
// ErrMalformed, never panic, and never allocate what a corrupt size asks
// for (the fuzzer's memory limit catches that).
func FuzzDecodeLog(f *testing.F) {
	good, err := parquetio.Encode(logRows(3, 4))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	for _, name := range []string{"tiny-defaults.parquet", "tiny-v2-zstd-nulls.parquet"} {
		data, err := os.ReadFile(filepath.Join("testdata", "pyarrow", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := parquetio.Decode[predlog.Row](data)
		if err != nil && !errors.Is(err, parquetio.ErrMalformed) {
			t.Fatalf("Decode = %v, want ErrMalformed", err)
		}
		if err == nil && int64(len(rows)) > 64*int64(len(data)) {
			t.Fatalf("%d rows from %d bytes", len(rows), len(data))
		}
	})
}

// TestZeroTimeReadsBackAsZero: an outcome without predicted_at is stored
// with a zero time.Time, a millisecond timestamp in year 1. It must read
// back as zero (pyarrow reads year 1 too), not as parquet-go's row reader
// has it (1754, through an overflow in nanoseconds).
func TestZeroTimeReadsBackAsZero(t *testing.T) {
	rows := []predlog.Feedback{{Time: time.UnixMilli(1_750_000_000_123).UTC(), RequestID: "r", PolicyID: "p", Claim: 1}}
	data, err := parquetio.Encode(rows)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parquetio.Decode[predlog.Feedback](data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].PredictedAt.IsZero() || !got[0].Time.Equal(rows[0].Time) {
		t.Fatalf("decoded %+v; want predicted_at zero", got)
	}
}

// TestDecodeAppendFillsTheRoomItIsGiven decodes three files into one slice
// sized from their row counts: the rows are the files' in order, and the
// slice is never moved, as ReadWindow relies on for a window's rows.
func TestDecodeAppendFillsTheRoomItIsGiven(t *testing.T) {
	t.Parallel()
	parts := [][]predlog.Row{logRows(700, 1), logRows(1, 2), logRows(2500, 3)}
	var files [][]byte
	var total int64
	var want []predlog.Row
	for _, p := range parts {
		data := smallPages(t, p)
		r, err := parquetio.Open[predlog.Row](bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		n := r.Capacity()
		r.Close()
		if n != int64(len(p)) {
			t.Fatalf("Capacity says %d, the file holds %d", n, len(p))
		}
		files, total, want = append(files, data), total+n, append(want, p...)
	}
	got := make([]predlog.Row, 0, total)
	first := &got[:1][0]
	for _, data := range files {
		var err error
		if got, err = parquetio.DecodeAppend(got, data); err != nil {
			t.Fatal(err)
		}
	}
	if &got[0] != first {
		t.Error("DecodeAppend moved the rows though they had room")
	}
	if !reflect.DeepEqual(want, got) {
		t.Errorf("rows differ (-want +got):\n%s", cmp.Diff(want, got))
	}
	// A damaged file leaves what was there before.
	before := len(got)
	if got, err := parquetio.DecodeAppend(got, files[0][:len(files[0])/2]); err == nil || len(got) != before {
		t.Errorf("a cut file: %d rows, error %v; want the %d rows before and an error", len(got), err, before)
	}
}
