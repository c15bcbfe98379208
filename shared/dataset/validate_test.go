package dataset_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/tooling/synth"
)

var (
	largeOnce sync.Once
	largeData *dataset.Dataset
	largeErr  error
)

// large is a dataset with enough rows in each table of keys (customers,
// policies, claims) for Validate to split every loop between goroutines.
func large(t *testing.T) *dataset.Dataset {
	t.Helper()
	largeOnce.Do(func() {
		cfg := synth.DefaultConfig()
		cfg.Policies = 70_000
		largeData, largeErr = synth.Generate(cfg)
	})
	if largeErr != nil {
		t.Fatal(largeErr)
	}
	d := *largeData
	d.Customers, d.Policies, d.Claims, d.Accidents = slices.Clone(d.Customers), slices.Clone(d.Policies), slices.Clone(d.Claims), slices.Clone(d.Accidents)
	return &d
}

// fault breaks row i of a table in one way.
type fault struct {
	name  string
	rows  func(*dataset.Dataset) int
	apply func(d *dataset.Dataset, i int, r *rand.Rand)
}

var faults = []fault{
	{"customer out of range", func(d *dataset.Dataset) int { return len(d.Customers) },
		func(d *dataset.Dataset, i int, _ *rand.Rand) { d.Customers[i].HomeArea = 99 }},
	{"duplicate customer", func(d *dataset.Dataset) int { return len(d.Customers) },
		func(d *dataset.Dataset, i int, r *rand.Rand) {
			d.Customers[i].CustomerID = d.Customers[r.IntN(len(d.Customers))].CustomerID
		}},
	{"policy out of range", func(d *dataset.Dataset) int { return len(d.Policies) },
		func(d *dataset.Dataset, i int, _ *rand.Rand) { d.Policies[i].AnnualMileage = -5 }},
	{"duplicate policy", func(d *dataset.Dataset) int { return len(d.Policies) },
		func(d *dataset.Dataset, i int, r *rand.Rand) {
			d.Policies[i].PolicyID = d.Policies[r.IntN(len(d.Policies))].PolicyID
		}},
	{"orphan policy", func(d *dataset.Dataset) int { return len(d.Policies) },
		func(d *dataset.Dataset, i int, _ *rand.Rand) { d.Policies[i].CustomerID = "C9999999" }},
	{"customer under 16", func(d *dataset.Dataset) int { return len(d.Policies) },
		func(d *dataset.Dataset, i int, _ *rand.Rand) {
			p := d.Policies[i]
			for j := range d.Customers {
				if d.Customers[j].CustomerID == p.CustomerID {
					d.Customers[j].BirthDate = p.StartDate - 15*365
					d.Customers[j].LicenceDate = p.StartDate - 1
				}
			}
		}},
	{"claim out of range", func(d *dataset.Dataset) int { return len(d.Claims) },
		func(d *dataset.Dataset, i int, _ *rand.Rand) { d.Claims[i].Amount = -1 }},
	{"duplicate claim", func(d *dataset.Dataset) int { return len(d.Claims) },
		func(d *dataset.Dataset, i int, r *rand.Rand) {
			d.Claims[i].ClaimID = d.Claims[r.IntN(len(d.Claims))].ClaimID
		}},
	{"orphan claim", func(d *dataset.Dataset) int { return len(d.Claims) },
		func(d *dataset.Dataset, i int, _ *rand.Rand) { d.Claims[i].PolicyID = "P99999999" }},
	{"claim outside the policy period", func(d *dataset.Dataset) int { return len(d.Claims) },
		func(d *dataset.Dataset, i int, _ *rand.Rand) { d.Claims[i].ClaimDate -= 400 }},
}

// TestValidateReportsWhatARowOrderPassWould: with every pair of faults
// at random rows or at one row, and with three at random, Validate on many
// goroutines reports the very problem a single pass in row order does
// (dataset.ValidateInOrder, the check as it was): the earliest table and
// row, and of that row's problems the same one.
func TestValidateReportsWhatARowOrderPassWould(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)) // split every loop, on any machine
	r := rand.New(rand.NewPCG(17, 5))
	base := large(t)
	if err := base.Validate(); err != nil {
		t.Fatalf("generated data is invalid: %v", err)
	}
	if len(base.Claims) < 2*4096 {
		t.Fatalf("only %d claims: too few to split the claims' loops", len(base.Claims))
	}
	kinds := map[string]int{}
	check := func(d *dataset.Dataset, applied []string) {
		t.Helper()
		want := dataset.ValidateInOrder(d)
		got := d.Validate()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%v:\n got %v\nwant %v", applied, got, want)
		}
		if want != nil {
			kinds[problemKind(want.Error())]++
		}
	}
	// Every pair of faults, at two rows in order and at one row.
	for _, f1 := range faults {
		for _, f2 := range faults {
			for _, same := range []bool{false, true} {
				d := large(t)
				a := r.IntN(f1.rows(d))
				b := a
				if !same || b >= f2.rows(d) {
					b = r.IntN(f2.rows(d))
				}
				f1.apply(d, a, r)
				f2.apply(d, b, r)
				check(d, []string{fmt.Sprintf("%s at %d", f1.name, a), fmt.Sprintf("%s at %d", f2.name, b)})
			}
		}
	}
	// And three faults at random.
	for range 20 {
		d := large(t)
		var applied []string
		for range 3 {
			f := faults[r.IntN(len(faults))]
			row := r.IntN(f.rows(d))
			f.apply(d, row, r)
			applied = append(applied, fmt.Sprintf("%s at %d", f.name, row))
		}
		check(d, applied)
	}
	// The scenarios must reach the checks of every kind, or the comparison
	// says little.
	t.Logf("problems reported: %v", kinds)
	for _, k := range []string{"row", "duplicate", "missing key", "between tables"} {
		if kinds[k] == 0 {
			t.Errorf("no scenario ended in a %s problem (%v); change the seed", k, kinds)
		}
	}
}

func problemKind(msg string) string {
	switch {
	case strings.Contains(msg, "duplicate key"):
		return "duplicate"
	case strings.Contains(msg, "has no row in"):
		return "missing key"
	case strings.Contains(msg, "under 16"), strings.Contains(msg, "outside the policy period"):
		return "between tables"
	}
	return "row"
}
