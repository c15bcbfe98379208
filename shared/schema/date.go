package schema

import (
	"encoding/json"
	"fmt"
	"time"
)

// Date is a calendar day, stored as days since 1970-01-01: the Parquet
// DATE type. (The Parquet library writes time.Time fields tagged as dates
// wrongly, so the tables use this type.)
type Date int32

// DateOf is the day of t in UTC.
func DateOf(t time.Time) Date {
	t = t.UTC()
	return Date(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// Time is midnight UTC of the day.
func (d Date) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String is the ISO form, 2006-01-02.
func (d Date) String() string { return d.Time().Format(time.DateOnly) }

// MarshalJSON writes the ISO form.
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads the ISO form.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date: want a string like 2006-01-02: %w", err)
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return fmt.Errorf("date: %q is not like 2006-01-02", s)
	}
	*d = DateOf(t)
	return nil
}
