package registry

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// The registry's stored objects (version.json, decision.json and the audit
// log's moves) are read back by every function and the CLI. These fuzz
// targets store arbitrary bytes in place of one of them and read the
// registry as the functions do: nothing may panic, a refusal is an error,
// and whatever is accepted is usable.

// fuzzRegistry is a registry on a mem:// bucket holding v1 (the champion,
// decided) and v2 (the challenger).
func fuzzRegistry(t testing.TB) *Registry {
	t.Helper()
	ctx := context.Background()
	b, err := blobstore.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	r := Open(b, "claim-risk")
	r.ClaimWait = 0
	for _, run := range []string{"run-1", "run-2"} {
		if _, _, err := r.Register(ctx, candidate(t, run)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.SetAlias(ctx, 0, Champion, 1, "test", "first"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetAlias(ctx, 1, Challenger, 2, "test", "registered"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Decide(ctx, Decision{Version: 1, Promoted: true, Reason: "first", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return r
}

// readAll reads the registry every way the functions do and checks that
// what it accepts is usable.
func readAll(t *testing.T, r *Registry) {
	ctx := context.Background()
	if all, err := r.All(ctx); err == nil {
		for _, v := range all {
			_, _ = json.Marshal(v)
			if m, err := v.LoadModel(); err == nil {
				p := m.Predict(schema.PolicyRecord{Driver: schema.Driver{Age: 40, YearsLicensed: 20, HomeArea: schema.Areas[0]}, Cover: schema.Cover{Usage: schema.Usages[0], AnnualMileage: 9000}})
				if math.IsNaN(p) || p < 0 || p > 1 {
					t.Fatalf("v%d loads but predicts %v", v.Version, p)
				}
			} else if !errors.Is(err, model.ErrInvalid) {
				t.Fatalf("LoadModel = %v, want model.ErrInvalid", err)
			}
		}
	}
	if _, err := r.Aliases(ctx); err == nil {
		if v, err := r.Resolve(ctx, Champion); err == nil {
			_, _ = v.LoadModel()
		}
	}
	_, _ = r.LatestSeq(ctx)
	_, _ = r.Decision(ctx, 1)
	_, _, _ = r.FindRun(ctx, "run-2")
}

// fuzzObject stores data at key and reads the registry.
func fuzzObject(f *testing.F, key func(r *Registry) string) {
	r := fuzzRegistry(f)
	seed, err := r.b.Read(context.Background(), key(r))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"version":-1,"seq":-5,"alias":"champion","model_object":"x"}`))
	f.Add([]byte(`{"version":99999999999999999999}`))
	f.Add([]byte(`{"model_object":{"format":"claimrisk.glm/v1"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := fuzzRegistry(t)
		if err := r.b.Write(context.Background(), key(r), data, "application/json"); err != nil {
			t.Fatal(err)
		}
		readAll(t, r)
	})
}

func FuzzStoredVersion(f *testing.F) {
	fuzzObject(f, func(r *Registry) string { return r.versionKey(1) })
}

func FuzzStoredDecision(f *testing.F) {
	fuzzObject(f, func(r *Registry) string { return r.decisionKey(1) })
}

func FuzzStoredMove(f *testing.F) {
	fuzzObject(f, func(r *Registry) string { return r.auditKey(1) })
}
