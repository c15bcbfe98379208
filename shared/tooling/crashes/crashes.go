package crashes

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/claimrisk/claimrisk/shared/schema"
)

// DatasetID is the Socrata id of Traffic Crashes - Crashes.
const DatasetID = "85ca-t3if"

// Columns the loader needs.
var required = []string{"crash_record_id", "crash_date", "injuries_total", "beat_of_occurrence"}

// ErrFormat marks a file that is not in the dataset's column format.
var ErrFormat = errors.New("crashes: unexpected format")

// Counts are one area-month's totals.
type Counts struct {
	Crashes, Injury int64
}

// Aggregate is the crash counts by area and month, with what was skipped.
type Aggregate struct {
	Counts map[int]map[time.Time]*Counts
	Rows   int
	// Skipped counts rows without a usable district or date.
	Skipped int
}

// Read aggregates a crash CSV. progress, when set, is called every 50,000
// rows with the number read so far.
func Read(r io.Reader, agg *Aggregate, progress func(rows int)) error {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return fmt.Errorf("%w: the file is empty", ErrFormat)
	}
	if err != nil {
		return fmt.Errorf("%w: header: %v", ErrFormat, err)
	}
	idx := map[string]int{}
	for i, h := range header {
		idx[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, c := range required {
		if _, ok := idx[c]; !ok {
			return fmt.Errorf("%w: column %s is missing (found %s)", ErrFormat, c, strings.Join(header, ", "))
		}
	}
	if agg.Counts == nil {
		agg.Counts = map[int]map[time.Time]*Counts{}
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: line %d: %v", ErrFormat, line, err)
		}
		agg.Rows++
		if progress != nil && agg.Rows%50000 == 0 {
			progress(agg.Rows)
		}
		t, err := parseDate(rec[idx["crash_date"]])
		if err != nil {
			agg.Skipped++
			continue
		}
		beat, err := strconv.Atoi(strings.TrimSpace(rec[idx["beat_of_occurrence"]]))
		if err != nil || !schema.IsArea(beat/100) {
			agg.Skipped++
			continue
		}
		injuries, _ := strconv.ParseFloat(strings.TrimSpace(rec[idx["injuries_total"]]), 64)
		area, month := beat/100, time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		if agg.Counts[area] == nil {
			agg.Counts[area] = map[time.Time]*Counts{}
		}
		c := agg.Counts[area][month]
		if c == nil {
			c = &Counts{}
			agg.Counts[area][month] = c
		}
		c.Crashes++
		if injuries > 0 {
			c.Injury++
		}
	}
}

var layouts = []string{"2006-01-02T15:04:05.000", "2006-01-02T15:04:05", "01/02/2006 03:04:05 PM", "2006-01-02 15:04:05", time.RFC3339}

func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("crashes: unknown date format %q", s)
}

// Table turns the counts into accident rows for every district and every
// month from first to last inclusive (months without crashes count zero).
// exposure gives each district's registered vehicles in thousands.
func (a *Aggregate) Table(first, last time.Time, exposure map[int]float64) ([]schema.AccidentMonth, error) {
	var out []schema.AccidentMonth
	for _, area := range schema.Areas {
		e, ok := exposure[area]
		if !ok || e <= 0 {
			return nil, fmt.Errorf("crashes: no exposure for district %d", area)
		}
		for m := first; !m.After(last); m = m.AddDate(0, 1, 0) {
			row := schema.AccidentMonth{Area: int32(area), Month: schema.DateOf(m), Exposure: e}
			if c := a.Counts[area][m]; c != nil {
				row.Crashes, row.InjuryCrashes = c.Crashes, c.Injury
			}
			out = append(out, row)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Month != out[j].Month {
			return out[i].Month < out[j].Month
		}
		return out[i].Area < out[j].Area
	})
	return out, nil
}

// Span is the first and last month with any crash.
func (a *Aggregate) Span() (first, last time.Time, ok bool) {
	for _, ms := range a.Counts {
		for m := range ms {
			if !ok || m.Before(first) {
				first = m
			}
			if !ok || m.After(last) {
				last = m
			}
			ok = true
		}
	}
	return first, last, ok
}

// API is the Socrata endpoint of the dataset.
const API = "https://data.cityofchicago.org/resource/" + DatasetID + ".csv"

// Fetch downloads the crashes between from and to (inclusive) page by page
// and aggregates them. progress receives the rows read so far.
func Fetch(ctx context.Context, client *http.Client, base string, from, to time.Time, agg *Aggregate, progress func(rows int)) error {
	const page = 50000
	for offset := 0; ; offset += page {
		q := url.Values{
			"$select": {strings.Join(append(required, "latitude", "longitude"), ",")},
			"$where":  {fmt.Sprintf("crash_date >= '%s' AND crash_date < '%s'", from.Format("2006-01-02T15:04:05"), to.AddDate(0, 0, 1).Format("2006-01-02T15:04:05"))},
			"$order":  {"crash_record_id"},
			"$limit":  {strconv.Itoa(page)},
			"$offset": {strconv.Itoa(offset)},
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"?"+q.Encode(), nil)
		if err != nil {
			return fmt.Errorf("crashes: fetch: %w", err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("crashes: fetch %s: %w", base, err)
		}
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
			resp.Body.Close()
			return fmt.Errorf("crashes: fetch %s: %s: %s", base, resp.Status, strings.TrimSpace(string(body)))
		}
		before := agg.Rows
		err = Read(resp.Body, agg, nil)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if progress != nil {
			progress(agg.Rows)
		}
		if agg.Rows-before < page {
			return nil
		}
	}
}
