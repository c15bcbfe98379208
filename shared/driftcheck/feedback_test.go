package driftcheck

import (
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/parquetio"
)

// TestOldFeedbackObjectsStillRead: objects written before outcomes carried
// predicted_at decode with a zero time.
func TestOldFeedbackObjectsStillRead(t *testing.T) {
	type oldFeedback struct {
		Time      time.Time `parquet:"time,timestamp(millisecond)"`
		RequestID string    `parquet:"request_id"`
		PolicyID  string    `parquet:"policy_id"`
		Claim     int32     `parquet:"claim"`
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	data, err := parquetio.Encode([]oldFeedback{{Time: at, RequestID: "r", PolicyID: "p", Claim: 1}})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := decodeFeedback(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || !rows[0].Time.Equal(at) || rows[0].Claim != 1 || !rows[0].PredictedAt.IsZero() {
		t.Fatalf("decoded %+v", rows)
	}
}
