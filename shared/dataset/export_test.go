package dataset

import (
	"fmt"

	"github.com/claimrisk/claimrisk/shared/schema"
)

// ValidateInOrder is Validate as a single pass in row order, as it was
// before it ran on every core: the reference its errors are compared
// with.
func ValidateInOrder(d *Dataset) error {
	if len(d.Policies) == 0 {
		return fmt.Errorf("%w: %s: has no rows", ErrInvalid, PoliciesObject)
	}
	if len(d.Accidents) == 0 {
		return fmt.Errorf("%w: %s: has no rows", ErrInvalid, AccidentsObject)
	}
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
