package promotion

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/metrics"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// ShadowDecision is the judgement of the challenger on the shadow traffic
// whose outcomes have arrived, stored beside the challenger (shadow.json)
// and rewritten at each judgement.
type ShadowDecision struct {
	Time              time.Time        `json:"time"`
	Challenger        int              `json:"challenger_version"`
	Champion          int              `json:"champion_version"`
	ShadowRows        int              `json:"shadow_rows"`
	LabelledRows      int              `json:"labelled_rows"`
	MinLabels         int              `json:"min_labels"`
	ChallengerMetrics *metrics.Summary `json:"challenger_metrics,omitempty"`
	ChampionMetrics   *metrics.Summary `json:"champion_metrics,omitempty"`
	Promoted          bool             `json:"promoted"`
	Reason            string           `json:"reason"`
}

// ShadowKey is where a challenger's shadow decision is stored.
func ShadowKey(reg *registry.Registry, version int) string {
	return fmt.Sprintf("registry/%s/versions/%06d/shadow.json", reg.Name(), version)
}

// ErrNoShadow means there is no challenger beside a champion to judge.
var ErrNoShadow = errors.New("promotion: no challenger in shadow")

// JudgeShadow judges the challenger on the traffic it was scored on in
// shadow since it was registered, joined with the outcomes that have
// arrived: once at least minLabels of its shadow answers have an outcome,
// it replaces the champion when it ranks or fits better by the policy's
// margins on exactly those policies, and when its out-of-time metrics
// still pass the floors. Otherwise it stays the challenger, and the
// decision says why.
func (g *Gate) JudgeShadow(ctx context.Context, minLabels int) (ShadowDecision, error) {
	s, err := g.Registry.Aliases(ctx)
	if err != nil {
		return ShadowDecision{}, err
	}
	champ, hasChamp := s.Aliases[registry.Champion]
	ch, hasCh := s.Aliases[registry.Challenger]
	if !hasChamp || !hasCh || ch == champ {
		return ShadowDecision{}, ErrNoShadow
	}
	ver, err := g.Registry.Get(ctx, ch)
	if err != nil {
		return ShadowDecision{}, err
	}
	d := ShadowDecision{Time: time.Now().UTC(), Challenger: ch, Champion: champ, MinLabels: minLabels}
	b := g.Registry.Bucket()
	shadow, err := driftcheck.ReadWindow[predlog.ShadowRow](ctx, b, predlog.ShadowPrefix, ver.Created.Add(-time.Minute), d.Time.Add(time.Minute),
		func(r predlog.ShadowRow) time.Time { return r.Time })
	if err != nil {
		return ShadowDecision{}, err
	}
	var rows []predlog.Row
	byKey := map[string]predlog.ShadowRow{}
	key := func(req, policy string, at time.Time) string {
		return req + "|" + policy + "|" + at.Format(time.RFC3339Nano)
	}
	for _, r := range shadow {
		if int(r.ModelVersion) != ch || int(r.ChampionVersion) != champ {
			continue
		}
		rows = append(rows, predlog.Row{Time: r.Time, RequestID: r.RequestID, PolicyRecord: schema.PolicyRecord{PolicyID: r.PolicyID}, Probability: r.ChampionProbability})
		byKey[key(r.RequestID, r.PolicyID, r.Time)] = r
	}
	d.ShadowRows = len(rows)
	fb, err := driftcheck.ReadFeedback(ctx, b, ver.Created.Add(-time.Minute))
	if err != nil {
		return ShadowDecision{}, err
	}
	labelled := driftcheck.Join(rows, fb)
	d.LabelledRows = len(labelled)
	if len(labelled) < minLabels {
		d.Reason = fmt.Sprintf("waiting for outcomes: %d of v%d's %d shadow answers have one; judging needs %d", len(labelled), ch, len(rows), minLabels)
		return d, g.saveShadow(ctx, d)
	}
	pc, pm, y := make([]float64, len(labelled)), make([]float64, len(labelled)), make([]float64, len(labelled))
	for i, l := range labelled {
		sr := byKey[key(l.RequestID, l.PolicyID, l.Time)]
		pc[i], pm[i], y[i] = sr.Probability, l.Probability, float64(l.Claim)
	}
	cm, err := metrics.Evaluate(pc, y)
	if err != nil {
		d.Reason = fmt.Sprintf("the %d labelled shadow answers cannot be scored yet: %v", len(labelled), err)
		return d, g.saveShadow(ctx, d)
	}
	chm, err := metrics.Evaluate(pm, y)
	if err != nil {
		return ShadowDecision{}, fmt.Errorf("promotion: champion v%d on the shadow traffic: %w", champ, err)
	}
	d.ChallengerMetrics, d.ChampionMetrics = &cm, &chm
	p := g.Policy
	ranksBetter := cm.Gini >= chm.Gini+p.Margin && cm.LogLoss <= chm.LogLoss*(1+p.LogLossMargin)
	fitsBetter := cm.LogLoss <= chm.LogLoss*(1-p.LogLossMargin) && cm.Gini >= chm.Gini-p.GiniTolerance
	on := fmt.Sprintf("on %d shadow answers with outcomes", cm.N)
	switch {
	case !ranksBetter && !fitsBetter:
		d.Reason = fmt.Sprintf("stays challenger: neither ranks better (Gini %.4f against champion v%d's %.4f, margin %.4f) nor fits better (log loss %.4f against %.4f, margin %.1f%%) %s",
			cm.Gini, champ, chm.Gini, p.Margin, cm.LogLoss, chm.LogLoss, 100*p.LogLossMargin, on)
		return d, g.saveShadow(ctx, d)
	}
	// The out-of-time judgement at registration still applies: its floors.
	if reg, err := g.Registry.Decision(ctx, ch); err == nil {
		if why := p.floors(reg.ChallengerMetrics); why != "" {
			d.Reason = "stays challenger: it wins on the shadow traffic, but out of time " + why
			return d, g.saveShadow(ctx, d)
		}
	}
	if ranksBetter {
		d.Reason = fmt.Sprintf("shadow Gini %.4f beats champion v%d's %.4f by %.4f (margin %.4f) %s", cm.Gini, champ, chm.Gini, cm.Gini-chm.Gini, p.Margin, on)
	} else {
		d.Reason = fmt.Sprintf("shadow log loss %.4f is %.1f%% below champion v%d's %.4f (margin %.1f%%), with a Gini of %.4f against %.4f, %s",
			cm.LogLoss, 100*(1-cm.LogLoss/chm.LogLoss), champ, chm.LogLoss, 100*p.LogLossMargin, cm.Gini, chm.Gini, on)
	}
	if _, err := g.Registry.SetAlias(ctx, s.Seq, registry.Champion, ch, g.Actor, d.Reason); err != nil {
		return ShadowDecision{}, err
	}
	d.Promoted = true
	if err := g.moveAlias(ctx, registry.Challenger, 0, "v"+strconv.Itoa(ch)+" became the champion on shadow traffic"); err != nil {
		return ShadowDecision{}, err
	}
	if err := g.saveShadow(ctx, d); err != nil {
		return ShadowDecision{}, err
	}
	if err := WriteFactsheets(ctx, g.Registry, g.Runs, ch, champ); err != nil {
		return ShadowDecision{}, err
	}
	g.changed(ctx)
	return d, nil
}

func (g *Gate) saveShadow(ctx context.Context, d ShadowDecision) error {
	if err := g.Registry.Bucket().WriteJSON(ctx, ShadowKey(g.Registry, d.Challenger), d); err != nil {
		return fmt.Errorf("promotion: shadow decision on v%d: %w", d.Challenger, err)
	}
	return nil
}
