package testenv

import (
	"context"
	"errors"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/claimrisk/claimrisk/shared/events"
)

// FuzzEvents fuzzes an event function's Handle: each input is an event of
// one of types (by the first argument), with the fuzzed JSON payload and,
// when the third argument is not empty, that "check" extension (the cron
// events' job). Every event must get a reply or a 4xx (the broker routes it
// to the dead-letter sink), never a panic or a 5xx, which the broker would
// retry in vain. Seeds are (uint8, []byte, string), added by the caller.
func FuzzEvents(f *testing.F, handle func(context.Context, event.Event) (*event.Event, error), types []string) {
	f.Fuzz(func(t *testing.T, which uint8, data []byte, check string) {
		e, _ := events.New("fuzz", types[int(which)%len(types)], "/fuzz", "", map[string]string{})
		if err := e.SetData("application/json", data); err != nil {
			t.Skip()
		}
		if check != "" {
			e.SetExtension("check", check)
		}
		_, err := handle(context.Background(), e)
		var r *cehttp.Result
		status := 0
		if errors.As(err, &r) {
			status = r.StatusCode
		}
		if status >= 500 || (err != nil && status == 0) {
			t.Fatalf("%s event %q: %v (status %d); want a reply or a 4xx", e.Type(), data, err, status)
		}
	})
}
