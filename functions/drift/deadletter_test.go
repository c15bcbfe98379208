package function

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/deadletter"
	"github.com/claimrisk/claimrisk/shared/events"
)

// TestKeepsKnativeDeadLetters: on a cluster the broker sends what it could
// not deliver to this function; each lands in the bucket with its reason,
// also when it is unsigned (a missing signature may be why it was refused),
// while an unsigned event of any other kind is still refused.
func TestKeepsKnativeDeadLetters(t *testing.T) {
	bucket := "file://" + t.TempDir()
	t.Setenv("CLAIMRISK_BUCKET", bucket)
	t.Setenv("CLAIMRISK_EVENT_KEY", "test-event-key")
	t.Setenv("LOG_LEVEL", "error")
	fn := New()
	ctx := context.Background()
	if err := fn.Start(ctx, nil); err != nil {
		t.Fatal(err)
	}
	defer fn.Stop(ctx)

	e := event.New()
	e.SetID("upload-1")
	e.SetType(events.DatasetUploaded)
	e.SetSource("/claimrisk/cli")
	if err := e.SetData(event.ApplicationJSON, map[string]string{"dataset_id": "d1"}); err != nil {
		t.Fatal(err)
	}
	unsigned := e.Clone()
	if _, err := fn.Handle(ctx, unsigned); err == nil || !isStatus(err, 401) {
		t.Fatalf("an unsigned upload event: %v, want 401", err)
	}

	e.SetExtension(deadletter.ExtDestination, "http://train.claimrisk.svc.cluster.local")
	e.SetExtension(deadletter.ExtCode, "401")
	e.SetExtension(deadletter.ExtData, base64.StdEncoding.EncodeToString([]byte("train: not signed")))
	if reply, err := fn.Handle(ctx, e); err != nil || reply != nil {
		t.Fatalf("a dead letter: reply %v, error %v; want it accepted with no reply", reply, err)
	}
	b, err := blobstore.Open(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, err := deadletter.List(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Event.ID() != "upload-1" || got[0].Status != 401 || got[0].Error != "train: not signed" {
		t.Fatalf("dead letters in the bucket: %+v", got)
	}
}

func isStatus(err error, want int) bool {
	var r *cehttp.Result
	return errors.As(err, &r) && r.StatusCode == want
}
