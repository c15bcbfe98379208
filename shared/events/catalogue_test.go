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

func TestParseConsumer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Consumer
		ok   bool
	}{
		{"train", Consumer{Service: "train"}, true},
		{"drift (check=drift)", Consumer{Service: "drift", Attr: "check", Value: "drift"}, true},
		{"model-gate (check=datasets)", Consumer{Service: "model-gate", Attr: "check", Value: "datasets"}, true},
		{"", Consumer{}, false},
		{"Train", Consumer{}, false},
		{"drift (check=drift", Consumer{}, false},
		{"drift (check)", Consumer{}, false},
		{"drift (check=)", Consumer{}, false},
		{"drift (Check=drift)", Consumer{}, false},
		{"drift(check=drift)", Consumer{}, false},
	} {
		got, err := ParseConsumer(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseConsumer(%q) = %+v, %v; want %+v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// Every consumer in the catalogue is one the Triggers' test and the table of
// functions can read.
func TestCatalogueConsumersParse(t *testing.T) {
	t.Parallel()
	for _, e := range Catalogue {
		for _, c := range e.Consumers {
			if _, err := ParseConsumer(c); err != nil {
				t.Errorf("%s: %v", e.Type, err)
			}
		}
	}
}
