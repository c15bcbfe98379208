package governance

import (
	"math"
	"sort"

	"github.com/claimrisk/claimrisk/shared/logistic"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// Term is one model feature's part in a prediction.
type Term struct {
	Feature      string  `json:"feature"`
	Field        string  `json:"field"`
	Value        float64 `json:"value"`
	Reference    float64 `json:"reference"`
	Coefficient  float64 `json:"coefficient"`
	Contribution float64 `json:"contribution"`
}

// Contribution is one request field's part: the sum of its features' terms.
type Contribution struct {
	Field        string  `json:"field"`
	Contribution float64 `json:"contribution"`
	Direction    string  `json:"direction"` // "up", "down" or "none"
}

// Explanation is an exact decomposition of a GLM prediction on the logit
// scale: logit(probability) = reference_logit + sum of the contributions.
// The reference is the average policy of the training data: every feature
// at its training mean, where the standardised features are zero, so the
// reference logit is the intercept. Each term is the coefficient times the
// feature's deviation from that mean, in standard deviations.
type Explanation struct {
	PolicyID             string         `json:"policy_id"`
	Probability          float64        `json:"claim_probability"`
	Logit                float64        `json:"logit"`
	ReferenceLogit       float64        `json:"reference_logit"`
	ReferenceProbability float64        `json:"reference_probability"`
	Contributions        []Contribution `json:"contributions"`
	Terms                []Term         `json:"terms"`
}

// Explain decomposes the model's prediction for a record.
func Explain(m *model.Model, r schema.PolicyRecord) Explanation {
	d := m.Design()
	raw := make([]float64, d.Width())
	d.Raw(raw, r, d.AccidentFor(r))
	e := Explanation{PolicyID: r.PolicyID, ReferenceLogit: m.Intercept, ReferenceProbability: logistic.Sigmoid(m.Intercept)}
	byField := map[string]float64{}
	var order []string
	z := m.Intercept
	for i, name := range d.Names {
		std := (raw[i] - d.Center[i]) / d.Scale[i]
		c := m.Coef[i] * std
		z += c
		field := d.Field(i)
		e.Terms = append(e.Terms, Term{Feature: name, Field: field, Value: raw[i], Reference: d.Center[i], Coefficient: m.Coef[i], Contribution: c})
		if _, ok := byField[field]; !ok {
			order = append(order, field)
		}
		byField[field] += c
	}
	e.Logit, e.Probability = z, logistic.Sigmoid(z)
	for _, f := range order {
		c := byField[f]
		dir := "none"
		switch {
		case c > 1e-12:
			dir = "up"
		case c < -1e-12:
			dir = "down"
		}
		e.Contributions = append(e.Contributions, Contribution{Field: f, Contribution: c, Direction: dir})
	}
	sort.SliceStable(e.Contributions, func(i, j int) bool {
		return math.Abs(e.Contributions[i].Contribution) > math.Abs(e.Contributions[j].Contribution)
	})
	return e
}
