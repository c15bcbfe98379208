// Package logging builds the JSON slog logger every function uses.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
)

// levels names the levels ParseLevel accepts.
const levels = "debug, info, warn or error, optionally with an offset such as warn+2"

// ParseLevel reads a level as slog.Level.UnmarshalText does: debug, info,
// warn or error in any case, optionally with an offset ("warn+2",
// "info-4"). It also takes "warning" for warn, which LOG_LEVEL has always
// accepted.
func ParseLevel(s string) (slog.Level, error) {
	if strings.EqualFold(s, "warning") {
		s = "warn"
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("logging: unknown level %q: want %s", s, levels)
	}
	return l, nil
}

// New returns a JSON logger at the named level (see ParseLevel) that tags
// every line with the component. The functions' configuration has refused
// an unknown level before New sees it (config.Load); should one get here
// anyway, the logger runs at info and says so in its first line.
func New(w io.Writer, level, component string) *slog.Logger {
	l, err := ParseLevel(level)
	if err != nil {
		l = slog.LevelInfo
	}
	log := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})).With("component", component)
	if err != nil {
		log.Warn("logging at info", "error", err.Error())
	}
	return log
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
