// Command emptyfunc is the serving benchmark's HTTP floor: a Knative
// Functions HTTP function on the same server stack as the predict function
// (knative.dev/func-go's HTTP service) whose handler reads the request body
// and answers an empty JSON object.
package main

import (
	"context"
	"io"
	"net/http"
	"os"

	fhttp "knative.dev/func-go/http"
)

type empty struct{}

// Handle drains the body and answers {}.
func (empty) Handle(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("{}\n"))
}

func main() {
	fhttp.SetLogLevel(fhttp.LogWarn)
	if err := fhttp.New(empty{}).Start(context.Background()); err != nil {
		os.Exit(1)
	}
}
