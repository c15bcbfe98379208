package prefault

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

var pageSize = uintptr(os.Getpagesize())

// populate asks the kernel to map the whole pages of the size bytes at p
// writable (MADV_POPULATE_WRITE): partial pages at either end are left
// alone.
func populate(p unsafe.Pointer, size uintptr) {
	skip := -uintptr(p) & (pageSize - 1) // to the first page boundary
	if size <= skip {
		return
	}
	n := (size - skip) &^ (pageSize - 1)
	if n == 0 {
		return
	}
	// The pages lie inside the caller's slice, which keeps them alive.
	b := unsafe.Slice((*byte)(unsafe.Add(p, skip)), n)
	_ = unix.Madvise(b, unix.MADV_POPULATE_WRITE) // EINVAL before Linux 5.14: the first writes fault as before
}
