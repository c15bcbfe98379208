package deadletter

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/claimrisk/claimrisk/shared/blobstore"
)

// Prefix is where dead letters live in the bucket.
const Prefix = "deadletter/"

// The extension attributes Knative's broker adds to an event it gives up on.
const (
	ExtDestination = "knativeerrordest"
	ExtCode        = "knativeerrorcode"
	ExtData        = "knativeerrordata"
)

// Letter is one undelivered event.
type Letter struct {
	// Time is when it was given up on (when it was written, on a cluster).
	Time time.Time `json:"time"`
	// Trigger names the local broker's Trigger; a cluster's broker does not
	// say, so there it is empty.
	Trigger string `json:"trigger,omitempty"`
	// Subscriber is where delivery failed, on a cluster.
	Subscriber string `json:"subscriber,omitempty"`
	// Status is the last HTTP status the subscriber answered (0: none).
	Status int `json:"status"`
	// Attempts is how many times the local broker delivered it; a
	// cluster's broker does not say (0).
	Attempts int `json:"attempts,omitempty"`
	// Error is the subscriber's last answer or the broker's reason.
	Error string      `json:"error"`
	Event event.Event `json:"event"`
	// Key is the object's key, filled in by List.
	Key string `json:"-"`
}

// FromKnative reads a dead letter from an event that Knative's broker sent
// to its dead-letter sink: it carries the extension attributes above, which
// are taken off the stored event. ok is false for any other event.
func FromKnative(e event.Event, now time.Time) (l Letter, ok bool) {
	ext := e.Extensions()
	dest, ok := ext[ExtDestination]
	if !ok {
		return Letter{}, false
	}
	l = Letter{Time: now.UTC(), Subscriber: fmt.Sprint(dest)}
	if code, found := ext[ExtCode]; found {
		l.Status, _ = strconv.Atoi(fmt.Sprint(code))
	}
	if data, found := ext[ExtData]; found {
		raw := fmt.Sprint(data)
		if b, err := base64.StdEncoding.DecodeString(raw); err == nil {
			raw = string(b)
		}
		l.Error = strings.TrimSpace(raw)
	}
	if l.Error == "" {
		l.Error = fmt.Sprintf("the broker gave up delivering to %s", l.Subscriber)
	}
	stored := e.Clone()
	for _, name := range []string{ExtDestination, ExtCode, ExtData} {
		stored.SetExtension(name, nil)
	}
	l.Event = stored
	return l, true
}

// KeyOf is the object key of a letter: by time, so a listing is in order,
// then a digest of the event's source and id, which may hold any character.
func KeyOf(l Letter) string {
	sum := sha256.Sum256([]byte(l.Event.Source() + "\x00" + l.Event.ID()))
	return Prefix + l.Time.UTC().Format("20060102T150405.000") + "-" + hex.EncodeToString(sum[:8]) + ".json"
}

// Write stores a letter under KeyOf. The same event given up on twice in
// one millisecond is stored once.
func Write(ctx context.Context, b *blobstore.Bucket, l Letter) (string, error) {
	key := KeyOf(l)
	err := b.CreateJSON(ctx, key, l)
	if errors.Is(err, blobstore.ErrExists) {
		return key, nil
	}
	if err != nil {
		return "", fmt.Errorf("deadletter: write %s: %w", key, err)
	}
	return key, nil
}

// List returns every letter, oldest first. A letter that cannot be read is
// returned with its key and the reason in Error, so nothing is hidden.
func List(ctx context.Context, b *blobstore.Bucket) ([]Letter, error) {
	keys, err := b.Keys(ctx, Prefix)
	if errors.Is(err, blobstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("deadletter: list: %w", err)
	}
	slices.Sort(keys)
	out := make([]Letter, 0, len(keys))
	for _, key := range keys {
		if !strings.HasSuffix(key, ".json") {
			continue
		}
		var l Letter
		if err := b.ReadJSON(ctx, key, &l); err != nil {
			l = Letter{Error: fmt.Sprintf("unreadable dead letter: %v", err)}
		}
		l.Key = key
		out = append(out, l)
	}
	return out, nil
}
