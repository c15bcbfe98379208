// Package prefault maps the memory of a large new buffer before its first
// use, in one system call instead of a page fault per page.
//
// It matters where Go's collector may scan a new buffer of pointers
// before the program writes it: the scan reads the untouched pages, Linux
// maps its shared zero page there, and each first write then costs a
// copy-on-write fault that flushes the other cores' TLBs. On the 2-core
// VMs this project is measured on, writing a new 4.4 MB chunk of policy
// records after such a scan took 21 ms, against 0.3 ms once prefaulted
// (benchmarks/NOTES.md, twelfth pass).
package prefault

import "unsafe"

// Slice backs the whole pages of s's elements with writable memory, on
// Linux 5.14 and later; elsewhere, or where the kernel refuses, it does
// nothing. The contents of s do not change.
func Slice[T any](s []T) {
	if len(s) == 0 {
		return
	}
	size := uintptr(len(s)) * unsafe.Sizeof(s[0])
	populate(unsafe.Pointer(unsafe.SliceData(s)), size)
}
