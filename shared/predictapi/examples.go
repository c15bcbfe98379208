package predictapi

import "github.com/claimrisk/claimrisk/shared/schema"

// ExampleRecords are three quotes to send without a file: `claimrisk
// predict --example`, and the cluster's smoke test.
var ExampleRecords = []schema.PolicyRecord{
	{PolicyID: "Q-1001", CustomerID: "C-1001", Driver: schema.Driver{Age: 45, YearsLicensed: 27, HomeArea: 8}, Cover: schema.Cover{VehicleType: "sedan", VehicleAge: 6, Usage: "pleasure", AnnualMileage: 8000, Coverage: "standard", Deductible: 1000}},
	{PolicyID: "Q-1002", CustomerID: "C-1002", Driver: schema.Driver{Age: 21, YearsLicensed: 2, HomeArea: 11}, Cover: schema.Cover{VehicleType: "sports", VehicleAge: 3, Usage: "commute", AnnualMileage: 18000, Coverage: "comprehensive", Deductible: 250}},
	{PolicyID: "Q-1003", CustomerID: "C-1003", Driver: schema.Driver{Age: 63, YearsLicensed: 44, HomeArea: 16}, Cover: schema.Cover{VehicleType: "suv", VehicleAge: 9, Usage: "business", AnnualMileage: 22000, Coverage: "liability", Deductible: 500}},
}
