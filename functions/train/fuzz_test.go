package function

import (
	"context"
	"testing"

	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// FuzzHandle sends arbitrary event payloads of every type to the function on
// an empty file:// bucket: each gets a reply or a 4xx (the broker routes it to
// the dead-letter sink), never a panic or a 5xx, which the broker would retry
// in vain.
func FuzzHandle(f *testing.F) {
	f.Setenv("CLAIMRISK_BUCKET", "file://"+f.TempDir())
	f.Setenv("LOG_LEVEL", "error")
	fn := New()
	if err := fn.Start(context.Background(), nil); err != nil {
		f.Fatal(err)
	}
	types := []string{events.DatasetUploaded, events.DriftDetected, events.Ping, events.ModelTrained, "com.example.other"}
	f.Add(uint8(0), []byte(`{"dataset_id":"00000000deadbeef"}`), "")
	f.Add(uint8(0), []byte(`{"dataset_id":"../../etc","bucket":"mem://"}`), "")
	f.Add(uint8(1), []byte(`{"report_key":"drift/reports/x/report.json"}`), "")
	f.Add(uint8(1), []byte(`{"report_key":"\u0000"}`), "")
	f.Add(uint8(2), []byte(`{"check":"datasets"}`), "datasets")
	f.Add(uint8(2), []byte(`{}`), "drift")
	f.Add(uint8(3), []byte(`{"run_id":"run-1"}`), "")
	f.Add(uint8(4), []byte(`[]`), "")
	testenv.FuzzEvents(f, fn.Handle, types)
}
