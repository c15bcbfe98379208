package promotion

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/training"
)

// Undecided finds the trainings whose "model trained" event the registry
// never acted on, from the bucket alone: each complete training (a run of
// every kind, from the same data, penalty and code version) whose best
// candidate has no decision. Trainings whose last run is newer than
// settled are left out, since their event may still be on its way. The
// result is in training order, each training as train reported (or would
// have reported) it, with its best run's trigger.
func Undecided(ctx context.Context, runs *runstore.Store, reg *registry.Registry, settled time.Time) ([]training.Result, error) {
	all, err := runs.List(ctx)
	if err != nil {
		return nil, err
	}
	type key struct {
		fingerprint string
		l2          float64
		code        string
	}
	groups := map[key][]runstore.Run{}
	for _, r := range all {
		k := key{r.Fingerprint, r.L2, r.CodeVersion}
		groups[k] = append(groups[k], r)
	}
	versions, err := reg.All(ctx)
	if err != nil {
		return nil, err
	}
	registered := map[string]int{}
	for _, v := range versions {
		registered[v.Lineage.RunID] = v.Version
	}
	type pending struct {
		last time.Time
		res  training.Result
	}
	var out []pending
	for _, g := range groups {
		byKind := make([]runstore.Run, 0, len(model.Kinds))
		last := time.Time{}
		for _, kind := range model.Kinds {
			i := slices.IndexFunc(g, func(r runstore.Run) bool { return r.Kind == kind })
			if i < 0 {
				break // not finished: the dataset scan trains the rest
			}
			byKind = append(byKind, g[i])
			last = later(last, g[i].Created)
		}
		if len(byKind) < len(model.Kinds) || last.After(settled) {
			continue
		}
		r := training.ResultOf(byKind)
		if v, ok := registered[r.Best.ID]; ok {
			// Registered; decided too, unless register stopped in between.
			if _, err := reg.Decision(ctx, v); err == nil {
				continue
			} else if !errors.Is(err, registry.ErrNoVersion) {
				return nil, fmt.Errorf("promotion: reconcile: %w", err)
			}
		}
		out = append(out, pending{last, r})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].last.Before(out[j].last) })
	res := make([]training.Result, len(out))
	for i, t := range out {
		res[i] = t.res
	}
	return res, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
