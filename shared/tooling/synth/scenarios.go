package synth

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/claimrisk/claimrisk/shared/schema"
)

// Scenario is a documented change to the generator's world, for drift
// simulation.
type Scenario struct {
	Name        string
	Description string
	Shift       Shift
}

// Scenarios are the drift scenarios `claimrisk simulate` offers.
var Scenarios = []Scenario{
	{"none", "Fresh data from the training distribution: the same world, another sample of customers.", Shift{}},
	{"aging-portfolio", "Customers get older: every driver is eight years older and has held a licence eight years longer. Input drift in age and years_licensed; claims follow the true model.", Shift{AgeYears: 8}},
	{"new-territory", "The insurer expands into high-accident districts: customers' districts are drawn with weights tilted by the cube of the district's crash rate. Input drift in home_area; claims rise where crashes are frequent.", Shift{AreaTilt: 3}},
	{"accident-spike", "Accident rates rise by 60% in every district, so claims rise, but the policies look the same: concept drift that input drift alone hides. It shows in quality once outcomes arrive.", Shift{CrashFactor: 1.6}},
	{"unit-bug", "An upstream system starts sending annual mileage in kilometres (miles times 1.609). Input drift in annual_mileage only; the true risk does not change.", Shift{MileageFactor: 1.609344}},
	{"broker", "A broker brings a book of commuters from one district with standard cover, each declaring 11,000 to 13,000 miles. The risks become alike, so the model ranks them less well (its AUC falls by about a tenth), although every claim follows the true model: a covariate shift whose cost the performance estimate shows before any claim arrives.", Shift{Broker: true}},
	{"gender-proxy", "A marketing campaign sells policies for sports cars to women: 90% of women now insure a sports car. The model never sees sex, but the vehicle carries it: women's mean predicted probability rises well above men's, and the fairness monitor raises an alert.", Shift{FemaleSportsShare: 0.9}},
}

// ScenarioNamed returns a scenario by name.
func ScenarioNamed(name string) (Scenario, error) {
	names := make([]string, len(Scenarios))
	for i, s := range Scenarios {
		if s.Name == name {
			return s, nil
		}
		names[i] = s.Name
	}
	return Scenario{}, fmt.Errorf("synth: unknown scenario %q; choose one of %s", name, strings.Join(names, ", "))
}

// Draw is one policy of simulated traffic.
type Draw struct {
	// Reported is the record as the insurer's application sends it.
	Reported schema.PolicyRecord
	Start    time.Time
	// Claim is the observed outcome; Probability the true chance of one.
	Claim       bool
	Probability float64
	// Sex is the customer's protected attribute, which the insurer's
	// customer records hold and the API never receives.
	Sex string
}

// Traffic draws n policies of the last policy year of base's world, with
// another portfolio seed and the scenario's changes: what the prediction
// API sees once the model is in production. The same arguments give the
// same traffic.
func Traffic(base Config, seed uint64, n int, sc Scenario) ([]Draw, error) {
	if n < 1 {
		return nil, fmt.Errorf("synth: traffic needs at least one policy, got %d", n)
	}
	cfg := base
	cfg.PortfolioSeed, cfg.Shift, cfg.Progress = seed, sc.Shift, nil
	d, err := Generate(cfg)
	if err != nil {
		return nil, err
	}
	w := NewWorld(base.Seed)
	if base.Accidents != nil {
		if w, err = NewWorldFromAccidents(base.Seed, base.Accidents); err != nil {
			return nil, err
		}
	}
	customers := map[string]schema.Customer{}
	for _, c := range d.Customers {
		customers[c.CustomerID] = c
	}
	claimed := map[string]bool{}
	for _, c := range d.Claims {
		claimed[c.PolicyID] = true
	}
	var last []schema.Policy
	for _, p := range d.Policies {
		if p.StartDate.Time().Year() == cfg.LastYear {
			last = append(last, p)
		}
	}
	r := rand.New(rand.NewPCG(seed, 0x7aff1c))
	r.Shuffle(len(last), func(i, j int) { last[i], last[j] = last[j], last[i] })
	if n > len(last) {
		return nil, fmt.Errorf("synth: asked for %d policies of traffic; the world's last year holds %d (raise base policies)", n, len(last))
	}
	district := busiest(customers, last)
	out := make([]Draw, n)
	for i, p := range last[:n] {
		rec := schema.RecordFor(customers[p.CustomerID], p)
		start := p.StartDate.Time()
		if sc.Shift.Broker {
			rec.HomeArea, rec.Usage, rec.Coverage = district, "commute", "standard"
			rec.AnnualMileage = float64(11000 + 100*r.IntN(21))
		}
		prob := w.TrueProbability(rec, start, sc.Shift)
		claim := claimed[p.PolicyID]
		if sc.Shift.Broker {
			claim = r.Float64() < prob // the outcome of the changed inputs
		}
		reported := rec
		reported.PolicyID = fmt.Sprintf("T%d-%s", seed, p.PolicyID)
		reported.CustomerID = fmt.Sprintf("T%d-%s", seed, p.CustomerID)
		if f := sc.Shift.MileageFactor; f != 0 {
			reported.AnnualMileage = min(reported.AnnualMileage*f, 100000)
		}
		out[i] = Draw{Reported: reported, Start: start, Claim: claim, Probability: prob, Sex: customers[p.CustomerID].Sex}
	}
	return out, nil
}

// busiest is the district with the most policies (the lowest code of a tie).
func busiest(customers map[string]schema.Customer, policies []schema.Policy) int {
	count := map[int]int{}
	best := 0
	for _, p := range policies {
		a := int(customers[p.CustomerID].HomeArea)
		count[a]++
		if count[a] > count[best] || count[a] == count[best] && a < best {
			best = a
		}
	}
	return best
}
