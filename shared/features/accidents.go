package features

import (
	"sort"
	"time"

	"github.com/claimrisk/claimrisk/shared/schema"
)

// Accident is what the accident table says about an area over twelve months.
type Accident struct {
	// CrashRate is crashes per 1,000 registered vehicles per year.
	CrashRate float64 `json:"crash_rate"`
	// InjuryShare is the share of crashes with an injury.
	InjuryShare float64 `json:"injury_share"`
}

// AccidentIndex answers trailing twelve-month accident figures per area.
type AccidentIndex struct {
	byArea map[int][]schema.AccidentMonth // sorted by month
	last   time.Time
}

// NewAccidentIndex indexes the accident table.
func NewAccidentIndex(rows []schema.AccidentMonth) *AccidentIndex {
	x := &AccidentIndex{byArea: map[int][]schema.AccidentMonth{}}
	for _, r := range rows {
		x.byArea[int(r.Area)] = append(x.byArea[int(r.Area)], r)
		if m := r.Month.Time(); m.After(x.last) {
			x.last = m
		}
	}
	for _, ms := range x.byArea {
		sort.Slice(ms, func(i, j int) bool { return ms[i].Month < ms[j].Month })
	}
	return x
}

// At sums the twelve calendar months before the month of t. ok is false when
// fewer than six of those months are in the table.
func (x *AccidentIndex) At(area int, t time.Time) (Accident, bool) {
	end := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return x.window(area, end.AddDate(-1, 0, 0), end)
}

// Latest is the trailing twelve months that end with the table's last month,
// per area: what a model can know when it is trained.
func (x *AccidentIndex) Latest() map[int]Accident {
	out := map[int]Accident{}
	end := x.last.AddDate(0, 1, 0)
	for area := range x.byArea {
		if a, ok := x.window(area, end.AddDate(-1, 0, 0), end); ok {
			out[area] = a
		}
	}
	return out
}

// LastMonth is the latest month in the table.
func (x *AccidentIndex) LastMonth() time.Time { return x.last }

func (x *AccidentIndex) window(area int, from, to time.Time) (Accident, bool) {
	ms := x.byArea[area]
	lo, hi := schema.DateOf(from), schema.DateOf(to)
	i := sort.Search(len(ms), func(i int) bool { return ms[i].Month >= lo })
	var crashes, injuries int64
	var exposure float64
	months := 0
	for ; i < len(ms) && ms[i].Month < hi; i++ {
		crashes += ms[i].Crashes
		injuries += ms[i].InjuryCrashes
		exposure += ms[i].Exposure
		months++
	}
	if months < 6 || exposure <= 0 {
		return Accident{}, false
	}
	a := Accident{CrashRate: float64(crashes) * 12 / exposure} // per 1,000 vehicles (exposure is in thousands) per year
	if crashes > 0 {
		a.InjuryShare = float64(injuries) / float64(crashes)
	}
	return a, true
}
