package function

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/claimrisk/claimrisk/shared/predictapi"
)

// TestTheAPIDescriptionListsEveryEndpoint compares the route table with
// the OpenAPI document people read: every /v1/ endpoint but the broker's
// is described, with its method, and nothing else is.
func TestTheAPIDescriptionListsEveryEndpoint(t *testing.T) {
	served := map[string]string{}
	for _, e := range endpoints {
		if strings.HasPrefix(e.path, "/v1/") && e.path != "/v1/events" {
			served[e.path] = strings.ToLower(e.method)
		}
	}
	described := map[string]string{}
	for path, ops := range predictapi.Document(100, false).Paths {
		for method := range ops {
			described[path] = method
		}
	}
	if !maps.Equal(served, described) {
		t.Errorf("served %v, described %v", slices.Sorted(maps.Keys(served)), slices.Sorted(maps.Keys(described)))
		for p, m := range served {
			if described[p] != m {
				t.Errorf("%s %s is served but described as %q", m, p, described[p])
			}
		}
	}
}
