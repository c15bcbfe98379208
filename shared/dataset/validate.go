package dataset

import (
	"fmt"

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
	// The maps keep only what the checks between tables read: a few
	// bytes per row, not a copy of it (at millions of rows the copies were
	// most of the check's time and memory).
	births := make(map[string]schema.Date, len(d.Customers))
	for i, c := range d.Customers {
		if err := checkCustomer(c); err != nil {
			return rowError(CustomersObject, i, "customer_id", c.CustomerID, err)
		}
		if _, dup := births[c.CustomerID]; dup {
			return rowError(CustomersObject, i, "customer_id", c.CustomerID, fmt.Errorf("customer_id: duplicate key"))
		}
		births[c.CustomerID] = c.BirthDate
	}
	type period struct{ StartDate, EndDate schema.Date }
	policies := make(map[string]period, len(d.Policies))
	for i, p := range d.Policies {
		if err := checkPolicy(p); err != nil {
			return rowError(PoliciesObject, i, "policy_id", p.PolicyID, err)
		}
		if _, dup := policies[p.PolicyID]; dup {
			return rowError(PoliciesObject, i, "policy_id", p.PolicyID, fmt.Errorf("policy_id: duplicate key"))
		}
		birth, ok := births[p.CustomerID]
		if !ok {
			return rowError(PoliciesObject, i, "policy_id", p.PolicyID, fmt.Errorf("customer_id: %q has no row in %s", p.CustomerID, CustomersObject))
		}
		if age := schema.YearsBetween(birth.Time(), p.StartDate.Time()); age < 16 {
			return rowError(PoliciesObject, i, "policy_id", p.PolicyID, fmt.Errorf("start_date: the customer is %.1f years old, under 16", age))
		}
		policies[p.PolicyID] = period{p.StartDate, p.EndDate}
	}
	claimIDs := make(map[string]struct{}, len(d.Claims))
	for i, c := range d.Claims {
		if err := checkClaim(c); err != nil {
			return rowError(ClaimsObject, i, "claim_id", c.ClaimID, err)
		}
		if _, dup := claimIDs[c.ClaimID]; dup {
			return rowError(ClaimsObject, i, "claim_id", c.ClaimID, fmt.Errorf("claim_id: duplicate key"))
		}
		claimIDs[c.ClaimID] = struct{}{}
		p, ok := policies[c.PolicyID]
		if !ok {
			return rowError(ClaimsObject, i, "claim_id", c.ClaimID, fmt.Errorf("policy_id: %q has no row in %s", c.PolicyID, PoliciesObject))
		}
		if c.ClaimDate < p.StartDate || c.ClaimDate >= p.EndDate {
			return rowError(ClaimsObject, i, "claim_id", c.ClaimID, fmt.Errorf("claim_date: %s is outside the policy period %s to %s",
				c.ClaimDate, p.StartDate, p.EndDate))
		}
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
