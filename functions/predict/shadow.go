package function

import (
	"context"
	"time"

	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// refreshShadow loads the challenger to score in shadow, or drops it: only
// with CLAIMRISK_SHADOW on, a challenger alias set, and the challenger not
// the champion. A challenger that cannot be loaded is logged and skipped;
// it never stops the champion from serving.
func (f *Function) refreshShadow(ctx context.Context, challenger, champion int, now time.Time) {
	if !f.cfg.Shadow || challenger == 0 || challenger == champion {
		if prev := f.shadow.Swap(nil); prev != nil {
			f.log.Info("shadow scoring stopped", "version", prev.version.Version)
		}
		return
	}
	if cur := f.shadow.Load(); cur != nil && cur.version.Version == challenger {
		return
	}
	ver, err := f.reg.Get(ctx, challenger)
	if err != nil {
		f.log.Warn("cannot read the challenger; no shadow scoring", "version", challenger, "error", err.Error())
		return
	}
	m, err := ver.LoadModel()
	if err != nil {
		f.log.Warn("the challenger cannot be scored; no shadow scoring", "version", challenger, "error", err.Error())
		return
	}
	f.shadow.Store(&loaded{model: m, version: ver, loadedAt: now})
	f.log.Info("scoring the challenger in shadow", "version", challenger, "kind", ver.Kind)
}

// scoreShadow scores the request's records with the challenger, when there
// is one, and logs both models' answers. The caller's answer never depends
// on it: a full shadow log drops the rows and counts them.
func (f *Function) scoreShadow(rows []predlog.Row, records []schema.PolicyRecord, cur *loaded) {
	sh := f.shadow.Load()
	if sh == nil {
		return
	}
	start := time.Now()
	out := make([]predlog.ShadowRow, len(records))
	for i, rec := range records {
		out[i] = predlog.ShadowRow{
			Time: rows[i].Time, RequestID: rows[i].RequestID, PolicyID: rows[i].PolicyID,
			ModelVersion: int32(sh.version.Version), Probability: sh.model.Predict(rec),
			ChampionVersion: int32(cur.version.Version), ChampionProbability: rows[i].Probability,
		}
	}
	if err := f.shadowLog.Add(out...); err != nil {
		f.metrics.dropped.Add(float64(len(out)))
	}
	f.metrics.shadow.Observe(time.Since(start).Seconds())
}
