package config

import (
	"strings"
	"testing"
)

func TestLoadLogLevel(t *testing.T) {
	for _, tt := range []struct {
		env, want string
	}{
		{"", "info"},
		{"WARN", "WARN"},
		{"warning", "warning"},
		{"debug+2", "debug+2"},
	} {
		t.Run("LOG_LEVEL="+tt.env, func(t *testing.T) {
			t.Setenv("LOG_LEVEL", tt.env)
			var cfg Predict
			if err := Load(&cfg); err != nil {
				t.Fatalf("Load: %v", err)
			}
			if cfg.LogLevel != tt.want {
				t.Errorf("LogLevel = %q, want %q", cfg.LogLevel, tt.want)
			}
		})
	}
	t.Run("LOG_LEVEL=verbose", func(t *testing.T) {
		t.Setenv("LOG_LEVEL", "verbose")
		var cfg Drift
		err := Load(&cfg)
		if err == nil {
			t.Fatal("Load accepted LOG_LEVEL=verbose")
		}
		const want = `config: LOG_LEVEL: logging: unknown level "verbose": want debug, info, warn or error, optionally with an offset such as warn+2`
		if err.Error() != want {
			t.Errorf("err = %q, want %q", err, want)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Error("the error is more than one line")
		}
	})
}
