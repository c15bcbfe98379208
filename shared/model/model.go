package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/claimrisk/claimrisk/shared/features"
	"github.com/claimrisk/claimrisk/shared/logistic"
	"github.com/claimrisk/claimrisk/shared/parallel"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// Format names the stored layout.
const Format = "claimrisk.glm/v1"

// Name is the registered model's name.
const Name = "claim-risk"

// The model kinds training fits.
const (
	KindLegacy   = "legacy"
	KindBase     = "glm-base"
	KindAccident = "glm-accident"
)

// Kinds lists the kinds in training order.
var Kinds = []string{KindLegacy, KindBase, KindAccident}

// SetOf is the feature set a kind is fitted on.
func SetOf(kind string) (string, error) {
	switch kind {
	case KindLegacy:
		return features.SetLegacy, nil
	case KindBase:
		return features.SetBase, nil
	case KindAccident:
		return features.SetAccident, nil
	}
	return "", fmt.Errorf("model: unknown kind %q", kind)
}

// ErrInvalid marks a stored model that cannot be scored.
var ErrInvalid = errors.New("model: invalid model")

// Model is a fitted logistic GLM with its feature spec.
type Model struct {
	Format    string        `json:"format"`
	Name      string        `json:"name"`
	Kind      string        `json:"kind"`
	L2        float64       `json:"l2"`
	Features  features.Spec `json:"features"`
	Intercept float64       `json:"intercept"`
	Coef      []float64     `json:"coef"`

	design *features.Design
}

// New wraps a fit as a model.
func New(kind string, spec features.Spec, fit *logistic.Fit, l2 float64) (*Model, error) {
	m := &Model{Format: Format, Name: Name, Kind: kind, L2: l2, Features: spec, Intercept: fit.Intercept, Coef: fit.Coef}
	if err := m.prepare(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Model) prepare() error {
	if m.Format != Format {
		return fmt.Errorf("%w: format %q, want %q", ErrInvalid, m.Format, Format)
	}
	set, err := SetOf(m.Kind)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if m.Features.Set != set {
		return fmt.Errorf("%w: kind %s with feature set %q", ErrInvalid, m.Kind, m.Features.Set)
	}
	d, err := m.Features.Design()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(m.Coef) != d.Width() {
		return fmt.Errorf("%w: %d coefficients for %d features", ErrInvalid, len(m.Coef), d.Width())
	}
	for i, c := range append([]float64{m.Intercept}, m.Coef...) {
		if math.IsNaN(c) || math.IsInf(c, 0) {
			return fmt.Errorf("%w: coefficient %d is %v", ErrInvalid, i, c)
		}
	}
	m.design = d
	return nil
}

// Decode reads a stored model and checks that it can be scored.
func Decode(data []byte) (*Model, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Model
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := m.prepare(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Encode is the stored form.
func (m *Model) Encode() ([]byte, error) {
	return json.MarshalIndent(m, "", "  ")
}

// Design is the model's prepared feature design.
func (m *Model) Design() *features.Design { return m.design }

// Score is the probability for a standardised feature row.
func (m *Model) Score(row []float64) float64 {
	z := m.Intercept
	for j, v := range row {
		z += m.Coef[j] * v
	}
	return logistic.Sigmoid(z)
}

// Predict is the claim probability of a record, with the area's latest
// accident figures joined as at training time.
func (m *Model) Predict(r schema.PolicyRecord) float64 {
	var buf [32]float64
	row := buf[:m.design.Width()]
	m.design.Row(row, r, m.design.AccidentFor(r))
	return m.Score(row)
}

// PredictExample is the claim probability of an example with its own
// accident figures (those at its start date).
func (m *Model) PredictExample(ex features.Example) float64 {
	var buf [32]float64
	row := buf[:m.design.Width()]
	m.design.Row(row, ex.Record, ex.Accident)
	return m.Score(row)
}

// PredictExamples scores many examples, on all cores.
func (m *Model) PredictExamples(exs []features.Example) []float64 {
	out := make([]float64, len(exs))
	parallel.For(len(exs), parallel.Rows, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i] = m.PredictExample(exs[i])
		}
	})
	return out
}

// Bands are the risk bands the API reports, by upper probability bound.
var Bands = []struct {
	Name  string
	Upper float64
}{
	{"low", 0.05}, {"moderate", 0.10}, {"high", 0.20}, {"very_high", 1.0000001},
}

// Band names the risk band of a probability.
func Band(p float64) string {
	for _, b := range Bands {
		if p < b.Upper {
			return b.Name
		}
	}
	return Bands[len(Bands)-1].Name
}
