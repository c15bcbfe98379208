package driftcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

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

// ForEvent finds the report of the check the event eventID asked for,
// looking at the reports named since since (less the slack for clocks that
// differ); found is false while there is none yet.
func ForEvent(ctx context.Context, b *blobstore.Bucket, eventID string, since time.Time) (rep Report, found bool, err error) {
	ids, err := b.Dirs(ctx, Prefix)
	if err != nil {
		return Report{}, false, err
	}
	sort.Strings(ids)
	first := IDFor(since.Add(-futureSlack))
	for i := len(ids) - 1; i >= 0 && ids[i] >= first; i-- {
		var r Report
		err := b.ReadJSON(ctx, Key(ids[i], "report.json"), &r)
		if errors.Is(err, blobstore.ErrNotFound) {
			continue // being written
		}
		if err != nil {
			return Report{}, false, err
		}
		if r.EventID == eventID {
			return r, true, nil
		}
	}
	return Report{}, false, nil
}
