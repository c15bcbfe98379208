package main

import (
	"os"
	"runtime/pprof"
	"time"
)

// profiled runs work with the CPU profiler writing to cpu, then writes the
// allocation profile to mem (either "" for none), and returns work's wall
// time in seconds. work's error comes first: no allocation profile then.
func profiled(cpu, mem string, work func() error) (float64, error) {
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	err := work()
	secs := time.Since(start).Seconds()
	if cpu != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return secs, err
	}
	if mem != "" {
		f, err := os.Create(mem)
		if err != nil {
			return secs, err
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return secs, err
		}
	}
	return secs, nil
}
