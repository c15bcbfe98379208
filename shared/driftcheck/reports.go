package driftcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/claimrisk/claimrisk/shared/blobstore"
)

// ErrNotAReport marks an object that is not a drift report: not JSON, or
// JSON of another kind.
var ErrNotAReport = errors.New("driftcheck: not a drift report")

// ReadReport reads the report stored under key. A missing object is
// blobstore.ErrNotFound; an object that is not a report is ErrNotAReport.
func ReadReport(ctx context.Context, b *blobstore.Bucket, key string) (Report, error) {
	data, err := b.Read(ctx, key)
	if err != nil {
		return Report{}, fmt.Errorf("driftcheck: drift report %s: %w", key, err)
	}
	var rep Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return Report{}, fmt.Errorf("%w: %s: %v", ErrNotAReport, key, err)
	}
	if rep.Format != Format || rep.ID == "" {
		return Report{}, fmt.Errorf("%w: %s has format %q, want %q", ErrNotAReport, key, rep.Format, Format)
	}
	return rep, nil
}
