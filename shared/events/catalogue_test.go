package events

import (
	"encoding/json"
	"testing"
)

func TestCatalogueListsEveryTypeOnce(t *testing.T) {
	t.Parallel()
	want := []string{DatasetUploaded, ModelTrained, ModelPromoted, ModelRejected, DriftDetected, Ping}
	seen := map[string]int{}
	for _, e := range Catalogue {
		seen[e.Type]++
		if e.Description == "" || e.Producer == "" {
			t.Errorf("%s: no description or producer", e.Type)
		}
		if _, err := json.Marshal(e.Example); err != nil {
			t.Errorf("%s: example does not encode: %v", e.Type, err)
		}
	}
	for _, typ := range want {
		if seen[typ] != 1 {
			t.Errorf("%s appears %d times in the catalogue, want once", typ, seen[typ])
		}
	}
	if len(Catalogue) != len(want) {
		t.Errorf("the catalogue has %d entries, the package declares %d types", len(Catalogue), len(want))
	}
}
