package predlog

import (
	"errors"
	"time"

	"github.com/claimrisk/claimrisk/shared/parquetio"
)

// legacyFeedback is a feedback object written before outcomes carried the
// prediction's time.
type legacyFeedback struct {
	Time      time.Time `parquet:"time,timestamp(millisecond)"`
	RequestID string    `parquet:"request_id"`
	PolicyID  string    `parquet:"policy_id"`
	Claim     int32     `parquet:"claim"`
}

// DecodeFeedback reads a feedback object, also one written before outcomes
// carried predicted_at (which then is zero).
func DecodeFeedback(data []byte) ([]Feedback, error) {
	rows, err := parquetio.Decode[Feedback](data)
	if err == nil || !errors.Is(err, parquetio.ErrMalformed) {
		return rows, err
	}
	old, oerr := parquetio.Decode[legacyFeedback](data)
	if oerr != nil {
		return nil, err
	}
	out := make([]Feedback, len(old))
	for i, r := range old {
		out[i] = Feedback{Time: r.Time, RequestID: r.RequestID, PolicyID: r.PolicyID, Claim: r.Claim}
	}
	return out, nil
}
