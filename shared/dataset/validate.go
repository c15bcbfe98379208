package dataset

import (
	"fmt"
	"hash/maphash"
	"runtime"

	"github.com/claimrisk/claimrisk/shared/parallel"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// Validate checks every row of every table against the schema and the keys
// between tables, and returns the first problem found.
func (d *Dataset) Validate() error {
	if len(d.Policies) == 0 {
		return fmt.Errorf("%w: %s: has no rows", ErrInvalid, PoliciesObject)
	}
	if len(d.Accidents) == 0 {
		return fmt.Errorf("%w: %s: has no rows", ErrInvalid, AccidentsObject)
	}
	// The tables with keys, in the order a single pass would read them;
	// each one's checks between tables read the index of the one before.
	births, err := checkTable(CustomersObject, "customer_id", d.Customers, checkCustomer,
		func(c *schema.Customer) string { return c.CustomerID },
		func(c *schema.Customer) schema.Date { return c.BirthDate }, nil)
	if err != nil {
		return err
	}
	type period struct{ StartDate, EndDate schema.Date }
	policies, err := checkTable(PoliciesObject, "policy_id", d.Policies, checkPolicy,
		func(p *schema.Policy) string { return p.PolicyID },
		func(p *schema.Policy) period { return period{p.StartDate, p.EndDate} },
		func(p *schema.Policy) error {
			birth, ok := births.get(p.CustomerID)
			if !ok {
				return fmt.Errorf("customer_id: %q has no row in %s", p.CustomerID, CustomersObject)
			}
			if age := schema.YearsBetween(birth.Time(), p.StartDate.Time()); age < 16 {
				return fmt.Errorf("start_date: the customer is %.1f years old, under 16", age)
			}
			return nil
		})
	if err != nil {
		return err
	}
	// Nothing looks claims up: their index only finds duplicate keys.
	_, err = checkTable(ClaimsObject, "claim_id", d.Claims, checkClaim,
		func(c *schema.Claim) string { return c.ClaimID },
		func(*schema.Claim) struct{} { return struct{}{} },
		func(c *schema.Claim) error {
			p, ok := policies.get(c.PolicyID)
			if !ok {
				return fmt.Errorf("policy_id: %q has no row in %s", c.PolicyID, PoliciesObject)
			}
			if c.ClaimDate < p.StartDate || c.ClaimDate >= p.EndDate {
				return fmt.Errorf("claim_date: %s is outside the policy period %s to %s", c.ClaimDate, p.StartDate, p.EndDate)
			}
			return nil
		})
	if err != nil {
		return err
	}
	type areaMonth struct {
		area  int32
		month schema.Date
	}
	seen := make(map[areaMonth]bool, len(d.Accidents))
	for i, a := range d.Accidents {
		key := fmt.Sprintf("%d/%s", a.Area, a.Month.Time().Format("2006-01"))
		if err := checkAccident(a); err != nil {
			return rowError(AccidentsObject, i, "area/month", key, err)
		}
		k := areaMonth{a.Area, a.Month}
		if seen[k] {
			return rowError(AccidentsObject, i, "area/month", key, fmt.Errorf("month: duplicate area and month"))
		}
		seen[k] = true
	}
	return nil
}

// checkTable checks one table of keyed rows on every core: each row on
// its own (check), its key against the earlier rows', and its keys into
// other tables (between, nil when it has none). It returns the table's key
// index, or the problem a single pass in row order stops at: the earliest
// row with a problem, and of that row's problems its own first, then a
// duplicate key, then one between tables. The index and the checks between
// tables cover only the rows before the first row that fails its own check.
func checkTable[T, V any](object, keyName string, rows []T, check func(T) error,
	key func(*T) string, value func(*T) V, between func(*T) error) (*keyIndex[V], error) {
	bad, err := firstBadRow(len(rows), func(i int) error { return check(rows[i]) })
	n := len(rows)
	if err != nil {
		n = bad
	}
	idx, dup := newKeyIndex(n, func(i int) string { return key(&rows[i]) }, func(i int) V { return value(&rows[i]) })
	if dup >= 0 {
		n, bad, err = dup, dup, fmt.Errorf("%s: duplicate key", keyName)
	}
	if between != nil {
		if i, berr := firstBadRow(n, func(i int) error { return between(&rows[i]) }); berr != nil {
			bad, err = i, berr
		}
	}
	if err != nil {
		return nil, rowError(object, bad, keyName, key(&rows[bad]), err)
	}
	return idx, nil
}

// firstBadRow runs check on rows 0 to n-1 on every core, and returns the
// first failing row by position and its error, or an error of nil.
func firstBadRow(n int, check func(i int) error) (int, error) {
	return parallel.ForErr(n, parallel.Rows, func(lo, hi int) (int, error) {
		for i := lo; i < hi; i++ {
			if err := check(i); err != nil {
				return i, err
			}
		}
		return 0, nil
	})
}

// keyIndex maps a table's keys to what the checks between tables need of
// their rows. It is one map per core, each goroutine inserting the keys
// whose hash falls in its shard, so that the inserts (most of the check's
// time at millions of rows) run on every core; lookups are safe from many
// goroutines once it is built.
type keyIndex[V any] struct {
	seed   maphash.Seed
	shards []map[string]V
}

// newKeyIndex indexes the first n rows by key, and returns the index of
// the first row whose key an earlier row already has, or -1.
func newKeyIndex[V any](n int, key func(int) string, value func(int) V) (*keyIndex[V], int) {
	shards := 1
	if n >= parallel.Rows {
		shards = runtime.GOMAXPROCS(0)
	}
	x := &keyIndex[V]{seed: maphash.MakeSeed(), shards: make([]map[string]V, shards)}
	dups := make([]int, shards)
	parallel.PerCore(shards, func(lo, hi int) {
		for s := lo; s < hi; s++ {
			m := make(map[string]V, n/shards)
			dups[s] = -1
			for i := range n {
				k := key(i)
				if shards > 1 && x.shard(k) != s {
					continue
				}
				if _, dup := m[k]; dup {
					dups[s] = i
					break
				}
				m[k] = value(i)
			}
			x.shards[s] = m
		}
	})
	first := -1
	for _, d := range dups {
		if d >= 0 && (first < 0 || d < first) {
			first = d
		}
	}
	return x, first
}

func (x *keyIndex[V]) shard(k string) int {
	if len(x.shards) == 1 {
		return 0
	}
	return int(maphash.String(x.seed, k) % uint64(len(x.shards)))
}

func (x *keyIndex[V]) get(k string) (V, bool) {
	v, ok := x.shards[x.shard(k)][k]
	return v, ok
}

func rowError(object string, row int, keyName, key string, err error) error {
	return fmt.Errorf("%w: %s: row %d (%s %s): %v", ErrInvalid, object, row+1, keyName, key, err)
}

func col(t schema.Table, name string) schema.Column {
	c, ok := t.Column(name)
	if !ok {
		panic("dataset: no column " + name + " in " + t.Name) // a programming error
	}
	return c
}

// The columns the row checks use, looked up once rather than per row.
var (
	customerIDCol   = col(schema.Customers, "customer_id")
	homeAreaCol     = col(schema.Customers, "home_area")
	sexCol          = col(schema.Customers, "sex")
	policyIDCol     = col(schema.Policies, "policy_id")
	policyCustIDCol = col(schema.Policies, "customer_id")
	vehicleTypeCol  = col(schema.Policies, "vehicle_type")
	vehicleAgeCol   = col(schema.Policies, "vehicle_age")
	usageCol        = col(schema.Policies, "usage")
	mileageCol      = col(schema.Policies, "annual_mileage")
	coverageCol     = col(schema.Policies, "coverage")
	deductibleCol   = col(schema.Policies, "deductible")
	premiumCol      = col(schema.Policies, "premium")
	legacyFactorCol = col(schema.Policies, "legacy_risk_factor")
	claimIDCol      = col(schema.Claims, "claim_id")
	claimPolicyCol  = col(schema.Claims, "policy_id")
	amountCol       = col(schema.Claims, "amount")
	claimTypeCol    = col(schema.Claims, "claim_type")
	areaCol         = col(schema.Accidents, "area")
	crashesCol      = col(schema.Accidents, "crashes")
	injuriesCol     = col(schema.Accidents, "injury_crashes")
	exposureCol     = col(schema.Accidents, "exposure")

	earliest, latest = schema.DateOf(schema.EarliestDate), schema.DateOf(schema.LatestDate)
)

func checkDate(name string, d schema.Date) error {
	if d < earliest || d > latest {
		return fmt.Errorf("%s: %s is outside %d to %d", name, d, schema.EarliestDate.Year(), schema.LatestDate.Year())
	}
	return nil
}

func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func checkCustomer(c schema.Customer) error {
	err := first(
		customerIDCol.CheckString(c.CustomerID),
		checkDate("birth_date", c.BirthDate),
		checkDate("licence_date", c.LicenceDate),
		homeAreaCol.CheckCode(int(c.HomeArea)),
		sexCol.CheckString(c.Sex),
		checkDate("customer_since", c.CustomerSince),
	)
	if err != nil {
		return err
	}
	if schema.YearsBetween(c.BirthDate.Time(), c.LicenceDate.Time()) < 14 {
		return fmt.Errorf("licence_date: %s is less than 14 years after birth_date %s", c.LicenceDate, c.BirthDate)
	}
	return nil
}

func checkPolicy(p schema.Policy) error {
	err := first(
		policyIDCol.CheckString(p.PolicyID),
		policyCustIDCol.CheckString(p.CustomerID),
		checkDate("start_date", p.StartDate),
		checkDate("end_date", p.EndDate),
		vehicleTypeCol.CheckString(p.VehicleType),
		vehicleAgeCol.CheckNumber(float64(p.VehicleAge)),
		usageCol.CheckString(p.Usage),
		mileageCol.CheckNumber(p.AnnualMileage),
		coverageCol.CheckString(p.Coverage),
		deductibleCol.CheckCode(int(p.Deductible)),
		premiumCol.CheckNumber(p.Premium),
		legacyFactorCol.CheckNumber(p.LegacyRiskFactor),
	)
	if err != nil {
		return err
	}
	if p.EndDate <= p.StartDate {
		return fmt.Errorf("end_date: %s is not after start_date %s", p.EndDate, p.StartDate)
	}
	return nil
}

func checkClaim(c schema.Claim) error {
	return first(
		claimIDCol.CheckString(c.ClaimID),
		claimPolicyCol.CheckString(c.PolicyID),
		checkDate("claim_date", c.ClaimDate),
		amountCol.CheckNumber(c.Amount),
		claimTypeCol.CheckString(c.ClaimType),
	)
}

func checkAccident(a schema.AccidentMonth) error {
	err := first(
		areaCol.CheckCode(int(a.Area)),
		checkDate("month", a.Month),
		crashesCol.CheckNumber(float64(a.Crashes)),
		injuriesCol.CheckNumber(float64(a.InjuryCrashes)),
		exposureCol.CheckNumber(a.Exposure),
	)
	if err != nil {
		return err
	}
	if a.Month.Time().Day() != 1 {
		return fmt.Errorf("month: %s is not the first day of a month", a.Month)
	}
	if a.InjuryCrashes > a.Crashes {
		return fmt.Errorf("injury_crashes: %d is more than crashes %d", a.InjuryCrashes, a.Crashes)
	}
	if a.Exposure <= 0 {
		return fmt.Errorf("exposure: must be above 0")
	}
	return nil
}
