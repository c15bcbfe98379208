package fnspec_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/fnspec"
)

func TestTable(t *testing.T) {
	t.Parallel()
	commonType := reflect.TypeFor[config.Common]()
	names, ports := map[string]bool{}, map[int]string{}
	for _, f := range fnspec.All() {
		if names[f.Name] {
			t.Errorf("%s appears twice", f.Name)
		}
		names[f.Name] = true
		if strings.Trim(f.Name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" || f.Name == "" {
			t.Errorf("name %q: want lowercase letters, digits and dashes (a Knative Service name)", f.Name)
		}
		if f.PortOffset < 1 {
			t.Errorf("%s: port offset %d, want 1 or more (0 is the broker's)", f.Name, f.PortOffset)
		}
		if other, ok := ports[f.PortOffset]; ok {
			t.Errorf("%s and %s share port offset %d", other, f.Name, f.PortOffset)
		}
		ports[f.PortOffset] = f.Name
		if f.Ready != fnspec.Readiness && f.Ready != fnspec.Liveness {
			t.Errorf("%s: ready path %q, want func-go's %s or %s", f.Name, f.Ready, fnspec.Readiness, fnspec.Liveness)
		}
		if f.Invoke != fnspec.InvokeCloudEvent && f.Invoke != fnspec.InvokeHTTP {
			t.Errorf("%s: invoke %q, want %q or %q", f.Name, f.Invoke, fnspec.InvokeCloudEvent, fnspec.InvokeHTTP)
		}
		if f.Config == nil {
			t.Errorf("%s: no configuration struct", f.Name)
			continue
		}
		a, b := f.Config(), f.Config()
		typ := reflect.TypeOf(a)
		if typ == nil || typ.Kind() != reflect.Pointer || typ.Elem().Kind() != reflect.Struct || typ.Elem().PkgPath() != commonType.PkgPath() {
			t.Errorf("%s: Config returns a %v, want a pointer to a struct of shared/config", f.Name, typ)
			continue
		}
		if typ.Elem() != commonType {
			if field, ok := typ.Elem().FieldByName("Common"); !ok || !field.Anonymous || field.Type != commonType {
				t.Errorf("%s: %v does not embed config.Common", f.Name, typ.Elem())
			}
		}
		if reflect.ValueOf(a).Pointer() == reflect.ValueOf(b).Pointer() {
			t.Errorf("%s: Config returns the same struct twice; each caller needs its own", f.Name)
		}
	}
	if got, want := len(fnspec.Names()), len(fnspec.All()); got != want {
		t.Errorf("Names has %d entries, All %d", got, want)
	}
	for _, name := range fnspec.Names() {
		if f, ok := fnspec.Lookup(name); !ok || f.Name != name {
			t.Errorf("Lookup(%q) = %+v, %v", name, f, ok)
		}
	}
	if _, ok := fnspec.Lookup("broker"); ok {
		t.Errorf("Lookup(broker) found a function")
	}
}

// The Makefile and containers/images.sh take the functions from the
// directory listing, functions/NAME/cmd/main.go; it must name the same
// functions as the table.
func TestDirectoryListingMatchesTable(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "functions")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, e := range entries {
		if !e.IsDir() {
			t.Errorf("functions/%s: only function directories belong in functions/", e.Name())
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "cmd", "main.go")); err != nil {
			t.Errorf("functions/%s has no cmd/main.go, so make build and make images skip it", e.Name())
			continue
		}
		listed = append(listed, e.Name())
	}
	want := fnspec.Names()
	slices.Sort(want)
	if diff := cmp.Diff(want, listed); diff != "" {
		t.Errorf("functions/*/cmd/main.go and the table in shared/fnspec differ (-table +directories):\n%s", diff)
	}
}

// Every function the events catalogue names is in the table.
func TestCatalogueNamesOnlyFunctions(t *testing.T) {
	t.Parallel()
	for _, e := range events.Catalogue {
		for _, s := range e.Consumers {
			c, err := events.ParseConsumer(s)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := fnspec.Lookup(c.Service); !ok {
				t.Errorf("%s: the catalogue's consumer %s is not a function of the table", e.Type, c.Service)
			}
		}
	}
}

// Accepts and Emits read the catalogue; the expectations are its entries
// for register and predict.
func TestEventsComeFromTheCatalogue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		accepts, emits []string
	}{
		{"register", []string{events.ModelTrained, events.Ping}, []string{events.ModelPromoted, events.ModelRejected}},
		{"predict", []string{events.ModelPromoted, events.Ping}, nil},
		{"train", []string{events.DatasetUploaded, events.DriftDetected, events.Ping}, []string{events.ModelTrained}},
	} {
		f, ok := fnspec.Lookup(tc.name)
		if !ok {
			t.Fatalf("no function %s", tc.name)
		}
		if diff := cmp.Diff(tc.accepts, f.Accepts()); diff != "" {
			t.Errorf("%s accepts (-want +got):\n%s", tc.name, diff)
		}
		if diff := cmp.Diff(tc.emits, f.Emits()); diff != "" {
			t.Errorf("%s emits (-want +got):\n%s", tc.name, diff)
		}
	}
}
