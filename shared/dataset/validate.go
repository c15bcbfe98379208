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
	customers := make(map[string]schema.Customer, len(d.Customers))
	for i, c := range d.Customers {
		if err := checkCustomer(c); err != nil {
			return rowError(CustomersObject, i, "customer_id", c.CustomerID, err)
		}
		if _, dup := customers[c.CustomerID]; dup {
			return rowError(CustomersObject, i, "customer_id", c.CustomerID, fmt.Errorf("customer_id: duplicate key"))
		}
		customers[c.CustomerID] = c
	}
	policies := make(map[string]schema.Policy, len(d.Policies))
	for i, p := range d.Policies {
		if err := checkPolicy(p); err != nil {
			return rowError(PoliciesObject, i, "policy_id", p.PolicyID, err)
		}
		if _, dup := policies[p.PolicyID]; dup {
			return rowError(PoliciesObject, i, "policy_id", p.PolicyID, fmt.Errorf("policy_id: duplicate key"))
		}
		c, ok := customers[p.CustomerID]
		if !ok {
			return rowError(PoliciesObject, i, "policy_id", p.PolicyID, fmt.Errorf("customer_id: %q has no row in %s", p.CustomerID, CustomersObject))
		}
		if age := schema.YearsBetween(c.BirthDate.Time(), p.StartDate.Time()); age < 16 {
			return rowError(PoliciesObject, i, "policy_id", p.PolicyID, fmt.Errorf("start_date: the customer is %.1f years old, under 16", age))
		}
		policies[p.PolicyID] = p
	}
	claimIDs := make(map[string]bool, len(d.Claims))
	for i, c := range d.Claims {
		if err := checkClaim(c); err != nil {
			return rowError(ClaimsObject, i, "claim_id", c.ClaimID, err)
		}
		if claimIDs[c.ClaimID] {
			return rowError(ClaimsObject, i, "claim_id", c.ClaimID, fmt.Errorf("claim_id: duplicate key"))
		}
		claimIDs[c.ClaimID] = true
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

func checkDate(name string, d schema.Date) error {
	if t := d.Time(); t.Before(schema.EarliestDate) || t.After(schema.LatestDate) {
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
	t := schema.Customers
	err := first(
		col(t, "customer_id").CheckString(c.CustomerID),
		checkDate("birth_date", c.BirthDate),
		checkDate("licence_date", c.LicenceDate),
		col(t, "home_area").CheckCode(int(c.HomeArea)),
		col(t, "sex").CheckString(c.Sex),
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
	t := schema.Policies
	err := first(
		col(t, "policy_id").CheckString(p.PolicyID),
		col(t, "customer_id").CheckString(p.CustomerID),
		checkDate("start_date", p.StartDate),
		checkDate("end_date", p.EndDate),
		col(t, "vehicle_type").CheckString(p.VehicleType),
		col(t, "vehicle_age").CheckNumber(float64(p.VehicleAge)),
		col(t, "usage").CheckString(p.Usage),
		col(t, "annual_mileage").CheckNumber(p.AnnualMileage),
		col(t, "coverage").CheckString(p.Coverage),
		col(t, "deductible").CheckCode(int(p.Deductible)),
		col(t, "premium").CheckNumber(p.Premium),
		col(t, "legacy_risk_factor").CheckNumber(p.LegacyRiskFactor),
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
	t := schema.Claims
	return first(
		col(t, "claim_id").CheckString(c.ClaimID),
		col(t, "policy_id").CheckString(c.PolicyID),
		checkDate("claim_date", c.ClaimDate),
		col(t, "amount").CheckNumber(c.Amount),
		col(t, "claim_type").CheckString(c.ClaimType),
	)
}

func checkAccident(a schema.AccidentMonth) error {
	t := schema.Accidents
	err := first(
		col(t, "area").CheckCode(int(a.Area)),
		checkDate("month", a.Month),
		col(t, "crashes").CheckNumber(float64(a.Crashes)),
		col(t, "injury_crashes").CheckNumber(float64(a.InjuryCrashes)),
		col(t, "exposure").CheckNumber(a.Exposure),
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
