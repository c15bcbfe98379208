package driftcheck

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/predlog"
)

// PerformancePrefix is where each checked window's performance record
// lives: the estimate made when it was checked, and the realised figures
// once enough of its outcomes have arrived, however late.
const PerformancePrefix = "drift/performance/"

// PerformanceKey is the key of a window's record, named by its report.
func PerformanceKey(reportID string) string { return PerformancePrefix + reportID + ".json" }

// WindowPerformance is one checked window's performance over time.
type WindowPerformance struct {
	ReportID        string    `json:"report_id"`
	WindowFrom      time.Time `json:"window_from"`
	WindowTo        time.Time `json:"window_to"`
	ChampionVersion int       `json:"champion_version"`
	Rows            int       `json:"rows"`
	// Estimate is CBPE's estimate, made from the predictions alone when the
	// window was checked.
	Estimate *Estimated `json:"estimate"`
	// LabelledRows is how many of the window's predictions have an outcome
	// so far; Realised is their quality, once there are at least
	// CLAIMRISK_DRIFT_MIN_LABELS.
	LabelledRows int      `json:"labelled_rows"`
	Realised     *Quality `json:"realised"`
	// RealisedBy is the check whose outcomes first made Realised, and
	// RealisedAt its time: the gap to WindowTo is how late the truth came.
	RealisedBy string     `json:"realised_by,omitempty"`
	RealisedAt *time.Time `json:"realised_at,omitempty"`
	UpdatedBy  string     `json:"updated_by"`
}

// LateQuality is the realised quality of an earlier window whose outcomes
// arrived (or grew) since the check before.
type LateQuality struct {
	ReportID        string    `json:"report_id"`
	WindowFrom      time.Time `json:"window_from"`
	WindowTo        time.Time `json:"window_to"`
	ChampionVersion int       `json:"champion_version"`
	Rows            int       `json:"rows"`
	Quality         Quality   `json:"quality"`
	// EstimatedAUC is what CBPE estimated for the window when it was checked.
	EstimatedAUC *float64 `json:"estimated_auc"`
	// NewlyDegraded is set when these outcomes first show the window degraded.
	NewlyDegraded bool `json:"newly_degraded"`
}

// qualityOf scores labelled rows against the validation AUC.
func qualityOf(labelled []predlog.ReferenceRow, referenceAUC float64) *Quality {
	var r Report
	r.quality(labelled, referenceAUC)
	return r.Quality
}

// degradation marks q degraded and says why, when it has enough labels and
// its AUC or calibration crossed the thresholds.
func degradation(q *Quality, t Thresholds) []string {
	if q == nil || q.LabelledRows < t.MinLabels {
		return nil
	}
	var why []string
	if q.AUC != nil && *q.AUC < q.ReferenceAUC-t.MaxAUCDrop {
		se := 0.0
		if q.AUCSamplingError != nil {
			se = *q.AUCSamplingError
		}
		if *q.AUC+3*se < q.ReferenceAUC {
			why = append(why, fmt.Sprintf("AUC on %d labelled predictions is %.4f (sampling error %.4f), more than %.2f below the validation AUC %.4f", q.LabelledRows, *q.AUC, se, t.MaxAUCDrop, q.ReferenceAUC))
		}
	}
	if gap := math.Abs(q.CalibrationGap); gap > t.MaxCalibrationGap && gap > 3*q.RateSamplingError {
		why = append(why, fmt.Sprintf("observed claim rate %.4f vs mean prediction %.4f on %d labelled predictions: a gap of %.4f, more than %.4f and than three sampling errors (%.4f)",
			q.ObservedRate, q.MeanPredicted, q.LabelledRows, q.CalibrationGap, t.MaxCalibrationGap, 3*q.RateSamplingError))
	}
	q.Degraded = len(why) > 0
	return why
}

// samplingErrors sets how far the window's AUC and observed claim rate
// move by chance: the AUC's standard error by Hanley and McNeil (1982,
// from the AUC and the numbers of claims and non-claims), and the observed
// rate's as if each prediction p were the chance of a claim,
// sqrt(sum p(1-p))/n.
func (q *Quality) samplingErrors(p, y []float64) {
	v, pos := 0.0, 0.0
	for i := range p {
		v += p[i] * (1 - p[i])
		pos += y[i]
	}
	n := float64(len(p))
	q.RateSamplingError = math.Sqrt(v) / n
	neg := n - pos
	if q.AUC == nil || pos == 0 || neg == 0 {
		return
	}
	a := *q.AUC
	q1, q2 := a/(2-a), 2*a*a/(1+a)
	se := math.Sqrt((a*(1-a) + (pos-1)*(q1-a*a) + (neg-1)*(q2-a*a)) / (pos * neg))
	q.AUCSamplingError = &se
}

// ReadFeedback reads every outcome that arrived at or after from: the
// objects of the day folders from that day on.
func ReadFeedback(ctx context.Context, b *blobstore.Bucket, from time.Time) ([]predlog.Feedback, error) {
	days, err := b.Dirs(ctx, predlog.FeedbackPrefix)
	if err != nil {
		return nil, err
	}
	first := from.UTC().Format("2006")
	var out []predlog.Feedback
	for _, year := range days {
		if year < first {
			continue
		}
		keys, err := b.Keys(ctx, predlog.FeedbackPrefix+year+"/")
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			if !strings.HasSuffix(k, ".parquet") || dayOfKey(k).Before(from.UTC().Truncate(24*time.Hour)) {
				continue
			}
			data, err := b.Read(ctx, k)
			if err != nil {
				return nil, err
			}
			rows, err := decodeFeedback(data)
			if err != nil {
				return nil, fmt.Errorf("driftcheck: %s: %w", k, err)
			}
			for _, r := range rows {
				if !r.Time.Before(from) {
					out = append(out, r)
				}
			}
		}
	}
	return out, nil
}

// dayOfKey is the day folder of a log object key (prefix/YYYY/MM/DD/...).
func dayOfKey(k string) time.Time {
	parts := strings.Split(strings.TrimPrefix(k, predlog.FeedbackPrefix), "/")
	if len(parts) < 4 {
		return time.Time{}
	}
	t, err := time.Parse("2006/01/02", strings.Join(parts[:3], "/"))
	if err != nil {
		return time.Time{}
	}
	return t
}

// Performance reads every window's performance record, oldest window first.
func Performance(ctx context.Context, b *blobstore.Bucket) ([]WindowPerformance, error) {
	keys, err := b.Keys(ctx, PerformancePrefix)
	if err != nil {
		return nil, err
	}
	var out []WindowPerformance
	for _, k := range keys {
		if !strings.HasSuffix(k, ".json") {
			continue
		}
		var w WindowPerformance
		if err := b.ReadJSON(ctx, k, &w); err != nil {
			if errors.Is(err, blobstore.ErrNotFound) {
				continue
			}
			return nil, err
		}
		out = append(out, w)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].WindowTo.Before(out[j].WindowTo) })
	return out, nil
}

// catchUp joins the outcomes that have arrived since to the earlier windows
// still waiting for theirs (within the label horizon), updates their
// records, and returns what changed and the labelled rows of the windows
// that reached enough labels, for retraining.
func (c *Checker) catchUp(ctx context.Context, rep *Report, end time.Time) ([]predlog.ReferenceRow, error) {
	all, err := Performance(ctx, c.Bucket)
	if err != nil {
		return nil, err
	}
	var pending []WindowPerformance
	for _, w := range all {
		if w.ReportID == rep.ID || w.LabelledRows >= w.Rows || (c.LabelHorizon > 0 && w.WindowTo.Before(end.Add(-c.LabelHorizon))) {
			continue
		}
		pending = append(pending, w)
	}
	if len(pending) == 0 {
		return nil, nil
	}
	fb, err := ReadFeedback(ctx, c.Bucket, pending[0].WindowFrom)
	if err != nil {
		return nil, err
	}
	j := newJoiner(fb)
	var rows []predlog.ReferenceRow
	for _, w := range pending {
		named, err := c.readWindow(ctx, w.WindowFrom, w.WindowTo, w.ChampionVersion, j, nil)
		if err != nil {
			return nil, err
		}
		labelled := j.join(named)
		if len(labelled) == w.LabelledRows {
			continue
		}
		wasDegraded := w.Realised != nil && w.Realised.Degraded
		w.LabelledRows, w.UpdatedBy = len(labelled), rep.ID
		if len(labelled) < c.Thresholds.MinLabels {
			if err := c.Bucket.WriteJSON(ctx, PerformanceKey(w.ReportID), w); err != nil {
				return nil, fmt.Errorf("driftcheck: performance of %s: %w", w.ReportID, err)
			}
			continue
		}
		refAUC := 0.0
		if w.Estimate != nil {
			refAUC = w.Estimate.ValidationAUC
		}
		q := qualityOf(labelled, refAUC)
		why := degradation(q, c.Thresholds)
		if w.Realised == nil {
			at := end.UTC()
			w.RealisedBy, w.RealisedAt = rep.ID, &at
		}
		w.Realised = q
		late := LateQuality{ReportID: w.ReportID, WindowFrom: w.WindowFrom, WindowTo: w.WindowTo, ChampionVersion: w.ChampionVersion, Rows: w.Rows,
			Quality: *q, NewlyDegraded: q.Degraded && !wasDegraded}
		if w.Estimate != nil {
			e := w.Estimate.AUC
			late.EstimatedAUC = &e
		}
		rep.LateQuality = append(rep.LateQuality, late)
		if late.NewlyDegraded {
			est := ""
			if late.EstimatedAUC != nil {
				est = fmt.Sprintf("; CBPE had estimated an AUC of %.4f when it was checked", *late.EstimatedAUC)
			}
			rep.lateReasons = append(rep.lateReasons, fmt.Sprintf("outcomes that arrived late for window %s (%s to %s, v%d): %s%s",
				w.ReportID, w.WindowFrom.Format(time.DateTime), w.WindowTo.Format(time.DateTime), w.ChampionVersion, strings.Join(why, "; "), est))
			rows = append(rows, labelled...)
		}
		if err := c.Bucket.WriteJSON(ctx, PerformanceKey(w.ReportID), w); err != nil {
			return nil, fmt.Errorf("driftcheck: performance of %s: %w", w.ReportID, err)
		}
	}
	return rows, nil
}

// savePerformance writes the checked window's own record.
func (c *Checker) savePerformance(ctx context.Context, rep *Report, labelled int) error {
	w := WindowPerformance{ReportID: rep.ID, WindowFrom: rep.WindowFrom, WindowTo: rep.WindowTo, ChampionVersion: rep.ChampionVersion,
		Rows: rep.Rows, Estimate: rep.Estimate, LabelledRows: labelled, UpdatedBy: rep.ID}
	if q := rep.Quality; q != nil && q.LabelledRows >= c.Thresholds.MinLabels {
		w.Realised = q
		at := rep.WindowTo
		w.RealisedBy, w.RealisedAt = rep.ID, &at
	}
	if err := c.Bucket.WriteJSON(ctx, PerformanceKey(rep.ID), w); err != nil {
		return fmt.Errorf("driftcheck: performance of %s: %w", rep.ID, err)
	}
	return nil
}
