package blobstore

import (
	"context"
	"slices"
	"strings"
	"testing"

	"gocloud.dev/blob"
)

func TestAMissingDriverSaysWhichTagAddsIt(t *testing.T) {
	t.Parallel()
	for scheme, tag := range optionalDrivers {
		if slices.Contains(blob.DefaultURLMux().BucketSchemes(), scheme) {
			continue // built with the tag
		}
		_, err := Open(context.Background(), scheme+"://bucket")
		if err == nil || !strings.Contains(err.Error(), "-tags "+tag) {
			t.Errorf("Open(%s://) = %v, want advice to build with -tags %s", scheme, err, tag)
		}
	}
}
