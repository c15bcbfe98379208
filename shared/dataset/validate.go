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
	// The row checks run on every core, each table's first failing row
	// found by position. The checks between tables read key indexes that
	// keep only what they need (a few bytes per row, not a copy of it), and
	// run for the rows before that first failing row, so the problem
	// reported is the one a single pass in row order would stop at: the
	// earliest row with any problem, and of that row's problems the row's
	// own first, then a duplicate key, then a missing or inconsistent key
	// in another table.
	custs := d.Customers
	bad, err := firstBadRow(custs, checkCustomer)
	n := rowsBefore(len(custs), bad, err)
	births, dup := newKeyIndex(n, func(i int) string { return custs[i].CustomerID }, func(i int) schema.Date { return custs[i].BirthDate })
	switch {
	case dup >= 0:
		return rowError(CustomersObject, dup, "customer_id", custs[dup].CustomerID, fmt.Errorf("customer_id: duplicate key"))
	case err != nil:
		return rowError(CustomersObject, bad, "customer_id", custs[bad].CustomerID, err)
	}

	type period struct{ StartDate, EndDate schema.Date }
	pols := d.Policies
	bad, err = firstBadRow(pols, checkPolicy)
	n = rowsBefore(len(pols), bad, err)
	policies, dup := newKeyIndex(n, func(i int) string { return pols[i].PolicyID }, func(i int) period { return period{pols[i].StartDate, pols[i].EndDate} })
	if dup >= 0 {
		n, bad, err = dup, dup, fmt.Errorf("policy_id: duplicate key")
	}
	if i, kerr := parallel.ForErr(n, parallel.Rows, func(lo, hi int) (int, error) {
		for i := lo; i < hi; i++ {
			p := pols[i]
			birth, ok := births.get(p.CustomerID)
			if !ok {
				return i, fmt.Errorf("customer_id: %q has no row in %s", p.CustomerID, CustomersObject)
			}
			if age := schema.YearsBetween(birth.Time(), p.StartDate.Time()); age < 16 {
				return i, fmt.Errorf("start_date: the customer is %.1f years old, under 16", age)
			}
		}
		return 0, nil
	}); kerr != nil {
		bad, err = i, kerr
	}
	if err != nil {
		return rowError(PoliciesObject, bad, "policy_id", pols[bad].PolicyID, err)
	}

	claims := d.Claims
	bad, err = firstBadRow(claims, checkClaim)
	n = rowsBefore(len(claims), bad, err)
	// Claims are only checked for duplicates: the index holds no value.
	_, dup = newKeyIndex(n, func(i int) string { return claims[i].ClaimID }, func(int) struct{} { return struct{}{} })
	if dup >= 0 {
		n, bad, err = dup, dup, fmt.Errorf("claim_id: duplicate key")
	}
	if i, kerr := parallel.ForErr(n, parallel.Rows, func(lo, hi int) (int, error) {
		for i := lo; i < hi; i++ {
			c := claims[i]
			p, ok := policies.get(c.PolicyID)
			if !ok {
				return i, fmt.Errorf("policy_id: %q has no row in %s", c.PolicyID, PoliciesObject)
			}
			if c.ClaimDate < p.StartDate || c.ClaimDate >= p.EndDate {
				return i, fmt.Errorf("claim_date: %s is outside the policy period %s to %s", c.ClaimDate, p.StartDate, p.EndDate)
			}
		}
		return 0, nil
	}); kerr != nil {
		bad, err = i, kerr
	}
	if err != nil {
		return rowError(ClaimsObject, bad, "claim_id", claims[bad].ClaimID, err)
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

// firstBadRow checks the rows on every core, and returns the first
// failing row by position and its error, or an error of nil.
func firstBadRow[T any](rows []T, check func(T) error) (int, error) {
	return parallel.ForErr(len(rows), parallel.Rows, func(lo, hi int) (int, error) {
		for i := lo; i < hi; i++ {
			if err := check(rows[i]); err != nil {
				return i, err
			}
		}
		return 0, nil
	})
}

// rowsBefore is how many rows precede a table's first failing row: all
// of them when none failed.
func rowsBefore(rows, bad int, err error) int {
	if err != nil {
		return bad
	}
	return rows
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
