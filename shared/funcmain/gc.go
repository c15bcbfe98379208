package funcmain

import (
	"os"
	"runtime/debug"
)

// TuneGC sets the garbage collector's target (GOGC) to percent and its soft
// memory limit (GOMEMLIMIT) to limit bytes, each only where the
// environment does not set it. A higher target makes the collector run
// less often, for a shorter latency tail, at the cost of heap between
// collections; the limit makes it collect sooner again as the heap nears
// the container's memory, instead of growing into an out-of-memory kill.
func TuneGC(percent int, limit int64) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(percent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	}
}
