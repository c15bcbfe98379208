// Package logging builds the JSON slog logger every function uses.
package logging

import (
	"io"
	"log/slog"
	"strings"
)

// New returns a JSON logger at the named level (debug, info, warn, error;
// info when unknown) that tags every line with the component.
func New(w io.Writer, level, component string) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "warn", "warning":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})).With("component", component)
}
