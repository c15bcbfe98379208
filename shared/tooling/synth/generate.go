package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/legacy"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// Config sizes a generated dataset.
type Config struct {
	// Seed draws the world (districts, crash rates) and, unless
	// PortfolioSeed is set, the customers and their policies.
	Seed uint64
	// PortfolioSeed, when not zero, draws another portfolio from the same
	// world: fresh data from the same distribution.
	PortfolioSeed uint64
	Policies      int // total policies over all years (approximate)
	FirstYear     int // first policy year
	LastYear      int // last policy year; the latest is the out-of-time year
	// Shift changes the world; the zero value is the training world.
	Shift Shift
	// Accidents, when set, is a real accident table (every district, each
	// month from January of the year before FirstYear to December of
	// LastYear): the world's crash rates, and the dataset's accident table.
	Accidents []schema.AccidentMonth
	// Progress, when set, is called now and then with policies done and total.
	Progress func(done, total int)
}

// DefaultConfig is the demo's dataset: 40,000 policies over 2021 to 2024.
func DefaultConfig() Config {
	return Config{Seed: 42, Policies: 40000, FirstYear: 2021, LastYear: 2024}
}

// Validate reports a configuration that cannot generate data.
func (c Config) Validate() error {
	switch {
	case c.Policies < 100:
		return fmt.Errorf("synth: policies must be at least 100, got %d", c.Policies)
	case c.Policies > 50_000_000:
		return fmt.Errorf("synth: policies must be at most 50,000,000, got %d", c.Policies)
	case c.FirstYear < 2000 || c.LastYear > 2090:
		return fmt.Errorf("synth: policy years must lie between 2000 and 2090, got %d to %d", c.FirstYear, c.LastYear)
	case c.LastYear <= c.FirstYear:
		return fmt.Errorf("synth: need at least two policy years to validate out of time, got %d to %d", c.FirstYear, c.LastYear)
	}
	return nil
}

// holder is a customer with the vehicle and cover they currently hold.
type holder struct {
	customer schema.Customer
	policy   schema.Policy // the latest policy, a template for renewal
	anniv    time.Time     // first start date
}

// Generate draws a dataset from the world of cfg.Seed.
func Generate(cfg Config) (*dataset.Dataset, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	first, last := time.Date(cfg.FirstYear-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(cfg.LastYear, 12, 1, 0, 0, 0, 0, time.UTC)
	w := NewWorld(cfg.Seed)
	if cfg.Accidents != nil {
		var err error
		if w, err = NewWorldFromAccidents(cfg.Seed, cfg.Accidents); err != nil {
			return nil, err
		}
		if w.first.After(first) || w.last.Before(last.AddDate(0, -1, 0)) {
			return nil, fmt.Errorf("synth: the accident table covers %s to %s; policy years %d to %d need %s to %s",
				w.first.Format("2006-01"), w.last.Format("2006-01"), cfg.FirstYear, cfg.LastYear, first.Format("2006-01"), last.AddDate(0, -1, 0).Format("2006-01"))
		}
	}
	portfolio := cfg.Seed
	if cfg.PortfolioSeed != 0 {
		portfolio = cfg.PortfolioSeed
	}
	g := &generator{w: w, r: rand.New(rand.NewPCG(portfolio, 1)), shift: cfg.Shift}
	years := cfg.LastYear - cfg.FirstYear + 1
	perYear := cfg.Policies / years
	d := &dataset.Dataset{Accidents: w.Accidents(first, last)}
	var active []*holder
	done := 0
	for year := cfg.FirstYear; year <= cfg.LastYear; year++ {
		var next []*holder
		for _, h := range active {
			if g.r.Float64() < lapseRate {
				continue
			}
			next = append(next, h)
		}
		for len(next) < perYear {
			start := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g.r.IntN(365))
			var h *holder
			if year == cfg.FirstYear {
				h = g.establishedHolder(start)
			} else {
				h = g.newHolder(start)
			}
			d.Customers = append(d.Customers, h.customer)
			next = append(next, h)
		}
		for _, h := range next {
			start := time.Date(year, h.anniv.Month(), h.anniv.Day(), 0, 0, 0, 0, time.UTC)
			p := g.policyFor(h, start)
			d.Policies = append(d.Policies, p)
			rec := schema.RecordFor(h.customer, p)
			d.Claims = append(d.Claims, g.claims(p, w.TrueProbability(rec, start, cfg.Shift))...)
			done++
			if cfg.Progress != nil && done%50000 == 0 {
				cfg.Progress(done, perYear*years)
			}
		}
		active = next
	}
	if cfg.Progress != nil {
		cfg.Progress(done, done)
	}
	return d, nil
}

type generator struct {
	w        *World
	r        *rand.Rand
	shift    Shift
	customer int
	policy   int
	claim    int
}

// index draws an index with probability proportional to its weight.
func (g *generator) index(weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	u := g.r.Float64() * total
	for i, w := range weights {
		if u < w {
			return i
		}
		u -= w
	}
	return len(weights) - 1
}

func (g *generator) pick(values []string, weights []float64) string {
	return values[g.index(weights)]
}

func (g *generator) area() int {
	weights := make([]float64, len(g.w.areas))
	for i, a := range g.w.areas {
		weights[i] = a.exposure * math.Pow(a.baseRate/ReferenceRate, g.shift.AreaTilt)
	}
	return g.w.areas[g.index(weights)].code
}

func (g *generator) newHolder(start time.Time) *holder {
	age := 0.0
	for age < 18 || age > 88 {
		age = 37 + 16*g.r.NormFloat64()
	}
	age += g.shift.AgeYears
	licenceAge := math.Min(16+g.r.ExpFloat64()*2.5, age-0.05)
	birth := start.AddDate(0, 0, -int(age*365.2425))
	licence := birth.AddDate(0, 0, int(licenceAge*365.2425))
	if schema.YearsBetween(birth, licence) < 16 {
		licence = birth.AddDate(16, 0, 1)
	}
	g.customer++
	c := schema.Customer{
		CustomerID:    fmt.Sprintf("C%07d", g.customer),
		BirthDate:     schema.DateOf(birth),
		LicenceDate:   schema.DateOf(licence),
		HomeArea:      int32(g.area()),
		Sex:           g.pick(schema.Sexes, []float64{0.5, 0.5}),
		CustomerSince: schema.DateOf(start),
	}
	h := &holder{customer: c, anniv: start}
	h.policy = g.newCover(c, age)
	return h
}

// lapseRate is the share of holders who do not renew each year.
const lapseRate = 0.12

// establishedHolder is a holder of the portfolio the first policy year
// starts with: a customer since a number of years drawn from the stationary
// tenure of the lapse rate (P(k years) = lapse * (1-lapse)^k), with the
// age, vehicle and cover those years of renewals gave them. The first year
// then looks like every later one (the same mix of tenures, ages and vehicle
// ages), so the world does not drift from year to year by itself: traffic
// of any year is unchanged against training data of earlier years.
func (g *generator) establishedHolder(start time.Time) *holder {
	var h *holder
	var k int
	var entry time.Time
	for {
		k = 0
		for k < 60 && g.r.Float64() >= lapseRate {
			k++
		}
		entry = start.AddDate(-k, 0, 0)
		h = g.newHolder(entry)
		// Drivers are 18 to 88 when they first insure; customers past 88 have left.
		if schema.YearsBetween(h.customer.BirthDate.Time(), start) <= 88 {
			break
		}
		g.customer--
	}
	for i := 1; i <= k; i++ {
		h.policy = g.renewCover(h, entry.AddDate(i, 0, 0), h.policy)
	}
	return h
}

// renewCover is a holder's vehicle and cover at a renewal: a new vehicle
// one time in ten, else the same one a year older with a little change in
// mileage.
func (g *generator) renewCover(h *holder, start time.Time, p schema.Policy) schema.Policy {
	age := schema.YearsBetween(h.customer.BirthDate.Time(), start)
	if g.r.Float64() < 0.1 {
		return g.newCover(h.customer, age)
	}
	p.VehicleAge = min(40, p.VehicleAge+1)
	p.AnnualMileage = math.Round(min(60000, max(1000, p.AnnualMileage*math.Exp(0.1*g.r.NormFloat64())))/100) * 100
	return p
}

// newCover chooses a vehicle and cover for a customer aged age.
func (g *generator) newCover(c schema.Customer, age float64) schema.Policy {
	vehicleWeights := []float64{0.42, 0.30, 0.12, 0.08, 0.08}
	if age < 30 {
		vehicleWeights[4] *= 2.5
	}
	vehicle := g.pick(schema.VehicleTypes, vehicleWeights)
	if s := g.shift.FemaleSportsShare; s > 0 && c.Sex == "F" && g.r.Float64() < s {
		vehicle = "sports"
	}
	usage := g.pick(schema.Usages, []float64{0.35, 0.5, 0.15})
	median := map[string]float64{"pleasure": 7000, "commute": 12000, "business": 18000}[usage]
	mileage := math.Round(min(60000, max(1000, median*math.Exp(0.45*g.r.NormFloat64())))/100) * 100
	deductible := []int32{250, 500, 1000, 2000}[g.index([]float64{0.15, 0.45, 0.3, 0.1})]
	return schema.Policy{
		VehicleType:   vehicle,
		VehicleAge:    int32(min(25, poisson(g.r, 6))),
		Usage:         usage,
		AnnualMileage: mileage,
		Coverage:      g.pick(schema.Coverages, []float64{0.25, 0.45, 0.3}),
		Deductible:    deductible,
	}
}

// policyFor writes the holder's policy for the year starting at start.
func (g *generator) policyFor(h *holder, start time.Time) schema.Policy {
	p := h.policy
	if !start.Equal(h.anniv) { // a renewal
		p = g.renewCover(h, start, p)
	}
	g.policy++
	p.PolicyID = fmt.Sprintf("P%08d", g.policy)
	p.CustomerID = h.customer.CustomerID
	p.StartDate = schema.DateOf(start)
	p.EndDate = schema.DateOf(start.AddDate(1, 0, 0))
	rec := schema.RecordFor(h.customer, p)
	p.LegacyRiskFactor = legacy.Factor(rec)
	cover := map[string]float64{"liability": 0.7, "standard": 1, "comprehensive": 1.35}[p.Coverage]
	credit := map[int32]float64{250: 1.1, 500: 1, 1000: 0.9, 2000: 0.8}[p.Deductible]
	p.Premium = math.Round(850*p.LegacyRiskFactor*cover*credit*100) / 100
	h.policy = p
	return p
}

var claimAmounts = map[string][2]float64{ // lognormal median and sigma
	"collision": {3800, 0.7}, "property_damage": {2500, 0.8}, "bodily_injury": {14000, 1.0},
	"theft": {7000, 0.6}, "glass": {450, 0.4},
}

// claims draws the claims of policy p, which has at least one with
// probability prob.
func (g *generator) claims(p schema.Policy, prob float64) []schema.Claim {
	if g.r.Float64() >= prob {
		return nil
	}
	n := 1
	if g.r.Float64() < 0.12 {
		n = 2
	}
	days := int(p.EndDate - p.StartDate)
	out := make([]schema.Claim, 0, n)
	for range n {
		kind := g.pick(schema.ClaimTypes, []float64{0.45, 0.25, 0.1, 0.08, 0.12})
		m := claimAmounts[kind]
		g.claim++
		out = append(out, schema.Claim{
			ClaimID:   fmt.Sprintf("K%08d", g.claim),
			PolicyID:  p.PolicyID,
			ClaimDate: p.StartDate + schema.Date(g.r.IntN(days)),
			Amount:    math.Round(m[0]*math.Exp(m[1]*g.r.NormFloat64())*100) / 100,
			ClaimType: kind,
		})
	}
	return out
}
