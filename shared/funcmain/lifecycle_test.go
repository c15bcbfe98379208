package funcmain_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/funcmain"
)

// Events arrive while Start runs (func-go runs Start in a goroutine and
// serves at once): Admit answers 503 until Started, and reads nothing
// Started writes before readiness is on (go test -race).
func TestAdmitWhileStarting(t *testing.T) {
	t.Parallel()
	var l funcmain.Lifecycle
	e, _ := events.New("x", events.Ping, "/test", "", map[string]string{})
	go l.Started("test", nil, events.NewSigner(""), slog.New(slog.NewTextHandler(io.Discard, nil)))
	for range 1_000_000 {
		if l.Admit(e) == nil {
			return
		}
	}
	t.Fatal("Admit refused events long after Started")
}
