package training

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/claimrisk/claimrisk/shared/features"
	"github.com/claimrisk/claimrisk/shared/glm"
	"github.com/claimrisk/claimrisk/shared/governance"
	"github.com/claimrisk/claimrisk/shared/metrics"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/parallel"
	"github.com/claimrisk/claimrisk/shared/plots"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// Input is the data of one training.
type Input struct {
	DatasetID   string
	Fingerprint string
	Train       []features.Example
	Valid       []features.Example
	// Accidents supplies the area figures the accident model serves with.
	Accidents *features.AccidentIndex
	Trigger   string
	// LabelledKey is set when newly labelled traffic joined the data.
	LabelledKey string
	// Recalibrate, when set, holds recent examples on which the intercept
	// is fitted again after the coefficients: the claim rate of now, the
	// risk relativities of all the data.
	Recalibrate []features.Example
	// ReferenceRows is the size of the reference sample of the training
	// data stored with each run (DefaultReferenceRows when 0).
	ReferenceRows int
}

// RunID is the deterministic id of fitting kind on the input's data.
func RunID(fingerprint, kind string, l2 float64, codeVersion string) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%g|%s", fingerprint, kind, l2, codeVersion)))
	return "run-" + hex.EncodeToString(h[:])[:12]
}

// Fitted is one fitted and evaluated candidate.
type Fitted struct {
	Model      *model.Model
	Fit        *glm.Fit
	Metrics    runstore.Metrics
	Validation []predlog.ReferenceRow
	// Reference is a stratified sample of the training data, the rows the
	// model's drift checks compare traffic with once it is registered.
	Reference []predlog.ReferenceRow
	Plots     map[string][]byte
	Duration  time.Duration
}

// Fit fits kind on the input's training examples and evaluates it out of
// time on the validation examples.
func Fit(in Input, kind string, l2 float64, pseudonymise func(string) string) (*Fitted, error) {
	set, err := model.SetOf(kind)
	if err != nil {
		return nil, err
	}
	if len(in.Train) == 0 || len(in.Valid) == 0 {
		return nil, fmt.Errorf("training: %s needs training and validation rows, got %d and %d", kind, len(in.Train), len(in.Valid))
	}
	start := time.Now()
	spec, err := features.NewSpec(set, in.Train, in.Accidents)
	if err != nil {
		return nil, fmt.Errorf("training: %s: %w", kind, err)
	}
	design, err := spec.Design()
	if err != nil {
		return nil, fmt.Errorf("training: %s: %w", kind, err)
	}
	// The design in float32: the fit sums in float64, and float32 values
	// (relative rounding 6e-8) move the coefficients far less than their
	// agreement with scikit-learn allows (TestGLMAgreesWithScikitLearn).
	fit, err := glm.FitLogistic(design.Matrix32(in.Train), features.Labels(in.Train), design.Width(), glm.Options{L2: l2})
	if err != nil {
		return nil, fmt.Errorf("training: %s: %w", kind, err)
	}
	if len(in.Recalibrate) > 0 {
		if fit.Intercept, err = recalibrate(design, fit, in.Recalibrate); err != nil {
			return nil, fmt.Errorf("training: %s: %w", kind, err)
		}
	}
	m, err := model.New(kind, spec, fit, l2)
	if err != nil {
		return nil, fmt.Errorf("training: %s: %w", kind, err)
	}
	f := &Fitted{Model: m, Fit: fit, Duration: time.Since(start)}
	// The evaluation's parts are independent: the training metrics and the
	// governance figures, whose sorts and sums run on one core each, go
	// beside the rest.
	var training metrics.Summary
	var trainingErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		training, trainingErr = metrics.Evaluate(m.PredictExamples(in.Train), features.Labels(in.Train))
	})
	pv, yv := m.PredictExamples(in.Valid), features.Labels(in.Valid)
	var slices []governance.Slice
	var fairness *governance.Fairness
	wg.Go(func() { slices, fairness = governanceFigures(in.Valid, pv) })
	var validationErr, plotsErr error
	if f.Metrics.Validation, validationErr = metrics.Evaluate(pv, yv); validationErr == nil {
		f.Validation = ReferenceRows(m, in.Valid, pseudonymise)
		size := in.ReferenceRows
		if size == 0 {
			size = DefaultReferenceRows
		}
		f.Reference = ReferenceRows(m, ReferenceSample(in.Train, size, referenceSeed(in.Fingerprint)), pseudonymise)
		f.Plots, plotsErr = renderPlots(kind, pv, yv, f.Metrics.Validation)
	}
	wg.Wait()
	switch {
	case trainingErr != nil:
		return nil, fmt.Errorf("training: %s: training metrics: %w", kind, trainingErr)
	case validationErr != nil:
		return nil, fmt.Errorf("training: %s: validation metrics: %w", kind, validationErr)
	case plotsErr != nil:
		return nil, plotsErr
	}
	f.Metrics.Training, f.Metrics.Slices, f.Metrics.Fairness = training, slices, fairness
	return f, nil
}

// recalibrate fits the intercept alone on recent examples, the fitted
// coefficients held fixed as an offset.
func recalibrate(design *features.Design, fit *glm.Fit, recent []features.Example) (float64, error) {
	x, p := design.Matrix(recent), design.Width()
	off := make([]float64, len(recent))
	for i := range recent {
		for j, c := range fit.Coef {
			off[i] += c * x[i*p+j]
		}
	}
	r, err := glm.FitLogistic[float64](nil, features.Labels(recent), 0, glm.Options{Offset: off})
	if err != nil {
		return 0, fmt.Errorf("recalibrate the intercept on %d recent rows: %w", len(recent), err)
	}
	return r.Intercept, nil
}

// governanceFigures are the validation data's slice metrics and fairness.
func governanceFigures(valid []features.Example, p []float64) ([]governance.Slice, *governance.Fairness) {
	rows := make([]governance.Row, len(valid))
	rates := make([]float64, len(valid))
	for i, ex := range valid {
		rows[i] = governance.Row{Age: ex.Record.Age, Usage: ex.Record.Usage, CrashRate: ex.Accident.CrashRate,
			Group: ex.Sex, Probability: p[i], Claim: float64(indicator(ex.Claim))}
		rates[i] = ex.Accident.CrashRate
	}
	fair := governance.DefaultPolicy().Measure("sex", rows, true)
	return governance.Slices(rows, governance.NewAccidentLevels(rates)), &fair
}

// ReferenceRows are the labelled validation rows stored with a run. Their
// accident figures are those at each policy's start; their probability is
// what the model answers for the record as served, so that prediction drift
// compares like with like.
// The rows are built on all cores, so pseudonymise must be safe for
// concurrent use.
func ReferenceRows(m *model.Model, exs []features.Example, pseudonymise func(string) string) []predlog.ReferenceRow {
	rows := make([]predlog.ReferenceRow, len(exs))
	parallel.For(len(exs), parallel.Rows, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ex := &exs[i]
			rec := ex.Record
			rec.PolicyID, rec.CustomerID = pseudonymise(rec.PolicyID), pseudonymise(rec.CustomerID)
			p := m.Predict(ex.Record)
			rows[i] = predlog.ReferenceRow{
				Row: predlog.Row{
					Time:         ex.Start,
					PolicyRecord: rec,
					CrashRate:    ex.Accident.CrashRate,
					InjuryShare:  ex.Accident.InjuryShare,
					Probability:  p,
					Band:         model.Band(p),
				},
				StartDate: schema.DateOf(ex.Start),
				Claim:     int32(indicator(ex.Claim)),
			}
		}
	})
	return rows
}

// referenceSeed derives the sample's seed from the training data's
// fingerprint, so a repeated training draws the same reference.
func referenceSeed(fingerprint string) uint64 {
	h := sha256.Sum256([]byte("reference|" + fingerprint))
	return binary.BigEndian.Uint64(h[:8])
}

func indicator(b bool) int {
	if b {
		return 1
	}
	return 0
}

func renderPlots(kind string, p, y []float64, s metrics.Summary) (map[string][]byte, error) {
	out := map[string][]byte{}
	var err error
	if out[runstore.CalibrationObject], err = plots.Calibration("Calibration by decile: "+kind, s.Calibration); err != nil {
		return nil, err
	}
	fpr, tpr := metrics.ROC(p, y)
	if out[runstore.ROCObject], err = plots.ROC("ROC, out of time: "+kind, fpr, tpr, s.AUC); err != nil {
		return nil, err
	}
	pol, cl := metrics.Lorenz(p, y)
	if out[runstore.LorenzObject], err = plots.Lorenz("Lorenz curve, out of time: "+kind, pol, cl, s.Gini); err != nil {
		return nil, err
	}
	return out, nil
}

// Examples converts reference rows back to labelled examples, for scoring
// another model on a run's validation data.
func Examples(rows []predlog.ReferenceRow) []features.Example {
	exs := make([]features.Example, len(rows))
	for i, r := range rows {
		exs[i] = features.Example{
			Record:   r.PolicyRecord,
			Start:    r.StartDate.Time(),
			Claim:    r.Claim == 1,
			Accident: features.Accident{CrashRate: r.CrashRate, InjuryShare: r.InjuryShare},
		}
	}
	return exs
}
