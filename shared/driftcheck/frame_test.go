package driftcheck

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/drift"
	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/predlog"
)

// seededRows are n logged predictions with the odd missing value and, from
// shift on, other values: enough variety for every branch of the tests.
func seededRows(seed uint64, n int, shift float64) []predlog.Row {
	rng := rand.New(rand.NewPCG(seed, 1))
	types := []string{"sedan", "suv", "pickup", "van", ""}
	rows := make([]predlog.Row, n)
	for i := range rows {
		r := &rows[i]
		r.Time = time.Date(2026, 3, 1, 0, 0, i, 0, time.UTC)
		r.RequestID, r.CustomerID = fmt.Sprintf("r%d", i/3), fmt.Sprintf("C%d", rng.IntN(n/2+1))
		r.PolicyID = fmt.Sprintf("P%d", rng.IntN(n/2+1))
		r.Age = 18 + rng.Float64()*60 + shift*10
		if rng.IntN(50) == 0 {
			r.Age = math.NaN()
		}
		r.YearsLicensed = math.Max(0, r.Age-18-rng.Float64()*5)
		r.HomeArea = 1 + rng.IntN(20+int(shift*10))
		r.VehicleType = types[rng.IntN(len(types)-1+int(shift))]
		r.VehicleAge = rng.IntN(15)
		r.Usage = []string{"commute", "leisure", "business"}[rng.IntN(3)]
		r.AnnualMileage = 2000 + rng.Float64()*20000*(1+shift)
		r.Coverage = []string{"basic", "standard", "full"}[rng.IntN(3)]
		r.Deductible = []int{250, 500, 1000}[rng.IntN(3)]
		r.Probability = rng.Float64() * (0.4 + shift/10)
	}
	return rows
}

// TestFrameTestsWhatTheRowsHold holds the columnar check to the row by row
// one it replaced: the same drift results and data quality for every
// column, and the same prediction drift.
func TestFrameTestsWhatTheRowsHold(t *testing.T) {
	ref, cur := seededRows(1, 3000, 0), seededRows(2, 5000, 1)
	var got Report
	if err := got.compare(frameOf(ref), frameOf(cur)); err != nil {
		t.Fatal(err)
	}
	numbers := func(rows []predlog.Row, c ColumnSpec) []float64 {
		out := make([]float64, len(rows))
		for i, r := range rows {
			out[i] = c.Number(&r)
		}
		return out
	}
	categories := func(rows []predlog.Row, c ColumnSpec) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			out[i] = c.Category(&r)
		}
		return out
	}
	for i, c := range FeatureColumns {
		var want drift.Result
		var err error
		var missing, outside int
		if c.Categorical {
			want, err = drift.CategoricalColumn(categories(ref, c), categories(cur, c))
			seen := map[string]bool{}
			for _, v := range categories(ref, c) {
				seen[v] = true
			}
			for _, v := range categories(cur, c) {
				if v == "" {
					missing++
				} else if !seen[v] {
					outside++
				}
			}
		} else {
			want, err = drift.NumericColumn(numbers(ref, c), numbers(cur, c))
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, v := range numbers(ref, c) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
			for _, v := range numbers(cur, c) {
				if math.IsNaN(v) {
					missing++
				} else if v < lo || v > hi {
					outside++
				}
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		col := got.Columns[i]
		if col.Column != c.Name || col.Test != string(want.Test) || col.Score != want.Score || col.Drifted != want.Drifted {
			t.Errorf("%s: %+v, want %+v", c.Name, col, want)
		}
		q := DataQuality{Column: c.Name, Missing: float64(missing) / float64(len(cur)), OutOfRange: float64(outside) / float64(len(cur))}
		if got.DataQuality[i] != q {
			t.Errorf("%s: quality %+v, want %+v", c.Name, got.DataQuality[i], q)
		}
	}
	if n := len(got.DriftedColumns); n == 0 || n == len(FeatureColumns) {
		t.Errorf("%d of %d columns drifted; the rows are made to shift some and not others", n, len(FeatureColumns))
	}
	want, err := drift.NumericColumn(numbers(ref, PredictionColumn), numbers(cur, PredictionColumn))
	if err != nil {
		t.Fatal(err)
	}
	if p := got.PredictionDrift; p.Score != want.Score || p.Drifted != want.Drifted {
		t.Errorf("prediction drift %+v, want %+v", p, want)
	}
}

// TestJoinNeedsOnlyTheNamedRows is what lets a check keep whole rows only
// of the predictions an outcome names: joining those gives what joining
// every prediction gives.
func TestJoinNeedsOnlyTheNamedRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 20 {
		preds := seededRows(uint64(round), 400, 0)
		var fb []predlog.Feedback
		for range 60 {
			p := preds[rng.IntN(len(preds))]
			f := predlog.Feedback{Time: p.Time.Add(time.Duration(rng.IntN(600)-100) * time.Second), Claim: int32(rng.IntN(2))}
			switch rng.IntN(5) {
			case 0:
				f.RequestID, f.PolicyID = p.RequestID, p.PolicyID
			case 1:
				f.RequestID = p.RequestID
			case 2:
				f.PolicyID, f.PredictedAt = p.PolicyID, p.Time
			case 3:
				f.PolicyID = p.PolicyID
			default:
				f.PolicyID = "P" + strconv.Itoa(100000+rng.IntN(10)) // names nothing
			}
			fb = append(fb, f)
		}
		j := newJoiner(fb)
		var named []predlog.Row
		for i := range preds {
			if j.names(&preds[i]) {
				named = append(named, preds[i])
			}
		}
		all, some := Join(preds, fb), j.join(named)
		if len(all) == 0 || len(named) >= len(preds) {
			t.Fatalf("round %d: %d labelled of %d named of %d: the outcomes should name some predictions, not all", round, len(all), len(named), len(preds))
		}
		// Printed, as a NaN age is not equal to itself.
		if fmt.Sprintf("%+v", all) != fmt.Sprintf("%+v", some) {
			t.Fatalf("round %d: joining the %d named predictions labels %d rows, joining all %d labels %d, or differently", round, len(named), len(some), len(preds), len(all))
		}
	}
}

// TestReadWindowFillsTheFrameAsTheRowsWould reads a logged window as the
// check does: with no outcomes only frameColumns are read, and the frame
// must hold what the whole rows would give it, protected groups included;
// with outcomes, the rows they name come back whole.
func TestReadWindowFillsTheFrameAsTheRowsWould(t *testing.T) {
	ctx := context.Background()
	b, err := blobstore.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	rows := seededRows(5, 3000, 0.5)
	groupOf := map[string]string{}
	for i := range rows {
		r := &rows[i]
		r.ModelVersion = int32(1 + i%4/3) // a quarter from version 2
		r.CrashRate, r.InjuryShare, r.Band = float64(i), 0.5, "high"
		if i%7 != 0 { // the rest have no known group
			groupOf[r.CustomerID] = []string{"F", "M"}[i%2]
		}
	}
	for obj := 0; obj*1000 < len(rows); obj++ {
		data, err := parquetio.Encode(rows[obj*1000 : (obj+1)*1000])
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Write(ctx, fmt.Sprintf("%s2026/03/01/%02d.parquet", predlog.PredictionsPrefix, obj), data, ""); err != nil {
			t.Fatal(err)
		}
	}
	from, to := rows[100].Time, rows[2900].Time
	want := newFrame(0, groupOf)
	for i := range rows {
		if r := &rows[i]; r.ModelVersion == 1 && !r.Time.Before(from) && r.Time.Before(to) {
			want.add(r)
		}
	}
	c := &Checker{Bucket: b}
	got := newFrame(0, groupOf)
	named, err := c.readWindow(ctx, from, to, 1, newJoiner(nil), got)
	if err != nil {
		t.Fatal(err)
	}
	if len(named) != 0 {
		t.Errorf("no outcomes, yet %d rows came back named", len(named))
	}
	// Printed, as a NaN age is not equal to itself.
	if fmt.Sprintf("%+v", *got) != fmt.Sprintf("%+v", *want) {
		t.Fatalf("the frame read from the log differs from the rows' frame:\n%+v\nwant\n%+v", got.groups, want.groups)
	}

	r := rows[1200]
	named, err = c.readWindow(ctx, from, to, 1, newJoiner([]predlog.Feedback{{RequestID: r.RequestID, PolicyID: r.PolicyID, Claim: 1}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(named) != 1 || fmt.Sprintf("%+v", named[0]) != fmt.Sprintf("%+v", r) {
		t.Fatalf("the outcome's row came back as %+v; want it whole: %+v", named, r)
	}
}
