package driftcheck

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/customers"
	"github.com/claimrisk/claimrisk/shared/drift"
	"github.com/claimrisk/claimrisk/shared/governance"
	"github.com/claimrisk/claimrisk/shared/metrics"
	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/registry"
)

// Format names the report layout.
const Format = "claimrisk.drift/v1"

// Prefix is where reports live in the bucket.
const Prefix = "drift/reports/"

// Thresholds decide when drift counts as detected.
type Thresholds struct {
	MinRows           int
	MinLabels         int
	DriftShare        float64
	MaxAUCDrop        float64
	MaxCalibrationGap float64
}

// Column is one column's drift test.
type Column struct {
	Column    string  `json:"column"`
	Kind      string  `json:"kind"`
	Test      string  `json:"test"`
	Score     float64 `json:"score"`
	Threshold float64 `json:"threshold"`
	Drifted   bool    `json:"drifted"`
	// Weight is the feature's weight in the alert policy, from WeightSource
	// ("model" or "configured"); Rule its rule; Alert whether its drift
	// raised the alarm by itself.
	Weight       float64 `json:"weight"`
	WeightSource string  `json:"weight_source,omitempty"`
	Rule         string  `json:"rule,omitempty"`
	Alert        bool    `json:"alert"`
}

// DataQuality is one column's missing and out-of-reference values.
type DataQuality struct {
	Column string `json:"column"`
	// Missing is the share of rows without a value.
	Missing float64 `json:"missing_share"`
	// OutOfRange is the share of values outside the reference's range
	// (numeric) or not seen in the reference (categorical).
	OutOfRange float64 `json:"out_of_range_share"`
}

// Quality is the model's quality on the labelled rows of the window.
type Quality struct {
	LabelledRows   int           `json:"labelled_rows"`
	AUC            *float64      `json:"auc"` // null when the outcomes are all alike
	LogLoss        float64       `json:"log_loss"`
	Brier          float64       `json:"brier"`
	MeanPredicted  float64       `json:"mean_predicted"`
	ObservedRate   float64       `json:"observed_rate"`
	CalibrationGap float64       `json:"calibration_gap"`
	ReferenceAUC   float64       `json:"reference_auc"`
	Calibration    []metrics.Bin `json:"calibration"`
	// AUCSamplingError (Hanley and McNeil) and RateSamplingError (the
	// observed rate's spread if the predictions were right) say how far
	// the window's figures move by chance: a fall counts only beyond three
	// of them.
	AUCSamplingError  *float64 `json:"auc_sampling_error"`
	RateSamplingError float64  `json:"claim_rate_sampling_error"`
	Degraded          bool     `json:"degraded"`
}

// DatasetDrift is the share of drifted feature columns.
type DatasetDrift struct {
	Columns   int     `json:"columns"`
	Drifted   int     `json:"drifted"`
	Share     float64 `json:"share"`
	Threshold float64 `json:"threshold"`
	Detected  bool    `json:"detected"`
}

// PredictionDrift compares the predicted probabilities.
type PredictionDrift struct {
	Column
	ReferenceMean float64 `json:"reference_mean"`
	CurrentMean   float64 `json:"current_mean"`
}

// Report is one drift check.
type Report struct {
	Format          string    `json:"format"`
	ID              string    `json:"id"`
	Model           string    `json:"model"`
	ChampionVersion int       `json:"champion_version"`
	DatasetID       string    `json:"champion_dataset_id"`
	ReferenceKey    string    `json:"reference_key"`
	ReferenceRows   int       `json:"reference_rows"`
	WindowFrom      time.Time `json:"window_from"`
	WindowTo        time.Time `json:"window_to"`
	Rows            int       `json:"rows"`
	Enough          bool      `json:"enough_rows"`
	DriftDetected   bool      `json:"drift_detected"`
	Reasons         []string  `json:"reasons"`
	// RulesFired names the rules that raised the alarm (Fired* constants).
	RulesFired      []string        `json:"rules_fired"`
	WeightFloor     float64         `json:"weight_floor"`
	DriftedColumns  []Column        `json:"drifted_columns"`
	Columns         []Column        `json:"columns"`
	DatasetDrift    DatasetDrift    `json:"dataset_drift"`
	PredictionDrift PredictionDrift `json:"prediction_drift"`
	DataQuality     []DataQuality   `json:"data_quality"`
	Quality         *Quality        `json:"quality"`
	// Estimate is the champion's performance estimated from the window's
	// predictions alone (CBPE), before any outcome arrives.
	Estimate *Estimated `json:"estimated_performance"`
	// LateQuality are earlier windows whose outcomes arrived since the last
	// check: their realised quality, beside what was estimated for them.
	LateQuality []LateQuality `json:"late_quality"`
	lateReasons []string
	LabelledKey string     `json:"labelled_key,omitempty"`
	Thresholds  Thresholds `json:"thresholds"`
	// Fairness compares the groups of the protected attribute, joined to
	// the log through the pseudonymised customer key; FairnessLabelled adds
	// calibration and error rates on the labelled rows.
	Fairness         *governance.Fairness `json:"fairness"`
	FairnessLabelled *governance.Fairness `json:"fairness_labelled,omitempty"`
	FairnessAlert    bool                 `json:"fairness_alert"`
	FairnessReasons  []string             `json:"fairness_reasons"`
	// EventID and EventTime name the cron event that asked for the check
	// (the report itself is named by the time the check ran).
	EventID   string    `json:"event_id,omitempty"`
	EventTime time.Time `json:"event_time,omitzero"`
}

// Key is the bucket key of a report's object.
func Key(id, object string) string { return Prefix + id + "/" + object }

// IDFor names the report of a window ending at t.
func IDFor(t time.Time) string { return t.UTC().Format("20060102T150405.000Z") }

// Checker runs drift checks against a registry's champion.
type Checker struct {
	Bucket     *blobstore.Bucket
	Registry   *registry.Registry
	Thresholds Thresholds
	Fairness   governance.Policy
	// LogWait is how long after a window ends the payload log holds all of
	// it: the predict function's flush interval and a little more (the
	// watermark; see window.go).
	LogWait time.Duration
	// Policy decides which drifted features raise the alarm.
	Policy Policy
	// LabelHorizon is how long after its window a prediction's outcome is
	// still joined to it; 0 keeps waiting for ever.
	LabelHorizon time.Duration

	mu        sync.Mutex
	baselines map[int]*Baseline // by champion version
}

// ErrNoChampion means there is nothing to check yet.
var ErrNoChampion = errors.New("driftcheck: no champion to check")

// Check compares the window ending at end with the champion's reference and
// stores the report. The window starts where the last check with a verdict
// ended, so each check looks at the traffic since the one before, but never
// further back than window (see window.go). The report is named by end,
// the time the check runs on the caller's clock.
func (c *Checker) Check(ctx context.Context, end time.Time, window time.Duration) (Report, error) {
	return c.CheckFor(ctx, end, window, Trigger{})
}

// CheckFor is Check on behalf of an event, which the report names.
func (c *Checker) CheckFor(ctx context.Context, end time.Time, window time.Duration, trig Trigger) (Report, error) {
	end = end.UTC().Truncate(time.Millisecond)
	id, err := c.newID(ctx, end)
	if err != nil {
		return Report{}, err
	}
	champ, err := c.Registry.Resolve(ctx, registry.Champion)
	if errors.Is(err, registry.ErrNoAlias) {
		return Report{}, fmt.Errorf("%w: %v", ErrNoChampion, err)
	}
	if err != nil {
		return Report{}, err
	}
	ref, err := c.reference(ctx, champ)
	if err != nil {
		return Report{}, err
	}
	from, err := c.windowStart(ctx, id, end, window)
	if err != nil {
		return Report{}, err
	}
	if err := c.waitForLog(ctx, end); err != nil {
		return Report{}, err
	}
	// Outcomes arrive after predictions: read all feedback from the window's
	// start on, first, so that reading the window keeps whole rows only of
	// the predictions an outcome names.
	fb, err := ReadFeedback(ctx, c.Bucket, from)
	if err != nil {
		return Report{}, err
	}
	j := newJoiner(fb)
	// The customers' groups are looked up as the window is read, so that
	// the frame need not keep each row's customer; a failure to load them
	// fails the check only where fairness is measured, as before.
	groupOf, groupErr := customers.Load(ctx, c.Bucket)
	cur := newFrame(0, groupOf)
	named, err := c.readWindow(ctx, from, end, champ.Version, j, cur)
	if err != nil {
		return Report{}, err
	}
	rep := Report{
		Format: Format, ID: id, EventID: trig.EventID, EventTime: trig.EventTime, Model: c.Registry.Name(), ChampionVersion: champ.Version, DatasetID: champ.Lineage.DatasetID,
		ReferenceKey: ReferenceKey(champ), ReferenceRows: len(ref), WindowFrom: from.UTC(), WindowTo: end.UTC(),
		Rows: cur.n, Thresholds: c.Thresholds, Reasons: []string{}, DriftedColumns: []Column{}, FairnessReasons: []string{},
		RulesFired: []string{}, WeightFloor: c.Policy.WeightFloor,
	}
	rep.Enough = cur.n >= c.Thresholds.MinRows
	if !rep.Enough {
		rep.Reasons = append(rep.Reasons, fmt.Sprintf("only %d logged predictions of v%d in the window; a verdict needs %d", cur.n, champ.Version, c.Thresholds.MinRows))
		return rep, c.save(ctx, &rep, nil)
	}
	base, err := c.baseline(champ, ref)
	if err != nil {
		return Report{}, err
	}
	// The estimate sets only rep.Estimate and reads only the window's
	// probabilities: it runs beside the column tests.
	var estimating errgroup.Group
	estimating.Go(func() error { return rep.estimate(base, cur) })
	err = rep.compare(base.columns, cur)
	if estErr := estimating.Wait(); err == nil {
		err = estErr
	}
	if err != nil {
		return Report{}, err
	}
	labelled := j.join(named)
	rep.quality(labelled, champ.Metrics.AUC)
	late, err := c.catchUp(ctx, &rep, end)
	if err != nil {
		return Report{}, err
	}
	rep.decide(c.Policy, base.Weights)
	if groupErr != nil {
		return Report{}, groupErr
	}
	c.fairness(&rep, cur, labelled, groupOf)
	if err := c.save(ctx, &rep, append(labelled, late...)); err != nil {
		return Report{}, err
	}
	return rep, c.savePerformance(ctx, &rep, len(labelled))
}

// compare runs the per-column drift tests, prediction drift and data quality.
// The columns are independent, so they are tested on every core; the
// report lists them in FeatureColumns' order all the same.
func (rep *Report) compare(ref, cur *frame) error {
	type outcome struct {
		res     drift.Result
		err     error
		quality DataQuality
	}
	outcomes := make([]outcome, len(FeatureColumns))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, col := range FeatureColumns {
		g.Go(func() error {
			res, err := col.test(i, ref, cur)
			outcomes[i] = outcome{res, err, col.quality(i, ref, cur)}
			return nil // the first column's error by order is returned below
		})
	}
	_ = g.Wait()
	for i, col := range FeatureColumns {
		res, err := outcomes[i].res, outcomes[i].err
		if err != nil {
			return fmt.Errorf("driftcheck: column %s: %w", col.Name, err)
		}
		c := Column{Column: col.Name, Kind: col.kindName(), Test: string(res.Test), Score: res.Score, Threshold: res.Threshold, Drifted: res.Drifted}
		rep.Columns = append(rep.Columns, c)
		if c.Drifted {
			rep.DriftedColumns = append(rep.DriftedColumns, c)
		}
		rep.DataQuality = append(rep.DataQuality, outcomes[i].quality)
	}
	rep.DatasetDrift = DatasetVerdict(rep.Columns, rep.Thresholds.DriftShare)
	res, err := drift.NumericColumn(ref.probability, cur.probability)
	if err != nil {
		return fmt.Errorf("driftcheck: prediction: %w", err)
	}
	rep.PredictionDrift = PredictionDrift{
		Column:        Column{Column: PredictionColumn.Name, Kind: "numeric", Test: string(res.Test), Score: res.Score, Threshold: res.Threshold, Drifted: res.Drifted},
		ReferenceMean: mean(ref.probability), CurrentMean: mean(cur.probability),
	}
	return nil
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(max(len(xs), 1))
}

// quality scores the labelled rows.
func (rep *Report) quality(labelled []predlog.ReferenceRow, referenceAUC float64) {
	if len(labelled) == 0 {
		return
	}
	p, y := make([]float64, len(labelled)), make([]float64, len(labelled))
	for i, r := range labelled {
		p[i], y[i] = r.Probability, float64(r.Claim)
	}
	q := &Quality{LabelledRows: len(labelled), ReferenceAUC: referenceAUC}
	if s, err := metrics.Evaluate(p, y); err == nil {
		q.AUC, q.LogLoss, q.Brier, q.Calibration = &s.AUC, s.LogLoss, s.Brier, s.Calibration
		q.MeanPredicted, q.ObservedRate = s.MeanPredicted, s.ObservedRate
	} else {
		// One outcome only (all or none claimed): no AUC, but calibration still says something.
		for i := range p {
			q.MeanPredicted += p[i] / float64(len(p))
			q.ObservedRate += y[i] / float64(len(p))
		}
		q.LogLoss, q.Brier = metrics.LogLoss(p, y), metrics.Brier(p, y)
	}
	q.CalibrationGap = q.ObservedRate - q.MeanPredicted
	q.samplingErrors(p, y)
	rep.Quality = q
}

// fairness compares the protected groups of the window's predictions (the
// frame holds each row's group) and of its labelled rows (attrs gives each
// customer's).
func (c *Checker) fairness(rep *Report, cur *frame, labelled []predlog.ReferenceRow, attrs map[string]string) {
	rows := func(yield func(governance.Row) bool) {
		for i, code := range cur.group {
			if !yield(governance.Row{Group: cur.groups[code], Probability: cur.probability[i]}) {
				return
			}
		}
	}
	f := c.Fairness.MeasureSeq("sex", rows, false)
	rep.Fairness = &f
	if f.Flagged {
		rep.FairnessAlert = true
		rep.FairnessReasons = append(rep.FairnessReasons, f.Reason())
	}
	if len(labelled) >= c.Thresholds.MinLabels {
		lrows := make([]governance.Row, len(labelled))
		for i, r := range labelled {
			lrows[i] = governance.Row{Group: attrs[r.CustomerID], Probability: r.Probability, Claim: float64(r.Claim)}
		}
		fl := c.Fairness.Measure("sex", lrows, true)
		rep.FairnessLabelled = &fl
	}
}

// decide sets the verdict, the rules that fired and their reasons: the
// policy's feature, dataset and prediction rules, then the quality of the
// window's labelled predictions.
func (rep *Report) decide(p Policy, weights map[string]float64) {
	t := rep.Thresholds
	v := p.Decide(rep.Columns, weights, rep.DatasetDrift, rep.PredictionDrift)
	rep.DriftedColumns = rep.DriftedColumns[:0]
	for _, c := range rep.Columns {
		if c.Drifted {
			rep.DriftedColumns = append(rep.DriftedColumns, c)
		}
	}
	for _, why := range degradation(rep.Quality, t) {
		v.fire(FiredQuality, why)
	}
	for _, why := range rep.lateReasons {
		v.fire(FiredDelayed, why)
	}
	if e := rep.Estimate; e != nil && e.Alarm {
		v.fire(FiredEstimate, fmt.Sprintf("estimated AUC %.4f (band %.4f to %.4f) on %d predictions, before any outcome, is more than %.2f below the validation AUC %.4f",
			e.AUC, e.AUCLower, e.AUCUpper, e.Rows, t.MaxAUCDrop, e.ValidationAUC))
	}
	rep.Reasons = append(rep.Reasons, v.Reasons...)
	rep.RulesFired = append(rep.RulesFired, v.Fired...)
	rep.DriftDetected = len(rep.RulesFired) > 0
}

func (c *Checker) save(ctx context.Context, rep *Report, labelled []predlog.ReferenceRow) error {
	if len(labelled) > 0 {
		data, err := parquetio.Encode(labelled)
		if err != nil {
			return err
		}
		rep.LabelledKey = Key(rep.ID, "labelled.parquet")
		if err := c.Bucket.Write(ctx, rep.LabelledKey, data, "application/vnd.apache.parquet"); err != nil {
			return fmt.Errorf("driftcheck: save %s: %w", rep.ID, err)
		}
	}
	if err := c.Bucket.Write(ctx, Key(rep.ID, "report.md"), []byte(rep.Markdown()), "text/markdown"); err != nil {
		return fmt.Errorf("driftcheck: save %s: %w", rep.ID, err)
	}
	if err := c.Bucket.WriteJSON(ctx, Key(rep.ID, "report.json"), rep); err != nil {
		return fmt.Errorf("driftcheck: save %s: %w", rep.ID, err)
	}
	return nil
}

// previous is the newest report with a verdict before id, or nil. A
// report whose window ends after end is not one a check before this one
// wrote (see futureSlack), and is passed over.
func (c *Checker) previous(ctx context.Context, id string, end time.Time) (*Report, error) {
	ids, err := c.Bucket.Dirs(ctx, Prefix)
	if err != nil {
		return nil, err
	}
	sort.Strings(ids)
	for i := len(ids) - 1; i >= 0; i-- {
		if ids[i] >= id || inFuture(ids[i], end) {
			continue
		}
		var r Report
		err := c.Bucket.ReadJSON(ctx, Key(ids[i], "report.json"), &r)
		if errors.Is(err, blobstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if r.Enough && !r.WindowTo.After(end) {
			return &r, nil
		}
	}
	return nil, nil
}

// Latest reads the newest report: the one that ran last, passing over any
// named in the future (see futureSlack).
func Latest(ctx context.Context, b *blobstore.Bucket) (Report, error) {
	ids, err := b.Dirs(ctx, Prefix)
	if err != nil {
		return Report{}, err
	}
	sort.Strings(ids)
	now := time.Now()
	for i := len(ids) - 1; i >= 0; i-- {
		if inFuture(ids[i], now) {
			continue
		}
		var r Report
		err := b.ReadJSON(ctx, Key(ids[i], "report.json"), &r)
		if errors.Is(err, blobstore.ErrNotFound) {
			continue
		}
		return r, err
	}
	return Report{}, fmt.Errorf("driftcheck: no drift report in %s yet: run 'claimrisk drift check'", b.URL)
}

// ReadWindow reads the rows of a log with time in [from, to) (see
// scanWindow for the objects it reads).
func ReadWindow[T any](ctx context.Context, b *blobstore.Bucket, prefix string, from, to time.Time, at func(T) time.Time) ([]T, error) {
	var out []T
	err := scanWindow(ctx, b, prefix, nil, from, to, func(r *T) time.Time { return at(*r) }, func(r *T) { out = append(out, *r) })
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return out, nil
}

// scanWindow calls visit with each row of a log with time in [from, to),
// looking only at the objects of the days the window touches and the day
// after it: an object is filed under the day it was written, which for the
// last rows of a window can be after midnight. One goroutine reads and
// decodes the next object while visit sees the rows of this one, so at
// most two objects' rows are held at a time; visit must copy what it keeps
// of a row. Only the named columns are read (all when columns is nil).
func scanWindow[T any](ctx context.Context, b *blobstore.Bucket, prefix string, columns []string, from, to time.Time, at func(*T) time.Time, visit func(*T)) error {
	var keys []string
	until := to.Add(24 * time.Hour)
	for day := from.UTC().Truncate(24 * time.Hour); day.Before(until); day = day.Add(24 * time.Hour) {
		dayKeys, err := b.Keys(ctx, prefix+day.Format("2006/01/02")+"/")
		if err != nil {
			return err
		}
		for _, k := range dayKeys {
			if strings.HasSuffix(k, ".parquet") {
				keys = append(keys, k)
			}
		}
	}
	type object struct {
		rows []T
		err  error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	read, free := make(chan object), make(chan []T, 2)
	free <- nil
	free <- nil
	go func() {
		defer close(read)
		for _, k := range keys {
			var rows []T
			select {
			case rows = <-free:
			case <-ctx.Done():
				return
			}
			rows, err := readObject(ctx, b, k, columns, rows[:0])
			select {
			case read <- object{rows, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for o := range read {
		if o.err != nil {
			return o.err
		}
		for i := range o.rows {
			if t := at(&o.rows[i]); !t.Before(from) && t.Before(to) {
				visit(&o.rows[i])
			}
		}
		free <- o.rows
	}
	return ctx.Err()
}

// readObject appends the named columns of the rows of the log object at
// key to rows (all columns when columns is nil).
func readObject[T any](ctx context.Context, b *blobstore.Bucket, key string, columns []string, rows []T) ([]T, error) {
	if err := ctx.Err(); err != nil {
		return rows, err
	}
	data, err := b.Read(ctx, key)
	if err != nil {
		return rows, err
	}
	rows, err = parquetio.DecodeColumnsAppend(rows, data, columns)
	if err != nil {
		return rows, fmt.Errorf("driftcheck: %s: %w", key, err)
	}
	return rows, nil
}

// readWindow reads the predictions of model version in [from, to) into
// cur, unless it is nil, and returns whole only the rows j's outcomes
// name, in the log's order. With no outcomes it reads only frameColumns.
func (c *Checker) readWindow(ctx context.Context, from, to time.Time, version int, j *joiner, cur *frame) ([]predlog.Row, error) {
	var named []predlog.Row
	var columns []string // all: a named row is kept whole
	if len(j.fb) == 0 {
		columns = frameColumns
	}
	err := scanWindow(ctx, c.Bucket, predlog.PredictionsPrefix, columns, from, to, func(r *predlog.Row) time.Time { return r.Time }, func(r *predlog.Row) {
		if int(r.ModelVersion) != version {
			return
		}
		if cur != nil {
			cur.add(r)
		}
		if j.names(r) {
			// Cloned, the ids no longer hold the object's pages of ids.
			row := *r
			row.RequestID, row.PolicyID, row.CustomerID = strings.Clone(r.RequestID), strings.Clone(r.PolicyID), strings.Clone(r.CustomerID)
			named = append(named, row)
		}
	})
	return named, err
}
