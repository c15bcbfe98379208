package predlog

import (
	"time"

	"github.com/claimrisk/claimrisk/shared/schema"
)

// Row is one answered prediction as logged. The policy and customer ids in
// the embedded record are pseudonyms. Its columns are the data contract
// with the Evidently job (monitoring/): change them in both places.
type Row struct {
	Time         time.Time `parquet:"time,timestamp(millisecond)" json:"time"`
	RequestID    string    `parquet:"request_id" json:"request_id"`
	ModelVersion int32     `parquet:"model_version" json:"model_version"`
	schema.PolicyRecord
	CrashRate   float64 `parquet:"crash_rate" json:"crash_rate"`
	InjuryShare float64 `parquet:"injury_share" json:"injury_share"`
	Probability float64 `parquet:"probability" json:"probability"`
	Band        string  `parquet:"band,dict" json:"band"`
}

// ReferenceRow is a labelled row of a model's out-of-time validation data,
// stored with each training run as the reference for drift checks.
type ReferenceRow struct {
	Row
	StartDate schema.Date `parquet:"start_date,date" json:"start_date"`
	Claim     int32       `parquet:"claim" json:"claim"`
}

// ShadowRow is a challenger's answer to a request the champion answered:
// scored in shadow, never returned. The policy id is a pseudonym.
type ShadowRow struct {
	Time                time.Time `parquet:"time,timestamp(millisecond)" json:"time"`
	RequestID           string    `parquet:"request_id" json:"request_id"`
	PolicyID            string    `parquet:"policy_id" json:"policy_id"`
	ModelVersion        int32     `parquet:"model_version" json:"model_version"`
	Probability         float64   `parquet:"probability" json:"probability"`
	ChampionVersion     int32     `parquet:"champion_version" json:"champion_version"`
	ChampionProbability float64   `parquet:"champion_probability" json:"champion_probability"`
}

// Feedback is an observed outcome for an earlier prediction.
type Feedback struct {
	Time      time.Time `parquet:"time,timestamp(millisecond)" json:"time"`
	RequestID string    `parquet:"request_id" json:"request_id"`
	PolicyID  string    `parquet:"policy_id" json:"policy_id"` // pseudonym
	Claim     int32     `parquet:"claim" json:"claim"`
	// PredictedAt is the time of the prediction the outcome labels, when
	// the sender named it (zero otherwise).
	PredictedAt time.Time `parquet:"predicted_at,timestamp(millisecond)" json:"predicted_at"`
}
