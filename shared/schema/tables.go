package schema

import (
	"strconv"
	"time"
)

// Areas are the Chicago Police Department districts that the insurer's
// customers live in. The City of Chicago's crash records name the police
// beat of each crash; a beat's district is its number divided by 100.
var Areas = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19, 20, 22, 24, 25}

// IsArea reports whether d is one of the districts in Areas.
func IsArea(d int) bool {
	for _, a := range Areas {
		if a == d {
			return true
		}
	}
	return false
}

// Categories of the policy and customer tables.
var (
	Sexes        = []string{"F", "M"}
	VehicleTypes = []string{"sedan", "suv", "pickup", "van", "sports"}
	Usages       = []string{"pleasure", "commute", "business"}
	Coverages    = []string{"liability", "standard", "comprehensive"}
	ClaimTypes   = []string{"collision", "property_damage", "bodily_injury", "theft", "glass"}
	Deductibles  = []string{"250", "500", "1000", "2000"}
)

// EarliestDate and LatestDate bound every date in the data.
var (
	EarliestDate = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	LatestDate   = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

func areaValues() []string {
	v := make([]string, len(Areas))
	for i, a := range Areas {
		v[i] = strconv.Itoa(a)
	}
	return v
}

// The column declarations shared by tables and the request record.
var (
	colCustomerID = Column{Name: "customer_id", Kind: KindString, Description: "Customer identifier (pseudonymised before it is logged)."}
	colPolicyID   = Column{Name: "policy_id", Kind: KindString, Description: "Policy identifier."}
	colHomeArea   = Column{Name: "home_area", Kind: KindInt, Categorical: true, Values: areaValues(),
		Description: "Chicago police district of the customer's home address."}
	colVehicleType = Column{Name: "vehicle_type", Kind: KindString, Values: VehicleTypes, Description: "Body type of the insured vehicle."}
	colVehicleAge  = Column{Name: "vehicle_age", Kind: KindInt, Unit: "years", Min: bound(0), Max: bound(40), Description: "Age of the vehicle at policy start."}
	colUsage       = Column{Name: "usage", Kind: KindString, Values: Usages, Description: "Declared use of the vehicle."}
	colMileage     = Column{Name: "annual_mileage", Kind: KindFloat, Unit: "miles per year", Min: bound(0), Max: bound(100000), Description: "Declared annual mileage."}
	colCoverage    = Column{Name: "coverage", Kind: KindString, Values: Coverages, Description: "Cover level."}
	colDeductible  = Column{Name: "deductible", Kind: KindInt, Unit: "USD", Categorical: true, Values: Deductibles, Description: "Deductible per claim."}
)

// Customers is the customer table. Sex is a protected attribute: it is held
// for fairness analysis and is never a model feature.
var Customers = Table{Name: "customers", Key: "customer_id", Columns: []Column{
	colCustomerID,
	{Name: "birth_date", Kind: KindDate, Description: "Date of birth."},
	{Name: "licence_date", Kind: KindDate, Description: "Date the driving licence was first issued."},
	colHomeArea,
	{Name: "sex", Kind: KindString, Values: Sexes, Description: "Sex as recorded (protected attribute; never a model feature)."},
	{Name: "customer_since", Kind: KindDate, Description: "Date the customer's first policy started."},
}}

// Customer is one row of the customers table.
type Customer struct {
	CustomerID    string `parquet:"customer_id" json:"customer_id"`
	BirthDate     Date   `parquet:"birth_date,date" json:"birth_date"`
	LicenceDate   Date   `parquet:"licence_date,date" json:"licence_date"`
	HomeArea      int32  `parquet:"home_area" json:"home_area"`
	Sex           string `parquet:"sex,dict" json:"sex"`
	CustomerSince Date   `parquet:"customer_since,date" json:"customer_since"`
}

// Policies is the policy table: one row per policy year.
var Policies = Table{Name: "policies", Key: "policy_id", Columns: []Column{
	colPolicyID,
	colCustomerID,
	{Name: "start_date", Kind: KindDate, Description: "First day of cover."},
	{Name: "end_date", Kind: KindDate, Description: "Day after the last day of cover (one year after start)."},
	colVehicleType,
	colVehicleAge,
	colUsage,
	colMileage,
	colCoverage,
	colDeductible,
	{Name: "premium", Kind: KindFloat, Unit: "USD", Min: bound(0), Max: bound(100000), Description: "Annual premium charged."},
	{Name: "legacy_risk_factor", Kind: KindFloat, Min: bound(0.1), Max: bound(10), Description: "Risk factor from the insurer's legacy rating formula."},
}}

// Policy is one row of the policies table: one policy year of one vehicle.
type Policy struct {
	PolicyID         string  `parquet:"policy_id" json:"policy_id"`
	CustomerID       string  `parquet:"customer_id" json:"customer_id"`
	StartDate        Date    `parquet:"start_date,date" json:"start_date"`
	EndDate          Date    `parquet:"end_date,date" json:"end_date"`
	VehicleType      string  `parquet:"vehicle_type,dict" json:"vehicle_type"`
	VehicleAge       int32   `parquet:"vehicle_age" json:"vehicle_age"`
	Usage            string  `parquet:"usage,dict" json:"usage"`
	AnnualMileage    float64 `parquet:"annual_mileage" json:"annual_mileage"`
	Coverage         string  `parquet:"coverage,dict" json:"coverage"`
	Deductible       int32   `parquet:"deductible" json:"deductible"`
	Premium          float64 `parquet:"premium" json:"premium"`
	LegacyRiskFactor float64 `parquet:"legacy_risk_factor" json:"legacy_risk_factor"`
}

// Claims is the claims table.
var Claims = Table{Name: "claims", Key: "claim_id", Columns: []Column{
	{Name: "claim_id", Kind: KindString, Description: "Claim identifier."},
	colPolicyID,
	{Name: "claim_date", Kind: KindDate, Description: "Date of the loss."},
	{Name: "amount", Kind: KindFloat, Unit: "USD", Min: bound(0), Max: bound(5000000), Description: "Amount paid or reserved."},
	{Name: "claim_type", Kind: KindString, Values: ClaimTypes, Description: "Kind of loss."},
}}

// Claim is one row of the claims table.
type Claim struct {
	ClaimID   string  `parquet:"claim_id" json:"claim_id"`
	PolicyID  string  `parquet:"policy_id" json:"policy_id"`
	ClaimDate Date    `parquet:"claim_date,date" json:"claim_date"`
	Amount    float64 `parquet:"amount" json:"amount"`
	ClaimType string  `parquet:"claim_type,dict" json:"claim_type"`
}

// Accidents is the Chicago-area traffic-accident table, one row per area and month.
var Accidents = Table{Name: "accidents", Columns: []Column{
	colHomeArea.renamed("area", "Chicago police district."),
	{Name: "month", Kind: KindDate, Description: "First day of the month."},
	{Name: "crashes", Kind: KindInt, Unit: "crashes", Min: bound(0), Max: bound(1000000), Description: "Police-reported traffic crashes in the area and month."},
	{Name: "injury_crashes", Kind: KindInt, Unit: "crashes", Min: bound(0), Max: bound(1000000), Description: "Crashes with at least one injury."},
	{Name: "exposure", Kind: KindFloat, Unit: "thousand vehicles", Min: bound(0), Max: bound(10000), Description: "Registered vehicles in the area, in thousands."},
}}

// AccidentMonth is one row of the accidents table.
type AccidentMonth struct {
	Area          int32   `parquet:"area" json:"area"`
	Month         Date    `parquet:"month,date" json:"month"`
	Crashes       int64   `parquet:"crashes" json:"crashes"`
	InjuryCrashes int64   `parquet:"injury_crashes" json:"injury_crashes"`
	Exposure      float64 `parquet:"exposure" json:"exposure"`
}

func (c Column) renamed(name, description string) Column {
	c.Name, c.Description = name, description
	return c
}

// Tables lists the input tables in the order they are written and validated.
var Tables = []Table{Customers, Policies, Claims, Accidents}

// Request is the policy record the prediction API accepts. Its fields are
// what an application knows when it quotes a policy; the accident features
// are joined inside the model.
var Request = Table{Name: "policy_record", Columns: []Column{
	colPolicyID,
	colCustomerID,
	{Name: "age", Kind: KindFloat, Unit: "years", Min: bound(16), Max: bound(110), Description: "Age of the main driver at policy start."},
	{Name: "years_licensed", Kind: KindFloat, Unit: "years", Min: bound(0), Max: bound(95), Description: "Years since the main driver's licence was issued."},
	colHomeArea,
	colVehicleType,
	colVehicleAge,
	colUsage,
	colMileage,
	colCoverage,
	colDeductible,
}}
