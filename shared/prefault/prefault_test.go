package prefault

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

type record struct {
	ID    string
	Value float64
	Code  int
}

// TestSliceKeepsTheContents: prefaulting must not change a byte, whatever
// the slice's length and alignment.
func TestSliceKeepsTheContents(t *testing.T) {
	for _, n := range []int{0, 1, 3, 170, 4096, 100_000} {
		s := make([]record, n)
		for i := range s {
			s[i] = record{ID: "r", Value: float64(i) / 3, Code: i}
		}
		want := slices.Clone(s)
		Slice(s)
		if n > 1 {
			Slice(s[1 : n-1]) // starting and ending inside a page
		}
		if !slices.Equal(s, want) {
			t.Fatalf("n=%d: contents changed", n)
		}
	}
	Slice([]byte(nil))
	Slice(make([]struct{}, 10)) // no bytes at all
}

// TestSliceSparesTheFirstWrites: on Linux, a new buffer the collector
// scans before anything writes it takes a page fault per page at its first
// writes, unless Slice mapped its pages first. Each case runs in a process
// of its own, so that the buffer's memory is new from the kernel, not
// memory an earlier test freed.
func TestSliceSparesTheFirstWrites(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("MADV_POPULATE_WRITE is Linux's")
	}
	if mode := os.Getenv("PREFAULT_TEST_CHILD"); mode != "" {
		fmt.Printf("faulted %.4f\n", firstWriteFaults(t, mode == "slice"))
		return
	}
	share := func(mode string) float64 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSliceSparesTheFirstWrites$", "-test.count=1")
		cmd.Env = append(os.Environ(), "PREFAULT_TEST_CHILD="+mode)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", mode, err, out)
		}
		var f float64
		if i := strings.Index(string(out), "faulted "); i < 0 {
			t.Fatalf("%s: no figure in\n%s", mode, out)
		} else if _, err := fmt.Sscan(string(out[i+len("faulted "):]), &f); err != nil {
			t.Fatalf("%s: %v in\n%s", mode, err, out)
		}
		return f
	}
	if without := share("plain"); without < 0.5 {
		t.Fatalf("writing a scanned new buffer faulted on %.0f%% of its pages without Slice: the test cannot tell what Slice does", 100*without)
	}
	if with := share("slice"); with > 0.05 {
		t.Errorf("writing a scanned new buffer faulted on %.1f%% of its pages after Slice, want almost none", 100*with)
	}
}

// firstWriteFaults allocates a buffer, prefaults it or not, lets the
// collector scan it, and returns the share of its pages whose first write
// faulted.
func firstWriteFaults(t *testing.T, prefault bool) float64 {
	const n = 1 << 17 // 5 MiB of records
	s := make([]record, n)
	if prefault {
		Slice(s)
	}
	runtime.GC() // reads the untouched pages of s
	before := minorFaults(t)
	step := os.Getpagesize() / int(unsafe.Sizeof(record{}))
	for i := 0; i < len(s); i += step {
		s[i].Code = i
	}
	after := minorFaults(t)
	runtime.KeepAlive(s)
	return float64(after-before) / float64((len(s)+step-1)/step)
}

// minorFaults is the process's minor page faults so far.
func minorFaults(t *testing.T) int64 {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Minflt
}
