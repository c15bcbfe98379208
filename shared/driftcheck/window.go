package driftcheck

import (
	"context"
	"slices"
	"time"
)

// How checks share out the payload log. Each check reads the predictions
// whose own timestamps fall in its window, [from, to): from is where the
// last check with a verdict ended (or to minus the longest window), to is
// the time the check runs on this clock. Consecutive windows meet without
// a gap or an overlap, so every logged prediction lands in exactly one of
// them. A prediction is written to the bucket up to the predict function's
// flush interval after its timestamp, so a check waits that long (the
// watermark, Checker.LogWait) after to before it reads the window.

// Trigger names the event that asked for a check; its report records it.
type Trigger struct {
	EventID   string
	EventTime time.Time
}

// futureSlack is how far ahead of this clock a report may be named. Before
// reports were named by the clock of the check, a cron event dated far in
// the future could name one in the year 9999; such reports are ignored, so
// that they neither pose as the latest nor end the next window.
const futureSlack = 5 * time.Minute

// idTime is the time in a report id, and whether it is one.
func idTime(id string) (time.Time, bool) {
	t, err := time.Parse("20060102T150405.000Z", id)
	return t, err == nil
}

// inFuture reports whether a report id is named after now plus the slack.
func inFuture(id string, now time.Time) bool {
	t, ok := idTime(id)
	return ok && t.After(now.Add(futureSlack))
}

// newID names the report of a check whose window ends at end: IDFor(end),
// moved on by a millisecond while a report of that name exists, so that a
// second check in the same millisecond never overwrites the first.
func (c *Checker) newID(ctx context.Context, end time.Time) (string, error) {
	ids, err := c.Bucket.Dirs(ctx, Prefix)
	if err != nil {
		return "", err
	}
	id := IDFor(end)
	for slices.Contains(ids, id) {
		end = end.Add(time.Millisecond)
		id = IDFor(end)
	}
	return id, nil
}

// windowStart is where the window of report id, ending at end, begins.
func (c *Checker) windowStart(ctx context.Context, id string, end time.Time, longest time.Duration) (time.Time, error) {
	from := end.Add(-longest)
	prev, err := c.previous(ctx, id, end)
	if err != nil {
		return time.Time{}, err
	}
	if prev != nil && prev.WindowTo.After(from) {
		from = prev.WindowTo
	}
	return from, nil
}

// waitForLog blocks until the payload log holds every prediction logged
// before end: LogWait after it.
func (c *Checker) waitForLog(ctx context.Context, end time.Time) error {
	d := time.Until(end.Add(c.LogWait))
	if c.LogWait <= 0 || d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
