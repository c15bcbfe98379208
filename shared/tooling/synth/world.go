package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/claimrisk/claimrisk/shared/schema"
)

// ReferenceRate is the crash rate (crashes per 1,000 registered vehicles per
// year) at which the area effect is zero.
const ReferenceRate = 70.0

// area is one district of the hidden world.
type area struct {
	code        int
	exposure    float64 // thousand registered vehicles
	baseRate    float64 // crashes per 1,000 vehicles per year in 2020
	trend       float64 // yearly log change of the rate
	injuryShare float64
}

// World is the hidden state the data comes from.
type World struct {
	seed  uint64
	areas []area
	index map[int]int
	// observed holds monthly crash rates when the world is built from a
	// real accident table; nil for the synthetic world.
	observed    map[int]map[time.Time]float64
	first, last time.Time
	table       []schema.AccidentMonth
}

// NewWorld builds the world of a seed.
func NewWorld(seed uint64) *World {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	w := &World{seed: seed, index: map[int]int{}}
	for i, code := range schema.Areas {
		w.areas = append(w.areas, area{
			code:        code,
			exposure:    math.Round((35+r.Float64()*60)*10) / 10,
			baseRate:    ReferenceRate * math.Exp(0.42*r.NormFloat64()),
			trend:       0.07 * r.NormFloat64(),
			injuryShare: 0.11 + 0.09*r.Float64(),
		})
		w.index[code] = i
	}
	return w
}

// NewWorldFromAccidents builds a world whose crash rates are those of an
// accident table, such as the City of Chicago's (see `claimrisk data
// fetch-crashes`): the claims then follow the real rates. The table must
// hold every district.
func NewWorldFromAccidents(seed uint64, rows []schema.AccidentMonth) (*World, error) {
	w := NewWorld(seed)
	w.observed = map[int]map[time.Time]float64{}
	w.table = rows
	exposure := map[int]float64{}
	rateSum, months := map[int]float64{}, map[int]int{}
	for i, r := range rows {
		area := int(r.Area)
		if r.Exposure <= 0 {
			return nil, fmt.Errorf("synth: accident row %d: exposure must be above 0", i+1)
		}
		rate := float64(r.Crashes) * 12 / r.Exposure
		if w.observed[area] == nil {
			w.observed[area] = map[time.Time]float64{}
		}
		month := r.Month.Time()
		w.observed[area][month] = rate
		exposure[area] = r.Exposure
		rateSum[area] += rate
		months[area]++
		if i == 0 || month.Before(w.first) {
			w.first = month
		}
		if i == 0 || month.After(w.last) {
			w.last = month
		}
	}
	for i, a := range w.areas {
		if months[a.code] == 0 {
			return nil, fmt.Errorf("synth: the accident table has no rows for district %d", a.code)
		}
		w.areas[i].exposure = exposure[a.code]
		w.areas[i].baseRate = rateSum[a.code] / float64(months[a.code])
	}
	return w, nil
}

var epoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// TrueRate is an area's expected crash rate in the month containing t,
// in crashes per 1,000 vehicles per year, seasonality included.
func (w *World) TrueRate(code int, t time.Time) float64 {
	if w.observed != nil {
		m := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		if m.Before(w.first) {
			m = w.first
		}
		if m.After(w.last) {
			m = w.last
		}
		return w.observed[code][m]
	}
	a := w.areas[w.index[code]]
	years := t.Sub(epoch).Hours() / (24 * 365.2425)
	season := 1 + 0.12*math.Cos(2*math.Pi*float64(t.Month()-1)/12) // more crashes in winter
	return a.baseRate * math.Exp(a.trend*years) * season
}

// AnnualRate is the area's crash rate averaged over the twelve months
// before t: what the accident table shows at a policy's start.
func (w *World) AnnualRate(code int, t time.Time) float64 {
	month := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	sum := 0.0
	for i := 1; i <= 12; i++ {
		sum += w.TrueRate(code, month.AddDate(0, -i, 0))
	}
	return sum / 12
}

// Accidents draws the monthly accident table from first to last month
// inclusive.
func (w *World) Accidents(first, last time.Time) []schema.AccidentMonth {
	if w.table != nil {
		return w.table
	}
	r := rand.New(rand.NewPCG(w.seed, 0xacc1d))
	var out []schema.AccidentMonth
	for m := first; !m.After(last); m = m.AddDate(0, 1, 0) {
		for _, a := range w.areas {
			growth := math.Exp(0.01 * m.Sub(epoch).Hours() / (24 * 365.2425))
			exposure := math.Round(a.exposure*growth*10) / 10
			mean := w.TrueRate(a.code, m) / 12 * exposure
			crashes := poisson(r, mean)
			out = append(out, schema.AccidentMonth{
				Area:          int32(a.code),
				Month:         schema.DateOf(m),
				Crashes:       crashes,
				InjuryCrashes: binomial(r, crashes, a.injuryShare),
				Exposure:      exposure,
			})
		}
	}
	return out
}

// Shift is a change to the world, used by the drift scenarios. The zero
// value changes nothing.
type Shift struct {
	// AgeYears is added to every new customer's age.
	AgeYears float64
	// AreaTilt tilts where customers live towards high-crash areas: an
	// area's weight is multiplied by (rate / ReferenceRate)^AreaTilt.
	AreaTilt float64
	// CrashFactor multiplies the true crash rate behind claims (1 = none).
	// The accident table the model saw does not show it: concept drift.
	CrashFactor float64
	// MileageFactor multiplies the annual mileage an upstream system
	// reports (1.609344 when it sends kilometres); the true mileage, and so
	// the claims, do not change.
	MileageFactor float64
	// FemaleSportsShare, when above zero, makes women choose sports cars with
	// this probability: a change of mix that a fair model prices but that
	// moves the groups' mean predictions apart.
	FemaleSportsShare float64
	// Broker turns the traffic into a broker's book: commuters of the
	// busiest district with standard cover, each declaring 11,000 to 13,000
	// miles a year. Claims follow the true model for these inputs: a pure
	// covariate shift, which makes the risks alike and the ranking harder.
	Broker bool
}

func (s Shift) crashFactor() float64 {
	if s.CrashFactor == 0 {
		return 1
	}
	return s.CrashFactor
}

// Truth holds the hidden coefficients of the claim model on the logit scale.
var Truth = struct {
	Intercept, Young, Novice, Senior, LogMileage, VehicleAge, LogDeductible, LogCrashRate float64
	Vehicle, Usage, Coverage                                                              map[string]float64
}{
	Intercept:     -2.8,
	Young:         1.0,  // times exp(-(age-18)/6)
	Novice:        0.45, // times exp(-years_licensed/2.5)
	Senior:        0.035,
	LogMileage:    0.5,
	VehicleAge:    0.015,
	LogDeductible: -0.22,
	LogCrashRate:  1.0,
	Vehicle:       map[string]float64{"sedan": 0, "suv": 0.08, "pickup": 0.15, "van": -0.05, "sports": 0.45},
	Usage:         map[string]float64{"pleasure": -0.1, "commute": 0.15, "business": 0.35},
	Coverage:      map[string]float64{"liability": -0.25, "standard": 0, "comprehensive": 0.2},
}

// TrueProbability is the hidden probability that a policy with true record
// r starting at start has at least one claim in its year.
func (w *World) TrueProbability(r schema.PolicyRecord, start time.Time, s Shift) float64 {
	t := Truth
	z := t.Intercept +
		t.Young*math.Exp(-(r.Age-18)/6) +
		t.Novice*math.Exp(-r.YearsLicensed/2.5) +
		t.Senior*math.Max(0, r.Age-70) +
		t.LogMileage*math.Log(math.Max(r.AnnualMileage, 500)/10000) +
		t.VehicleAge*float64(r.VehicleAge) +
		t.LogDeductible*math.Log(float64(r.Deductible)/500) +
		t.Vehicle[r.VehicleType] + t.Usage[r.Usage] + t.Coverage[r.Coverage] +
		t.LogCrashRate*math.Log(w.TrueRate(r.HomeArea, start)*s.crashFactor()/ReferenceRate)
	return 1 / (1 + math.Exp(-z))
}

func poisson(r *rand.Rand, mean float64) int64 {
	if mean <= 0 {
		return 0
	}
	if mean > 50 { // normal approximation, rounded
		return max(0, int64(math.Round(mean+math.Sqrt(mean)*r.NormFloat64())))
	}
	l, k, p := math.Exp(-mean), int64(0), 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func binomial(r *rand.Rand, n int64, p float64) int64 {
	if n > 50 {
		mean, sd := float64(n)*p, math.Sqrt(float64(n)*p*(1-p))
		return min(n, max(0, int64(math.Round(mean+sd*r.NormFloat64()))))
	}
	var k int64
	for range n {
		if r.Float64() < p {
			k++
		}
	}
	return k
}

// Exposure is a district's registered vehicles in thousands in 2020.
func (w *World) Exposure(code int) float64 { return w.areas[w.index[code]].exposure }
