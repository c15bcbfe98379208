package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestParseLevel(t *testing.T) {
	t.Parallel()
	// Offsets count from the named level as slog.Level.UnmarshalText does
	// (log/slog: "Error-8" is INFO).
	tests := []struct {
		in   string
		want slog.Level
	}{
		{"debug", slog.LevelDebug},
		{"DEBUG", slog.LevelDebug},
		{"info", slog.LevelInfo},
		{"Info", slog.LevelInfo},
		{"warn", slog.LevelWarn},
		{"WARN", slog.LevelWarn},
		{"warning", slog.LevelWarn},
		{"Warning", slog.LevelWarn},
		{"error", slog.LevelError},
		{"warn+2", slog.LevelWarn + 2},
		{"error-8", slog.LevelInfo},
		{"info-4", slog.LevelDebug},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLevel(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("ParseLevel(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
			}
		})
	}
	for _, in := range []string{"", "verbose", "trace", "warn+", "info+x", "warning+2"} {
		t.Run("bad "+in, func(t *testing.T) {
			_, err := ParseLevel(in)
			if err == nil {
				t.Fatalf("ParseLevel(%q) gave no error", in)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.Contains(msg, "debug, info, warn or error") {
				t.Errorf("error %q is not one line naming the accepted levels", msg)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	lines := func(b *bytes.Buffer) []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
			if l == "" {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("line %q is not JSON: %v", l, err)
			}
			out = append(out, m)
		}
		return out
	}

	var b bytes.Buffer
	log := New(&b, "WARN", "train")
	log.Info("hidden")
	log.Warn("shown")
	got := lines(&b)
	if len(got) != 1 || got[0]["msg"] != "shown" || got[0]["component"] != "train" {
		t.Errorf("at WARN, lines = %v; want the warning alone, tagged component=train", got)
	}

	b.Reset()
	log = New(&b, "verbose", "drift")
	log.Debug("hidden")
	log.Info("shown")
	got = lines(&b)
	if len(got) != 2 || got[0]["level"] != "WARN" || !strings.Contains(got[0]["error"].(string), `"verbose"`) || got[1]["msg"] != "shown" {
		t.Errorf("for an unknown level, lines = %v; want a warning naming it, then info lines", got)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"http://alice:s3cret@mlflow:5000/": "http://%2A%2A%2A@mlflow:5000/",
		"http://127.0.0.1:5050":            "http://127.0.0.1:5050",
		"s3://bucket/prefix":               "s3://bucket/prefix",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
