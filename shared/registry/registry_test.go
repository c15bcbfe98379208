package registry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/features"
	"github.com/claimrisk/claimrisk/shared/glm"
	"github.com/claimrisk/claimrisk/shared/model"
)

func modelObject(t testing.TB) []byte {
	t.Helper()
	spec := features.Spec{Set: features.SetLegacy, Names: []string{"log_legacy_factor"}, Center: []float64{0}, Scale: []float64{1}}
	m, err := model.New(model.KindLegacy, spec, &glm.Fit{Intercept: -2, Coef: []float64{1}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := m.Encode()
	return data
}

func candidate(t testing.TB, run string) Candidate {
	return Candidate{Kind: model.KindLegacy, Lineage: Lineage{RunID: run}, ModelObject: modelObject(t), Actor: "test"}
}

// registries opens the registry on a mem:// and a file:// bucket.
func registries(t *testing.T) map[string]*Registry {
	t.Helper()
	out := map[string]*Registry{}
	for name, url := range map[string]string{"mem": "mem://", "file": "file://" + t.TempDir()} {
		b, err := blobstore.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		out[name] = Open(b, "claim-risk")
	}
	return out
}

func TestConcurrentRegistrationsGetDistinctNumbers(t *testing.T) {
	t.Parallel()
	for name, r := range registries(t) {
		t.Run(name, func(t *testing.T) {
			const writers = 12
			var wg sync.WaitGroup
			got := make([]int, writers)
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					v, created, err := r.Register(context.Background(), candidate(t, fmt.Sprintf("run-%d", i)))
					if err != nil || !created {
						t.Errorf("writer %d: %v, created %v", i, err, created)
					}
					got[i] = v.Version
				}()
			}
			wg.Wait()
			seen := map[int]bool{}
			for _, v := range got {
				if seen[v] {
					t.Fatalf("version %d was handed out twice: %v", v, got)
				}
				seen[v] = true
			}
			nums, _ := r.Versions(context.Background())
			if len(nums) != writers || nums[0] != 1 || nums[writers-1] != writers {
				t.Fatalf("versions %v, want 1..%d", nums, writers)
			}
		})
	}
}

func TestTheSameRunRegistersOnce(t *testing.T) {
	t.Parallel()
	for name, r := range registries(t) {
		t.Run(name, func(t *testing.T) {
			// Eight deliveries of the same event, at once.
			var wg sync.WaitGroup
			created := make([]bool, 8)
			versions := make([]int, 8)
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					v, c, err := r.Register(context.Background(), candidate(t, "run-same"))
					if err != nil {
						t.Errorf("delivery %d: %v", i, err)
					}
					versions[i], created[i] = v.Version, c
				}()
			}
			wg.Wait()
			n := 0
			for i := range created {
				if created[i] {
					n++
				}
				if versions[i] != 1 {
					t.Errorf("delivery %d got version %d, want 1", i, versions[i])
				}
			}
			nums, _ := r.Versions(context.Background())
			if n != 1 || len(nums) != 1 {
				t.Fatalf("%d deliveries created a version and the registry holds %v; want exactly one", n, nums)
			}
			// A later redelivery finds it too.
			if v, c, err := r.Register(context.Background(), candidate(t, "run-same")); err != nil || c || v.Version != 1 {
				t.Fatalf("redelivery: v%d created=%v %v", v.Version, c, err)
			}
		})
	}
}

func TestAliasesAndAuditLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, r := range registries(t) {
		t.Run(name, func(t *testing.T) {
			for _, run := range []string{"a", "b"} {
				if _, _, err := r.Register(ctx, candidate(t, run)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := r.Resolve(ctx, Champion); !errors.Is(err, ErrNoAlias) {
				t.Fatalf("Resolve before any move = %v, want ErrNoAlias", err)
			}
			if _, err := r.SetAlias(ctx, 0, Champion, 1, "alice", "first"); err != nil {
				t.Fatal(err)
			}
			// A writer that decided on a stale state loses.
			if _, err := r.SetAlias(ctx, 0, Champion, 2, "bob", "stale"); !errors.Is(err, ErrConflict) {
				t.Fatalf("stale move = %v, want ErrConflict", err)
			}
			if _, err := r.SetAlias(ctx, 1, Champion, 2, "bob", "better"); err != nil {
				t.Fatal(err)
			}
			if _, err := r.SetAlias(ctx, 2, Champion, 9, "bob", "no such version"); !errors.Is(err, ErrNoVersion) {
				t.Fatalf("move to a missing version = %v, want ErrNoVersion", err)
			}
			if _, err := r.SetAlias(ctx, 2, "production", 1, "bob", ""); !errors.Is(err, ErrBadAlias) {
				t.Fatalf("unknown alias = %v, want ErrBadAlias", err)
			}
			v, err := r.Resolve(ctx, Champion)
			if err != nil || v.Version != 2 {
				t.Fatalf("champion = v%d, %v; want v2", v.Version, err)
			}
			log, _ := r.Log(ctx)
			if len(log) != 2 || log[1].Previous != 1 || log[1].Actor != "bob" || log[1].Reason != "better" {
				t.Fatalf("audit log = %+v", log)
			}
			if seq, _ := r.LatestSeq(ctx); seq != 2 {
				t.Errorf("LatestSeq = %d, want 2", seq)
			}
		})
	}
}

func TestConcurrentAliasMovesAreSerialised(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, r := range registries(t) {
		t.Run(name, func(t *testing.T) {
			for i := range 4 {
				r.Register(ctx, candidate(t, fmt.Sprint(i)))
			}
			// Four movers decide on the same state; exactly one may win.
			var wg sync.WaitGroup
			wins := make(chan int, 4)
			for v := 1; v <= 4; v++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := r.SetAlias(ctx, 0, Champion, v, "mover", ""); err == nil {
						wins <- v
					}
				}()
			}
			wg.Wait()
			close(wins)
			var won []int
			for v := range wins {
				won = append(won, v)
			}
			c, _ := r.Resolve(ctx, Champion)
			if len(won) != 1 || c.Version != won[0] {
				t.Fatalf("winners %v, champion v%d; want one winner that is the champion", won, c.Version)
			}
		})
	}
}

func TestDecisionIsRecordedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, r := range registries(t) {
		t.Run(name, func(t *testing.T) {
			r.Register(ctx, candidate(t, "a"))
			first, rec, err := r.Decide(ctx, Decision{Version: 1, Promoted: true, Reason: "first"})
			if err != nil || !rec {
				t.Fatal(err)
			}
			again, rec, err := r.Decide(ctx, Decision{Version: 1, Promoted: false, Reason: "second"})
			if err != nil || rec || again.Reason != first.Reason {
				t.Fatalf("second decision = %+v recorded=%v %v; want the first kept", again, rec, err)
			}
		})
	}
}

func TestRegisterRefusesAnInvalidModel(t *testing.T) {
	t.Parallel()
	r := registries(t)["mem"]
	c := candidate(t, "bad")
	c.ModelObject = []byte(`{"format":"claimrisk.glm/v1","kind":"legacy"}`)
	if _, _, err := r.Register(context.Background(), c); !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("Register = %v, want model.ErrInvalid", err)
	}
	if nums, _ := r.Versions(context.Background()); len(nums) != 0 {
		t.Fatalf("an invalid model was registered: %v", nums)
	}
}

// A writer killed while it created version 2 can leave the version's folder
// holding only its write in progress: that is no version, and the next
// registration takes number 2.
func TestAnInterruptedWriteIsNoVersion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := blobstore.Open(ctx, "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r := Open(b, "claim-risk")
	if _, _, err := r.Register(ctx, candidate(t, "run-a")); err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(dir, filepath.FromSlash(r.key("versions", versionDir(2))), "version.json.12345.tmp")
	if err := os.MkdirAll(filepath.Dir(stray), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stray, []byte(`{"version":`), 0o644); err != nil {
		t.Fatal(err)
	}
	if nums, err := r.Versions(ctx); err != nil || fmt.Sprint(nums) != "[1]" {
		t.Fatalf("versions %v, %v; want [1]", nums, err)
	}
	v, created, err := r.Register(ctx, candidate(t, "run-b"))
	if err != nil || !created || v.Version != 2 {
		t.Fatalf("the next registration: v%d created %v, %v; want v2", v.Version, created, err)
	}
}
