package events

import (
	"encoding/json"
	"fmt"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/claimrisk/claimrisk/shared/metrics"
)

// Event types.
const (
	DatasetUploaded = "dev.claimrisk.dataset.uploaded"
	ModelTrained    = "dev.claimrisk.model.trained"
	ModelPromoted   = "dev.claimrisk.model.promoted"
	ModelRejected   = "dev.claimrisk.model.rejected"
	DriftDetected   = "dev.claimrisk.drift.detected"
	// Ping is the type Knative's PingSource emits; the drift check's cron.
	Ping = "dev.knative.sources.ping"
)

// Sources name the producers.
const (
	SourceCLI      = "/claimrisk/cli"
	SourceTrain    = "/claimrisk/functions/train"
	SourceRegister = "/claimrisk/functions/register"
	SourceDrift    = "/claimrisk/functions/drift"
	SourcePredict  = "/claimrisk/functions/predict"
)

// ObjectRef locates one stored object.
type ObjectRef struct {
	Key    string `json:"key"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
}

// DatasetUploadedData announces a dataset written to the bucket. It is sent
// after the manifest, the last object, is stored.
type DatasetUploadedData struct {
	Bucket      string      `json:"bucket"`
	DatasetID   string      `json:"dataset_id"`
	Fingerprint string      `json:"fingerprint"`
	Manifest    string      `json:"manifest"`
	Objects     []ObjectRef `json:"objects"`
}

// Candidate summarises one model of a training.
type Candidate struct {
	RunID   string  `json:"run_id"`
	Kind    string  `json:"kind"`
	AUC     float64 `json:"auc"`
	Gini    float64 `json:"gini"`
	LogLoss float64 `json:"log_loss"`
	Brier   float64 `json:"brier"`
}

// ModelTrainedData reports a finished training and its best candidate.
type ModelTrainedData struct {
	Bucket    string `json:"bucket"`
	RunID     string `json:"run_id"`
	Kind      string `json:"kind"`
	ModelKey  string `json:"model_key"`
	RunKey    string `json:"run_key"`
	DatasetID string `json:"dataset_id"`
	// Fingerprint identifies the training data.
	Fingerprint string `json:"fingerprint"`
	// Validation is the key of the out-of-time validation rows.
	Validation  string          `json:"validation_key"`
	Metrics     metrics.Summary `json:"metrics"`
	Candidates  []Candidate     `json:"candidates"`
	CodeVersion string          `json:"code_version"`
	Trigger     string          `json:"trigger"`
}

// Decision is the registry's answer to a trained model.
type Decision struct {
	Bucket            string           `json:"bucket"`
	Model             string           `json:"model"`
	Version           int              `json:"version"`
	RunID             string           `json:"run_id"`
	Promoted          bool             `json:"promoted"`
	Reason            string           `json:"reason"`
	ChampionVersion   int              `json:"champion_version,omitempty"`
	ChallengerMetrics metrics.Summary  `json:"challenger_metrics"`
	ChampionMetrics   *metrics.Summary `json:"champion_metrics,omitempty"`
}

// DriftedColumn is one column whose drift test fired.
type DriftedColumn struct {
	Column    string  `json:"column"`
	Test      string  `json:"test"`
	Score     float64 `json:"score"`
	Threshold float64 `json:"threshold"`
}

// DriftDetectedData reports a drift check whose thresholds were crossed.
type DriftDetectedData struct {
	Bucket          string          `json:"bucket"`
	ReportKey       string          `json:"report_key"`
	ChampionVersion int             `json:"champion_version"`
	WindowFrom      time.Time       `json:"window_from"`
	WindowTo        time.Time       `json:"window_to"`
	DriftedColumns  []DriftedColumn `json:"drifted_columns"`
	Reasons         []string        `json:"reasons"`
	// RulesFired names the rules that raised the alarm: feature,
	// dataset-share, prediction, quality, estimated-performance,
	// delayed-quality.
	RulesFired []string `json:"rules_fired,omitempty"`
	// LabelledKey holds the labelled rows of the window, for retraining.
	LabelledKey string `json:"labelled_key,omitempty"`
}

// New builds an event of type typ from source with JSON data.
func New(id, typ, source, subject string, data any) (event.Event, error) {
	e := cloudevents.NewEvent()
	e.SetID(id)
	e.SetType(typ)
	e.SetSource(source)
	e.SetTime(time.Now().UTC())
	if subject != "" {
		e.SetSubject(subject)
	}
	if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
		return e, fmt.Errorf("events: encode %s: %w", typ, err)
	}
	return e, nil
}

// Decode reads an event's JSON data into v. Unknown fields are allowed, so
// producers can add to a payload without breaking older consumers.
// Data that cannot be read is ErrInvalid.
func Decode(e event.Event, v any) error {
	if ct := e.DataContentType(); ct != "" && ct != cloudevents.ApplicationJSON && ct != "text/json" {
		return fmt.Errorf("%w: %s data is %s, want application/json", ErrInvalid, e.Type(), ct)
	}
	if len(e.Data()) == 0 {
		return fmt.Errorf("%w: %s has no data", ErrInvalid, e.Type())
	}
	if err := json.Unmarshal(e.Data(), v); err != nil {
		return fmt.Errorf("%w: %s data: %v", ErrInvalid, e.Type(), err)
	}
	return nil
}
