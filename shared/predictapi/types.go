package predictapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/claimrisk/claimrisk/shared/governance"
	"github.com/claimrisk/claimrisk/shared/metrics"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// PredictRequest is the body of POST /v1/predict.
type PredictRequest struct {
	Records []schema.PolicyRecord `json:"records"`
}

// Prediction is the answer for one record.
type Prediction struct {
	PolicyID         string  `json:"policy_id"`
	ClaimProbability float64 `json:"claim_probability"`
	RiskBand         string  `json:"risk_band"`
}

// ModelRef names the model that answered.
type ModelRef struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
}

// PredictResponse is the answer of POST /v1/predict.
type PredictResponse struct {
	RequestID string `json:"request_id"`
	// PredictedAt is when the predictions were made and logged (to the
	// millisecond): quote it with the policy id in /v1/feedback.
	PredictedAt time.Time    `json:"predicted_at"`
	Model       ModelRef     `json:"model"`
	Predictions []Prediction `json:"predictions"`
}

// ModelInfo is the answer of GET /v1/model.
type ModelInfo struct {
	Name     string          `json:"name"`
	Version  int             `json:"version"`
	Alias    string          `json:"alias"`
	Kind     string          `json:"kind"`
	RunID    string          `json:"run_id"`
	Metrics  metrics.Summary `json:"metrics"`
	LoadedAt time.Time       `json:"loaded_at"`
	// Shadow is the challenger scored in shadow, when there is one.
	Shadow *ModelRef `json:"shadow,omitempty"`
	// Registry says whether the registry could be read at the last check.
	Registry RegistryStatus `json:"registry"`
}

// RegistryStatus reports the last look at the registry.
type RegistryStatus struct {
	Reachable bool      `json:"reachable"`
	CheckedAt time.Time `json:"checked_at"`
	Error     string    `json:"error,omitempty"`
}

// ExplainResponse is the answer of POST /v1/explain: an exact
// decomposition of each prediction (see governance.Explanation).
type ExplainResponse struct {
	RequestID    string                   `json:"request_id"`
	Model        ModelRef                 `json:"model"`
	Reference    string                   `json:"reference"`
	Explanations []governance.Explanation `json:"explanations"`
}

// Outcome is one observed outcome sent to /v1/feedback.
type Outcome struct {
	PolicyID  string `json:"policy_id,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	// PredictedAt, with PolicyID, names the prediction the outcome labels:
	// the policy's prediction made at that time (PredictResponse.PredictedAt).
	PredictedAt *time.Time `json:"predicted_at,omitempty"`
	Claim       *bool      `json:"claim"`
}

// FeedbackRequest is the body of POST /v1/feedback.
type FeedbackRequest struct {
	Outcomes []Outcome `json:"outcomes"`
}

// FeedbackResponse acknowledges stored outcomes.
type FeedbackResponse struct {
	Accepted int `json:"accepted"`
}

// ErrorResponse is the body of every 4xx and 5xx.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody says what was wrong.
type ErrorBody struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

// DecodeFeedback reads a /v1/feedback body.
func DecodeFeedback(body []byte, lim Limits) ([]Outcome, error) {
	raws, err := records(body, "outcomes", lim.maxRecords())
	if err != nil {
		return nil, err
	}
	out := make([]Outcome, len(raws))
	for i, raw := range raws {
		path := fmt.Sprintf("outcomes[%d]", i)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&out[i]); err != nil {
			msg := jsonProblem(err)
			if strings.HasPrefix(err.Error(), "json: unknown field") {
				msg = strings.TrimPrefix(err.Error(), "json: ")
			}
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return nil, badRequest("%s.%s: wrong type: found %s", path, te.Field, te.Value)
			}
			return nil, badRequest("%s: %s", path, msg)
		}
		o := out[i]
		switch {
		case o.Claim == nil:
			return nil, badRequest("%s.claim: missing (true or false)", path)
		case o.PolicyID == "" && o.RequestID == "":
			return nil, badRequest("%s: give policy_id or request_id (or both)", path)
		}
		if err := checkID(path+".policy_id", o.PolicyID); err != nil {
			return nil, err
		}
		if err := checkID(path+".request_id", o.RequestID); err != nil {
			return nil, err
		}
	}
	return out, nil
}
