// Package logging builds the JSON slog logger every function uses.
package logging

import (
	"io"
	"log/slog"
	"net/url"
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

// Redact hides the credentials in a URL (user:password@host) before it is
// logged or printed.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = url.User("***")
	return u.String()
}
