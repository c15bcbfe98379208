// Package promotion is the gate between training and serving: it registers
// a trained candidate as the challenger, scores it and the champion on the
// same out-of-time data, and moves the champion alias only when the
// challenger passes every check and beats the champion by a margin. Each
// decision is recorded once, with both models' metrics and the reason.
// The gate answers with an Outcome; the register function turns it into
// the decision events.
package promotion

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/governance"
	"github.com/claimrisk/claimrisk/shared/metrics"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/training"
)

// Policy is what a challenger must achieve. The floors apply to every
// promotion, the margin to replacing a champion.
type Policy struct {
	// Margin is how much higher the challenger's Gini must be.
	Margin float64
	// LogLossMargin is the relative log-loss improvement that also wins,
	// provided the Gini stays within GiniTolerance of the champion's: a
	// model whose probabilities fit current claims better is better, even
	// when it orders policies no better (concept drift that moves the claim
	// rate changes calibration, not ranking). A Gini win must not cost more
	// than LogLossMargin of log loss either.
	LogLossMargin float64
	// GiniTolerance is how far below the champion's Gini a challenger that
	// wins on log loss may rank.
	GiniTolerance float64
	// MinAUC and MinGini are floors on the challenger's out-of-time ranking.
	MinAUC, MinGini float64
	// MaxCalibrationError bounds |mean predicted - observed claim rate|.
	MaxCalibrationError float64
	// Slices are the floors per slice of the portfolio.
	Slices governance.SliceCheck
	// Fairness is the disparate-impact rule on the protected attribute.
	Fairness governance.Policy
}

// DefaultPolicy is the insurer's gate.
func DefaultPolicy() Policy {
	return Policy{Margin: 0.005, LogLossMargin: 0.01, GiniTolerance: 0.03, MinAUC: 0.6, MinGini: 0.2, MaxCalibrationError: 0.02,
		Slices:   governance.SliceCheck{MinRows: 500, MinGini: 0.1, LargeRows: 1000},
		Fairness: governance.DefaultPolicy()}
}

// ErrInvalidCandidate marks a candidate that cannot be registered or
// scored: retrying the same event cannot help.
var ErrInvalidCandidate = errors.New("promotion: invalid candidate")

// Gate registers and judges trained candidates.
type Gate struct {
	Registry *registry.Registry
	Runs     *runstore.Store
	Policy   Policy
	Actor    string
	Log      *slog.Logger
	// AfterChange runs after the registry changed (the MLflow mirror).
	AfterChange func(ctx context.Context)
}

// Outcome is the gate's answer to a candidate: the decision recorded for
// the version registered from it, and the run that version came from.
type Outcome struct {
	registry.Decision
	RunID string
}

// Judge registers the stored run runID (the best candidate of a training)
// as a version and decides whether it replaces the champion. Repeated
// calls for the same run return the same decision.
func (g *Gate) Judge(ctx context.Context, runID string) (Outcome, error) {
	run, err := g.Runs.Get(ctx, runID)
	if errors.Is(err, runstore.ErrNotFound) {
		return Outcome{}, fmt.Errorf("%w: run %s is not in the bucket", ErrInvalidCandidate, runID)
	}
	if err != nil {
		return Outcome{}, err
	}
	modelObj, err := g.Runs.Bucket().Read(ctx, runstore.Key(run.ID, runstore.ModelObject))
	if err != nil {
		return Outcome{}, fmt.Errorf("promotion: run %s: %w", run.ID, err)
	}
	if _, err := model.Decode(modelObj); err != nil {
		return Outcome{}, fmt.Errorf("%w: run %s: %v", ErrInvalidCandidate, run.ID, err)
	}
	// The run's sample of its training data becomes the version's
	// reference; a run trained before samples were stored has none, and its
	// validation rows serve instead.
	reference, err := g.Runs.Bucket().Read(ctx, runstore.Key(run.ID, runstore.ReferenceObject))
	if err != nil && !errors.Is(err, blobstore.ErrNotFound) {
		return Outcome{}, fmt.Errorf("promotion: run %s: %w", run.ID, err)
	}
	ver, created, err := g.Registry.Register(ctx, registry.Candidate{
		Kind: run.Kind,
		Lineage: registry.Lineage{
			RunID: run.ID, DatasetID: run.DatasetID, Fingerprint: run.Fingerprint,
			TrainWindow: run.TrainWindow, ValidWindow: run.ValidWindow, CodeVersion: run.CodeVersion,
			Validation: runstore.Key(run.ID, runstore.ValidationObject), MLflowRunID: run.MLflowRunID,
		},
		Metrics:     run.Metrics,
		ModelObject: modelObj,
		Description: fmt.Sprintf("%s trained on dataset %s (%s), triggered by %s.", run.Kind, run.DatasetID, run.TrainWindow.From.Format(time.DateOnly)+" to "+run.TrainWindow.To.Format(time.DateOnly), run.Trigger),
		Tags:        map[string]string{"trigger": run.Trigger},
		Actor:       g.Actor,
		Reference:   reference,
	})
	if err != nil {
		return Outcome{}, err
	}
	if err := g.Registry.PutReference(ctx, ver, reference); err != nil {
		return Outcome{}, err
	}
	log := g.Log.With("version", ver.Version, "run_id", run.ID)
	if created {
		log.Info("registered a new version")
		if err := g.moveAlias(ctx, registry.Challenger, ver.Version, "registered from run "+run.ID); err != nil {
			return Outcome{}, err
		}
		if err := WriteFactsheets(ctx, g.Registry, g.Runs, ver.Version); err != nil {
			return Outcome{}, err
		}
		g.changed(ctx)
	}
	if d, err := g.Registry.Decision(ctx, ver.Version); err == nil {
		log.Info("already decided; repeating the decision", "promoted", d.Promoted)
		return Outcome{Decision: d, RunID: ver.Lineage.RunID}, nil
	}
	d, err := g.decide(ctx, ver)
	if err != nil {
		return Outcome{}, err
	}
	d, _, err = g.Registry.Decide(ctx, d)
	if err != nil {
		return Outcome{}, err
	}
	// The factsheets of the challenger and of the champion it may replace
	// tell the decision.
	if err := WriteFactsheets(ctx, g.Registry, g.Runs, ver.Version, d.ChampionVersion); err != nil {
		return Outcome{}, err
	}
	g.changed(ctx)
	log.Info("decided", "promoted", d.Promoted, "reason", d.Reason)
	return Outcome{Decision: d, RunID: ver.Lineage.RunID}, nil
}

func (g *Gate) changed(ctx context.Context) {
	if g.AfterChange != nil {
		g.AfterChange(ctx)
	}
}

// moveAlias points alias at version, re-reading the state after a race.
func (g *Gate) moveAlias(ctx context.Context, alias string, version int, reason string) error {
	for range 10 {
		s, err := g.Registry.Aliases(ctx)
		if err != nil {
			return err
		}
		if s.Aliases[alias] == version {
			return nil
		}
		_, err = g.Registry.SetAlias(ctx, s.Seq, alias, version, g.Actor, reason)
		if !errors.Is(err, registry.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("promotion: could not move %s to v%d: the registry kept changing", alias, version)
}

// decide compares the challenger with the current champion and moves the
// champion alias when the challenger wins. It retries when another writer
// moves an alias between the comparison and the move.
func (g *Gate) decide(ctx context.Context, ver registry.Version) (registry.Decision, error) {
	challenger, err := ver.LoadModel()
	if err != nil {
		return registry.Decision{}, fmt.Errorf("%w: %v", ErrInvalidCandidate, err)
	}
	rows, err := g.Runs.Validation(ctx, ver.Lineage.RunID)
	if err != nil {
		return registry.Decision{}, err
	}
	exs := training.Examples(rows)
	y := make([]float64, len(exs))
	for i, ex := range exs {
		if ex.Claim {
			y[i] = 1
		}
	}
	cm, err := metrics.Evaluate(challenger.PredictExamples(exs), y)
	if err != nil {
		return registry.Decision{}, fmt.Errorf("%w: v%d on its validation rows: %v", ErrInvalidCandidate, ver.Version, err)
	}
	for range 10 {
		s, err := g.Registry.Aliases(ctx)
		if err != nil {
			return registry.Decision{}, err
		}
		d := registry.Decision{Version: ver.Version, Time: time.Now().UTC(), Actor: g.Actor, ChallengerMetrics: cm}
		champ, hasChamp := s.Aliases[registry.Champion]
		switch {
		case hasChamp && champ == ver.Version:
			// A previous delivery moved the alias and stopped before recording.
			d.Promoted, d.Reason = true, fmt.Sprintf("v%d is already the champion", ver.Version)
			return d, nil
		case hasChamp && g.validatedLater(ctx, champ, ver):
			d.ChampionVersion = champ
			d.Reason = fmt.Sprintf("v%d was validated on data up to %s, older than champion v%d's (its event arrived late)",
				ver.Version, ver.Lineage.ValidWindow.To.Format(time.DateOnly), champ)
			return d, nil
		}
		if reason := g.Policy.floors(cm); reason != "" {
			d.ChampionVersion = champ
			d.Reason = reason
			return d, nil
		}
		if reason, err := g.governance(ctx, ver); err != nil {
			return registry.Decision{}, err
		} else if reason != "" {
			d.ChampionVersion = champ
			d.Reason = reason
			return d, nil
		}
		if hasChamp {
			cv, err := g.Registry.Get(ctx, champ)
			if err != nil {
				return registry.Decision{}, err
			}
			champion, err := cv.LoadModel()
			if err != nil {
				// A champion that cannot be scored is replaced by a valid challenger.
				g.Log.Error("the champion cannot be loaded; judging the challenger on the floors alone", "champion", champ, "error", err.Error())
			} else {
				chm, err := metrics.Evaluate(champion.PredictExamples(exs), y)
				if err != nil {
					return registry.Decision{}, fmt.Errorf("promotion: champion v%d on v%d's validation rows: %w", champ, ver.Version, err)
				}
				d.ChampionVersion, d.ChampionMetrics = champ, &chm
				p := g.Policy
				ranksBetter := cm.Gini >= chm.Gini+p.Margin && cm.LogLoss <= chm.LogLoss*(1+p.LogLossMargin)
				fitsBetter := cm.LogLoss <= chm.LogLoss*(1-p.LogLossMargin) && cm.Gini >= chm.Gini-p.GiniTolerance
				switch {
				case ranksBetter:
					d.Reason = fmt.Sprintf("out-of-time Gini %.4f beats champion v%d's %.4f by %.4f (margin %.4f) on the same %d policies",
						cm.Gini, champ, chm.Gini, cm.Gini-chm.Gini, g.Policy.Margin, cm.N)
				case fitsBetter:
					d.Reason = fmt.Sprintf("log loss %.4f is %.1f%% below champion v%d's %.4f (margin %.1f%%), with a Gini of %.4f against %.4f (tolerance %.2f), on the same %d policies",
						cm.LogLoss, 100*(1-cm.LogLoss/chm.LogLoss), champ, chm.LogLoss, 100*p.LogLossMargin, cm.Gini, chm.Gini, p.GiniTolerance, cm.N)
				default:
					d.Reason = fmt.Sprintf("neither ranks better (Gini %.4f against champion v%d's %.4f, margin %.4f) nor fits better (log loss %.4f against %.4f, margin %.1f%%), on the same %d policies",
						cm.Gini, champ, chm.Gini, p.Margin, cm.LogLoss, chm.LogLoss, 100*p.LogLossMargin, cm.N)
					return d, nil
				}
			}
		}
		if d.Reason == "" {
			d.Reason = fmt.Sprintf("first champion: out-of-time Gini %.4f and AUC %.4f pass the floors", cm.Gini, cm.AUC)
		}
		_, err = g.Registry.SetAlias(ctx, s.Seq, registry.Champion, ver.Version, g.Actor, d.Reason)
		if errors.Is(err, registry.ErrConflict) {
			continue // someone moved an alias meanwhile: compare again
		}
		if err != nil {
			return registry.Decision{}, err
		}
		d.Promoted = true
		if s.Aliases[registry.Challenger] == ver.Version {
			if err := g.moveAlias(ctx, registry.Challenger, 0, "v"+strconv.Itoa(ver.Version)+" became the champion"); err != nil {
				return registry.Decision{}, err
			}
		}
		return d, nil
	}
	return registry.Decision{}, fmt.Errorf("promotion: v%d: the registry kept changing during the decision", ver.Version)
}

// governance checks the challenger's slices and fairness on its validation
// rows, as training measured them, and returns why it fails, or "".
func (g *Gate) governance(ctx context.Context, ver registry.Version) (string, error) {
	run, err := g.Runs.Get(ctx, ver.Lineage.RunID)
	if err != nil {
		return "", err
	}
	m, err := g.Runs.Metrics(ctx, run.ID)
	if err != nil {
		return "", err
	}
	if m.Fairness != nil {
		// Training measured with the default bounds; the gate applies its own.
		f := *m.Fairness
		f.Lower, f.Upper = g.Policy.Fairness.Lower, g.Policy.Fairness.Upper
		f.Flagged = f.DisparateImpact != 0 && (f.DisparateImpact < f.Lower || f.DisparateImpact > f.Upper)
		if f.Flagged {
			return "fails the fairness check: " + f.Reason(), nil
		}
	}
	// The legacy formula fitted on the same data is the baseline per slice.
	var baseline []governance.Slice
	if run.Kind != model.KindLegacy {
		legacyID := training.RunID(run.Fingerprint, model.KindLegacy, run.L2, run.CodeVersion)
		if lm, err := g.Runs.Metrics(ctx, legacyID); err == nil {
			baseline = lm.Slices
		}
	}
	if fails := g.Policy.Slices.Failures(m.Slices, baseline); len(fails) > 0 {
		return "fails the slice checks: " + strings.Join(fails, "; "), nil
	}
	return "", nil
}

// validatedLater reports whether the champion was validated on more recent
// data than the challenger: a late event from an older training must not
// replace a model that has seen newer data.
func (g *Gate) validatedLater(ctx context.Context, champ int, ver registry.Version) bool {
	cv, err := g.Registry.Get(ctx, champ)
	if err != nil {
		return false
	}
	return cv.Lineage.ValidWindow.To.After(ver.Lineage.ValidWindow.To)
}

// floors returns why m fails the policy's floors, or "".
func (p Policy) floors(m metrics.Summary) string {
	switch {
	case m.AUC < p.MinAUC:
		return fmt.Sprintf("out-of-time AUC %.4f is below the floor %.4f", m.AUC, p.MinAUC)
	case m.Gini < p.MinGini:
		return fmt.Sprintf("out-of-time Gini %.4f is below the floor %.4f", m.Gini, p.MinGini)
	case math.Abs(m.MeanPredicted-m.ObservedRate) > p.MaxCalibrationError:
		return fmt.Sprintf("mean prediction %.4f is %.4f away from the observed claim rate %.4f (at most %.4f allowed)",
			m.MeanPredicted, math.Abs(m.MeanPredicted-m.ObservedRate), m.ObservedRate, p.MaxCalibrationError)
	}
	return ""
}
