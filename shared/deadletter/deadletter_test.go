package deadletter

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/claimrisk/claimrisk/shared/blobstore"
)

func knativeDeadLetter(t *testing.T, id string) event.Event {
	t.Helper()
	e := event.New()
	e.SetID(id)
	e.SetType("dev.claimrisk.dataset.uploaded")
	e.SetSource("/claimrisk/cli")
	if err := e.SetData(event.ApplicationJSON, map[string]string{"dataset_id": "abc"}); err != nil {
		t.Fatal(err)
	}
	// What Knative's broker adds when it gives up (its dispatcher sends the
	// subscriber's answer base64-encoded).
	e.SetExtension(ExtDestination, "http://train.claimrisk.svc.cluster.local")
	e.SetExtension(ExtCode, "401")
	e.SetExtension(ExtData, base64.StdEncoding.EncodeToString([]byte("train: events: not signed with the shared event key")))
	return e
}

func TestFromKnative(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	l, ok := FromKnative(knativeDeadLetter(t, "e-1"), now)
	if !ok {
		t.Fatal("a dead-lettered event was not recognised")
	}
	if l.Status != 401 || l.Subscriber != "http://train.claimrisk.svc.cluster.local" || !strings.Contains(l.Error, "not signed") {
		t.Errorf("got status %d subscriber %q error %q", l.Status, l.Subscriber, l.Error)
	}
	if _, has := l.Event.Extensions()[ExtDestination]; has {
		t.Error("the stored event still carries the broker's error attributes")
	}
	if l.Event.ID() != "e-1" || l.Event.Type() != "dev.claimrisk.dataset.uploaded" {
		t.Errorf("stored event %s %s, want the original", l.Event.ID(), l.Event.Type())
	}
	plain := event.New()
	plain.SetID("x")
	if _, ok := FromKnative(plain, now); ok {
		t.Error("an ordinary event was taken for a dead letter")
	}
}

func TestWriteAndList(t *testing.T) {
	ctx := context.Background()
	b, err := blobstore.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := List(ctx, b); err != nil || len(got) != 0 {
		t.Fatalf("empty bucket: %d letters, %v", len(got), err)
	}
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	// An id with a slash and dots must not become a path of its own.
	ids := []string{"../../evil/id", "e-2"}
	for i, id := range ids {
		l, _ := FromKnative(knativeDeadLetter(t, id), t0.Add(time.Duration(i)*time.Second))
		key, err := Write(ctx, b, l)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(key, "/") != 1 || strings.Contains(key, "..") {
			t.Errorf("key %q leaves deadletter/", key)
		}
		// Written twice: stored once.
		if _, err := Write(ctx, b, l); err != nil {
			t.Fatal(err)
		}
	}
	got, err := List(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Event.ID() != ids[0] || got[1].Event.ID() != ids[1] {
		t.Fatalf("listed %d letters %+v, want the two in time order", len(got), got)
	}
	if got[1].Status != 401 || got[1].Key == "" {
		t.Errorf("letter %+v lost its status or key", got[1])
	}
}
