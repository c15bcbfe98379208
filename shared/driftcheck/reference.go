package driftcheck

import (
	"context"
	"fmt"

	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/registry"
)

// ReferenceKey is the bucket key of a version's reference rows: the sample
// of its training data stored with it at registration, or, for a version
// registered before references were stored, its run's out-of-time
// validation rows. The Evidently job reads the same key.
func ReferenceKey(v registry.Version) string {
	if v.Lineage.Reference != "" {
		return v.Lineage.Reference
	}
	return v.Lineage.Validation
}

// reference reads the champion's reference rows.
func (c *Checker) reference(ctx context.Context, champ registry.Version) ([]predlog.ReferenceRow, error) {
	key := ReferenceKey(champ)
	data, err := c.Bucket.Read(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("driftcheck: reference of v%d: %w", champ.Version, err)
	}
	ref, err := parquetio.Decode[predlog.ReferenceRow](data)
	if err != nil {
		return nil, fmt.Errorf("driftcheck: reference of v%d (%s): %w", champ.Version, key, err)
	}
	if len(ref) == 0 {
		return nil, fmt.Errorf("driftcheck: reference of v%d (%s) has no rows", champ.Version, key)
	}
	return ref, nil
}

// baseline is the champion's baseline, learnt at its first check.
func (c *Checker) baseline(champ registry.Version, ref []predlog.ReferenceRow) (*Baseline, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.baselines[champ.Version]; ok {
		return b, nil
	}
	m, err := champ.LoadModel()
	if err != nil {
		return nil, fmt.Errorf("driftcheck: baseline of v%d: %w", champ.Version, err)
	}
	b, err := NewBaseline(m, ref, champ.Metrics.AUC)
	if err != nil {
		return nil, fmt.Errorf("driftcheck: baseline of v%d: %w", champ.Version, err)
	}
	if c.baselines == nil {
		c.baselines = map[int]*Baseline{}
	}
	c.baselines[champ.Version] = b
	return b, nil
}
