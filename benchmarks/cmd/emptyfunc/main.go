// Command emptyfunc is the serving benchmark's HTTP floor: a Knative
// Functions HTTP function on the same server stack as the predict function
// (knative.dev/func-go's HTTP service) whose handler reads the request body
// and answers an empty JSON object.
//
// With BENCH_HANDLER_WORK set to a duration (5us), the handler first keeps
// the CPU busy that long: how much throughput a handler's own work costs on
// this stack, which benchmarks/NOTES.md (eighth pass) sets beside predict's.
// The benchmark runs it without.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	fhttp "knative.dev/func-go/http"
)

type empty struct{ work time.Duration }

// Handle drains the body, works for e.work, and answers {}.
func (e empty) Handle(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	if e.work > 0 {
		// Reading the clock is the work: the loop cannot be optimised
		// away, and no state is shared between the requests' goroutines.
		for start := time.Now(); time.Since(start) < e.work; {
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("{}\n"))
}

func main() {
	var e empty
	if s := os.Getenv("BENCH_HANDLER_WORK"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			fmt.Fprintf(os.Stderr, "emptyfunc: BENCH_HANDLER_WORK=%q is not a duration such as 5us\n", s)
			os.Exit(2)
		}
		e.work = d
	}
	fhttp.SetLogLevel(fhttp.LogWarn)
	if err := fhttp.New(e).Start(context.Background()); err != nil {
		os.Exit(1)
	}
}
