package driftcheck

import (
	"errors"
	"time"

	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/predlog"
)

// legacyFeedback is a feedback object written before outcomes carried the
// prediction's time.
type legacyFeedback struct {
	Time      time.Time `parquet:"time,timestamp(millisecond)"`
	RequestID string    `parquet:"request_id"`
	PolicyID  string    `parquet:"policy_id"`
	Claim     int32     `parquet:"claim"`
}

// decodeFeedback reads a feedback object of the payload log, also one written before outcomes
// carried predicted_at (which then is zero).
func decodeFeedback(data []byte) ([]predlog.Feedback, error) {
	rows, err := parquetio.Decode[predlog.Feedback](data)
	if err == nil || !errors.Is(err, parquetio.ErrMalformed) {
		return rows, err
	}
	old, oerr := parquetio.Decode[legacyFeedback](data)
	if oerr != nil {
		return nil, err
	}
	out := make([]predlog.Feedback, len(old))
	for i, r := range old {
		out[i] = predlog.Feedback{Time: r.Time, RequestID: r.RequestID, PolicyID: r.PolicyID, Claim: r.Claim}
	}
	return out, nil
}
