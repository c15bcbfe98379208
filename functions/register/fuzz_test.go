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
	types := []string{events.ModelTrained, events.DatasetUploaded, events.ModelPromoted, events.Ping, "com.example.other"}
	f.Add(uint8(0), []byte(`{"run_id":"run-000000000000"}`), "")
	f.Add(uint8(0), []byte(`{"run_id":"../../registry/claim-risk","bucket":"file:///elsewhere"}`), "")
	f.Add(uint8(0), []byte(`{"run_id":"run-1","metrics":{"auc":1e308},"candidates":[{}]}`), "")
	f.Add(uint8(1), []byte(`{"dataset_id":"x"}`), "")
	f.Add(uint8(2), []byte(`{"version":1}`), "")
	f.Add(uint8(3), []byte(`{}`), "drift")
	testenv.FuzzEvents(f, fn.Handle, types)
}
