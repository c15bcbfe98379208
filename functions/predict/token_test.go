package function

import (
	"context"
	"strings"
	"testing"
)

// TestRequiredTokenRefusesToStart: on a cluster (CLAIMRISK_REQUIRE_API_TOKEN)
// predict without a token would take predictions and labels from anyone,
// so it must not start, and must say what to do.
func TestRequiredTokenRefusesToStart(t *testing.T) {
	t.Setenv("CLAIMRISK_BUCKET", "file://"+t.TempDir())
	t.Setenv("CLAIMRISK_REQUIRE_API_TOKEN", "true")
	t.Setenv("CLAIMRISK_API_TOKEN", "")
	t.Setenv("LOG_LEVEL", "error")
	err := New().Start(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "CLAIMRISK_API_TOKEN is empty") || !strings.Contains(err.Error(), "claimrisk-api-token") {
		t.Fatalf("Start without a required token: %v; want a refusal naming the variable and the Secret", err)
	}

	t.Setenv("CLAIMRISK_API_TOKEN", "a-token")
	f := New()
	if err := f.Start(context.Background(), nil); err != nil {
		t.Fatalf("Start with the token: %v", err)
	}
	if err := f.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}
