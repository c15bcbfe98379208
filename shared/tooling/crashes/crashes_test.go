package crashes

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/schema"
)

// Rows in the column format of the Socrata API (lower-case names, ISO
// timestamps) and of the portal's CSV export (upper-case, US timestamps).
const apiCSV = `crash_record_id,crash_date,injuries_total,beat_of_occurrence,latitude,longitude
a1,2024-01-05T08:30:00.000,0,1834,41.9,-87.6
a2,2024-01-20T17:00:00.000,2,1811,41.9,-87.6
a3,2024-02-02T09:15:00.000,,111,41.88,-87.63
a4,2024-02-03T10:00:00.000,1,,41.88,-87.63
a5,not a date,0,1834,41.9,-87.6
a6,2024-02-09T23:59:59.000,0,1310,41.9,-87.6
`

const exportCSV = "\ufeffCRASH_RECORD_ID,CRASH_DATE,POSTED_SPEED_LIMIT,INJURIES_TOTAL,BEAT_OF_OCCURRENCE\n" +
	"b1,01/31/2024 11:59:00 PM,30,1,1834\n" +
	"b2,02/01/2024 12:00:00 AM,30,0,2533\n"

func TestReadAggregatesBothFormats(t *testing.T) {
	t.Parallel()
	var agg Aggregate
	if err := Read(strings.NewReader(apiCSV), &agg, nil); err != nil {
		t.Fatal(err)
	}
	if err := Read(strings.NewReader(exportCSV), &agg, nil); err != nil {
		t.Fatal(err)
	}
	jan := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	feb := jan.AddDate(0, 1, 0)
	tests := []struct {
		area            int
		month           time.Time
		crashes, injury int64
	}{
		{18, jan, 3, 2}, // a1, a2 (2 injuries), b1
		{1, feb, 1, 0},  // a3: beat 111 is district 1; a missing injury count is none
		{25, feb, 1, 0}, // b2
	}
	for _, tt := range tests {
		c := agg.Counts[tt.area][tt.month]
		if c == nil || c.Crashes != tt.crashes || c.Injury != tt.injury {
			t.Errorf("district %d %s = %+v, want %d crashes, %d with injuries", tt.area, tt.month.Format("2006-01"), c, tt.crashes, tt.injury)
		}
	}
	// a4 has no beat, a5 no date, a6's beat 1310 is district 13, which was merged away.
	if agg.Rows != 8 || agg.Skipped != 3 {
		t.Errorf("rows %d, skipped %d; want 8 and 3", agg.Rows, agg.Skipped)
	}

	exposure := map[int]float64{}
	for _, a := range schema.Areas {
		exposure[a] = 40
	}
	rows, err := agg.Table(jan, feb, exposure)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2*len(schema.Areas) {
		t.Fatalf("Table has %d rows, want every district for both months (%d)", len(rows), 2*len(schema.Areas))
	}
	for _, r := range rows {
		if r.Area == 2 && r.Crashes != 0 {
			t.Errorf("district 2 had no crashes, its row says %d", r.Crashes)
		}
	}
	delete(exposure, 7)
	if _, err := agg.Table(jan, feb, exposure); err == nil {
		t.Error("Table without exposure for district 7 succeeded")
	}
}

func TestReadRejectsOtherFormats(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"empty":          "",
		"missing column": "crash_record_id,crash_date,injuries_total\nx,2024-01-01T00:00:00.000,0\n",
		"ragged row":     "crash_record_id,crash_date,injuries_total,beat_of_occurrence\nx,2024-01-01T00:00:00.000\n",
	} {
		t.Run(name, func(t *testing.T) {
			var agg Aggregate
			if err := Read(strings.NewReader(in), &agg, nil); !errors.Is(err, ErrFormat) {
				t.Errorf("Read = %v, want ErrFormat", err)
			}
		})
	}
}

func FuzzRead(f *testing.F) {
	f.Add(apiCSV)
	f.Add(exportCSV)
	f.Fuzz(func(t *testing.T, in string) {
		var agg Aggregate
		_ = Read(strings.NewReader(in), &agg, nil) // must never panic
	})
}
