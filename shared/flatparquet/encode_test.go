package flatparquet_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/claimrisk/claimrisk/shared/flatparquet"
	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

func logRows(n int) []predlog.Row {
	t0 := time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)
	rows := make([]predlog.Row, n)
	for i := range rows {
		rows[i] = predlog.Row{
			Time: t0.Add(time.Duration(i*1237) * time.Millisecond), RequestID: fmt.Sprintf("req-%06d", i), ModelVersion: int32(1 + i%3),
			PolicyRecord: schema.PolicyRecord{
				PolicyID:   fmt.Sprintf("p_%024x", i*7919),
				CustomerID: fmt.Sprintf("p_%024x", i/2),
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
	return rows
}

// roundTrip encodes rows and reads them back (readsBack).
func roundTrip[T any](t *testing.T, rows []T) {
	t.Helper()
	data, err := flatparquet.Encode(rows)
	if err != nil {
		t.Fatal(err)
	}
	readsBack(t, rows, data)
}

// readsBack reads the file data with the project's reader and with
// parquet-go's row reader; both must give rows.
func readsBack[T any](t *testing.T, rows []T, data []byte) {
	t.Helper()
	got, err := parquetio.Decode[T](data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows, got) {
		t.Errorf("parquetio.Decode differs (-want +got):\n%s", cmp.Diff(rows, got))
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	r := parquet.NewGenericReader[T](f)
	old := make([]T, len(rows)+1)
	n, err := r.Read(old)
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows, old[:n]) {
		t.Errorf("parquet-go's reader differs (-want +got):\n%s", cmp.Diff(rows, old[:n]))
	}
}

func TestEncodeReadsBack(t *testing.T) {
	t.Parallel()
	rows := logRows(3000)
	roundTrip(t, rows)
	// predicted_at is set: parquet-go's reader, the oracle here, turns a
	// millisecond timestamp before 1678 (a zero time.Time) into a wrong one
	// through nanoseconds; TestZeroTimeReadsBackAsZero covers that case.
	roundTrip(t, []predlog.Feedback{
		{Time: time.UnixMilli(1_750_000_000_123).UTC(), RequestID: "r", PolicyID: "p", Claim: 1, PredictedAt: time.UnixMilli(1_749_999_000_000).UTC()},
		{Time: time.UnixMilli(0).UTC(), PredictedAt: time.UnixMilli(1).UTC()},
	})
	ref := make([]predlog.ReferenceRow, 100)
	for i := range ref {
		ref[i] = predlog.ReferenceRow{Row: rows[i], StartDate: schema.DateOf(rows[i].Time), Claim: int32(i % 2)}
	}
	roundTrip(t, ref)
	roundTrip(t, []predlog.Row{})
}

// inGroups writes rows with a Writer, a row group per size rows.
func inGroups[T any](t *testing.T, rows []T, size int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flatparquet.NewWriter[T](&buf)
	if err != nil {
		t.Fatal(err)
	}
	for lo := 0; lo < len(rows); lo += size {
		if err := w.Write(rows[lo:min(lo+size, len(rows))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestWriterWritesARowGroupPerWrite streams rows in three row groups; both
// readers get every row back, in order.
func TestWriterWritesARowGroupPerWrite(t *testing.T) {
	t.Parallel()
	rows := logRows(2500)
	data := inGroups(t, rows, 1000)
	if m := footer(t, data); len(m.RowGroups) != 3 || m.NumRows != 2500 {
		t.Fatalf("the file has %d row groups and %d rows; want 3 and 2500", len(m.RowGroups), m.NumRows)
	}
	readsBack(t, rows, data)
}

// TestEncodeSplitsLargeInputsIntoRowGroups: Encode puts at most GroupRows
// rows in a group, so no column's page grows toward the format's 2 GiB
// limit however many rows a run has, and every row reads back in order.
func TestEncodeSplitsLargeInputsIntoRowGroups(t *testing.T) {
	t.Parallel()
	type narrow struct {
		N int32 `parquet:"n"`
	}
	rows := make([]narrow, 2*flatparquet.GroupRows+3)
	for i := range rows {
		rows[i].N = int32(i)
	}
	data, err := flatparquet.Encode(rows)
	if err != nil {
		t.Fatal(err)
	}
	m := footer(t, data)
	if len(m.RowGroups) != 3 || m.NumRows != int64(len(rows)) || m.RowGroups[2].NumRows != 3 {
		t.Fatalf("the file has %d row groups and %d rows; want 3 groups (the last of 3 rows) and %d rows", len(m.RowGroups), m.NumRows, len(rows))
	}
	got, err := parquetio.Decode[narrow](data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("read back %d rows; want %d", len(got), len(rows))
	}
	for i := range got {
		if got[i] != rows[i] {
			t.Fatalf("row %d reads back as %d", i, got[i].N)
		}
	}
	// Up to GroupRows rows, and none, stay one group.
	for _, n := range []int{0, flatparquet.GroupRows} {
		data, err := flatparquet.Encode(rows[:n])
		if err != nil {
			t.Fatal(err)
		}
		if groups := len(footer(t, data).RowGroups); groups != 1 {
			t.Errorf("%d rows: %d row groups; want 1", n, groups)
		}
	}
}

// failAfter accepts n bytes, then fails every write.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

// TestWriterKeepsTheFirstError: a failed write is reported by that Write
// and by every later call, Close included.
func TestWriterKeepsTheFirstError(t *testing.T) {
	t.Parallel()
	w, err := flatparquet.NewWriter[predlog.Row](&failAfter{n: 100})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(logRows(50)); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Write on a full disk: err = %v", err)
	}
	if err := w.Write(logRows(1)); err == nil {
		t.Error("a Write after the failure: no error")
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Close after the failure: err = %v", err)
	}
}

// TestWriterKeepsAPageTooLarge: a group whose column would be more than
// one page holds fails its Write, and Close and every later Write fail
// too. Before, Close finished a file without that group's rows, and a
// caller that checked only Close stored it as whole.
func TestWriterKeepsAPageTooLarge(t *testing.T) {
	defer flatparquet.SetMaxPage(1000)()
	var buf bytes.Buffer
	w, err := flatparquet.NewWriter[predlog.Row](&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(logRows(2)); err != nil {
		t.Fatalf("a small group: %v", err)
	}
	if err := w.Write(logRows(500)); err == nil || !strings.Contains(err.Error(), "more than one page holds") {
		t.Fatalf("a group past the page limit: err = %v", err)
	}
	if err := w.Write(logRows(2)); err == nil {
		t.Error("a Write after the failure: no error")
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "more than one page holds") {
		t.Errorf("Close after the failure: err = %v", err)
	}
}

// TestEncodeOnEveryCoreWritesTheSameBytes: Encode builds a large group's
// pages on every core; the file is byte for byte the one a Writer that
// builds them one at a time writes, and a page past the limit fails it
// all the same.
func TestEncodeOnEveryCoreWritesTheSameBytes(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)) // more than one window of columns on any machine
	rows := logRows(9000)
	got, err := flatparquet.Encode(rows)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	w, err := flatparquet.NewWriter[predlog.Row](&want)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("Encode on every core wrote %d bytes that differ from the one-at-a-time Writer's %d", len(got), want.Len())
	}
	defer flatparquet.SetMaxPage(9000 * 8)()
	if _, err := flatparquet.Encode(rows); err == nil || !strings.Contains(err.Error(), "more than one page holds") {
		t.Errorf("Encode with a column past the page limit: err = %v", err)
	}
}

// footer decodes a file's metadata.
func footer(t *testing.T, data []byte) format.FileMetaData {
	t.Helper()
	n := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
	var m format.FileMetaData
	if err := thrift.Unmarshal(new(thrift.CompactProtocol), data[len(data)-8-n:len(data)-8], &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSchemaIsParquetGos compares the schema with what parquet-go writes
// for the same struct (parquetio.Encode): names, physical, converted and
// logical types, repetition. (parquet-go also sets a type length on
// numbers, which the format defines for fixed-length byte arrays only.)
func TestSchemaIsParquetGos(t *testing.T) {
	t.Parallel()
	check := func(name string, ours, theirs []byte) {
		a, b := footer(t, ours).Schema, footer(t, theirs).Schema
		for i := range b {
			b[i].TypeLength = thrift.Null[int32]{}
		}
		if diff := cmp.Diff(b, a, cmp.Comparer(func(x, y format.LogicalType) bool { return x.String() == y.String() })); diff != "" {
			t.Errorf("%s: schema differs from parquet-go's (-parquet-go +flatparquet):\n%s", name, diff)
		}
	}
	rows := logRows(3)
	ours, _ := flatparquet.Encode(rows)
	theirs, _ := parquetio.Encode(rows)
	check("Row", ours, theirs)
	ref := []predlog.ReferenceRow{{Row: rows[0]}}
	ours, _ = flatparquet.Encode(ref)
	theirs, _ = parquetio.Encode(ref)
	check("ReferenceRow", ours, theirs)
	fb := []predlog.Feedback{{}}
	ours, _ = flatparquet.Encode(fb)
	theirs, _ = parquetio.Encode(fb)
	check("Feedback", ours, theirs)
}

// TestPyarrowReadsItAsItReadsParquetGos is the Evidently data contract:
// pyarrow reads the payload log written here with the same schema and the
// same values as the file parquet-go writes for the same rows.
func TestPyarrowReadsItAsItReadsParquetGos(t *testing.T) {
	python := testenv.Python(t)
	rows := logRows(500)
	ours, _ := flatparquet.Encode(rows)
	theirs, _ := parquetio.Encode(rows)
	pyarrowAgrees(t, python, ours, theirs, inGroups(t, rows, 150), 500)
	// A run's validation and reference rows (runstore): the log's columns,
	// a date and the outcome.
	ref := make([]predlog.ReferenceRow, len(rows))
	for i := range ref {
		ref[i] = predlog.ReferenceRow{Row: rows[i], StartDate: schema.DateOf(rows[i].Time), Claim: int32(i % 3 / 2)}
	}
	ours, _ = flatparquet.Encode(ref)
	theirs, _ = parquetio.Encode(ref)
	pyarrowAgrees(t, python, ours, theirs, nil, 500)
}

// pyarrowAgrees checks that pyarrow and pandas read ours (and, when not nil,
// the same rows in four row groups) as they read parquet-go's theirs.
func pyarrowAgrees(t *testing.T, python string, ours, theirs, groups []byte, want int) {
	t.Helper()
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "flat.parquet"), filepath.Join(dir, "parquet-go.parquet"), filepath.Join(dir, "groups.parquet")
	if groups == nil {
		c = a
		groups = ours
	}
	for path, data := range map[string][]byte{a: ours, b: theirs, c: groups} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const script = `
import sys
import pyarrow.parquet as pq
a, b, c = (pq.read_table(p) for p in sys.argv[1:4])
assert a.schema.equals(b.schema), f"schemas differ:\n{a.schema}\n--\n{b.schema}"
assert c.schema.equals(b.schema), "the row groups' schema differs"
if sys.argv[3] != sys.argv[1]:
    assert pq.ParquetFile(sys.argv[3]).num_row_groups == 4
# parquet-go writes some strings dictionary-encoded; compare the values.
a, b, c = a.to_pandas(), b.to_pandas(), c.to_pandas()
assert a.equals(b), "values differ"
assert c.equals(b), "the row groups' values differ"
print(len(a))
`
	out, err := exec.Command(python, "-c", script, a, b, c).CombinedOutput()
	if err != nil {
		t.Fatalf("pyarrow: %v\n%s", err, out)
	}
	if got := string(bytes.TrimSpace(out)); got != strconv.Itoa(want) {
		t.Errorf("pyarrow read %q rows, want %d", got, want)
	}
}

// TestEncodePacedLetsWaitingGoroutinesRun holds EncodePaced to its purpose
// on one processor: a goroutine that became runnable before the encode runs
// before the encode returns, where Encode runs it only after; with a pause,
// so does one whose socket has bytes to read (a request's read in the
// predict function), which Gosched alone does not let run. The bytes are
// Encode's.
func TestEncodePacedLetsWaitingGoroutinesRun(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	rows := logRows(200)
	want, err := flatparquet.Encode(rows)
	if err != nil {
		t.Fatal(err)
	}
	check := func(data []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, want) {
			t.Fatal("the paced encode wrote other bytes than Encode")
		}
	}
	ranDuring := func(encode func([]predlog.Row) ([]byte, error)) bool {
		runtime.GC() // no collection starts in the middle and reschedules
		var ran atomic.Bool
		done := make(chan struct{})
		go func() { ran.Store(true); close(done) }()
		data, err := encode(rows)
		during := ran.Load()
		<-done
		check(data, err)
		return during
	}
	paced := func(d time.Duration) func([]predlog.Row) ([]byte, error) {
		return func(rows []predlog.Row) ([]byte, error) { return flatparquet.EncodePaced(rows, d) }
	}
	// The scheduler also preempts a goroutine that has run for 10 ms, which
	// a loaded machine (or the race detector) can stretch an Encode past:
	// the baseline gets a few tries.
	for try := 1; ranDuring(flatparquet.Encode[predlog.Row]); try++ {
		if try == 5 {
			t.Fatal("the waiting goroutine ran during Encode on one processor, five times: the test cannot tell a yield from none")
		}
	}
	if !ranDuring(paced(0)) {
		t.Error("the waiting goroutine did not run until EncodePaced(rows, 0) returned")
	}
	// A request's read: a goroutine waiting on a socket whose bytes have
	// arrived is runnable only once the scheduler polls the network, which
	// Gosched does not do while the encode is runnable. Paced by a
	// millisecond, the encode lets it read before the encode ends.
	if !readDuring(t, paced(time.Millisecond), rows) {
		t.Error("a goroutine whose socket had bytes to read did not read them until EncodePaced(rows, 1ms) returned")
	}
}

// readDuring reports whether a goroutine reading a loopback socket reads
// the bytes sent to it before encode returns, on the one processor.
func readDuring(t *testing.T, encode func([]predlog.Row) ([]byte, error), rows []predlog.Row) bool {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	var read atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := server.Read(make([]byte, 1)); err == nil {
			read.Store(true)
		}
	}()
	time.Sleep(10 * time.Millisecond) // the reader is parked on the socket
	if _, err := client.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := encode(rows); err != nil {
		t.Fatal(err)
	}
	during := read.Load()
	<-done
	return during
}

// BenchmarkEncode is Encode of a million payload-log rows, one group, as a
// run stores its validation rows.
func BenchmarkEncode(b *testing.B) {
	rows := logRows(1 << 20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := flatparquet.Encode(rows); err != nil {
			b.Fatal(err)
		}
	}
}
