package model_test

import (
	"math"
	"testing"

	"github.com/claimrisk/claimrisk/shared/features"
	"github.com/claimrisk/claimrisk/shared/glm"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/synth"
)

// fuzzRecords are valid policy records, one per district, to score with
// every model Decode accepts.
func fuzzRecords() []schema.PolicyRecord {
	var out []schema.PolicyRecord
	for i, area := range schema.Areas {
		out = append(out, schema.PolicyRecord{
			PolicyID:   "P1",
			CustomerID: "C1",
			Driver: schema.Driver{
				Age:           18 + float64(i*3%70),
				YearsLicensed: float64(i % 10),
				HomeArea:      area,
			},
			Cover: schema.Cover{
				VehicleType:   schema.VehicleTypes[i%len(schema.VehicleTypes)],
				VehicleAge:    i % 20,
				Usage:         schema.Usages[i%len(schema.Usages)],
				AnnualMileage: 1000 + float64(i)*900,
				Coverage:      schema.Coverages[i%len(schema.Coverages)],
				Deductible:    []int{250, 500, 1000, 2000}[i%4],
			},
		})
	}
	return out
}

// FuzzDecode feeds arbitrary bytes to model.Decode, the check every stored
// model passes before it is registered, promoted or served. A model it
// accepts must answer a probability in [0, 1] for every valid record and
// survive Encode and Decode again.
func FuzzDecode(f *testing.F) {
	cfg := synth.DefaultConfig()
	cfg.Policies = 300
	d, err := synth.Generate(cfg)
	if err != nil {
		f.Fatal(err)
	}
	exs, err := features.Examples(d.Customers, d.Policies, d.Claims, d.Accidents)
	if err != nil {
		f.Fatal(err)
	}
	idx := features.NewAccidentIndex(d.Accidents)
	for _, kind := range model.Kinds {
		set, _ := model.SetOf(kind)
		spec, err := features.NewSpec(set, exs, idx)
		if err != nil {
			f.Fatal(err)
		}
		coef := make([]float64, len(spec.Names))
		for i := range coef {
			coef[i] = 0.1 * float64(i+1)
		}
		m, err := model.New(kind, spec, &glm.Fit{Intercept: -2, Coef: coef}, 1)
		if err != nil {
			f.Fatal(err)
		}
		data, _ := m.Encode()
		f.Add(data)
		f.Add(data[:len(data)-7])
	}
	f.Add([]byte(`{"format":"claimrisk.glm/v1","kind":"legacy","features":{"set":"legacy","names":["log_legacy_factor"],"center":[0],"scale":[1e-300]},"coef":[1e300]}`))
	f.Add([]byte(`{"format":"claimrisk.glm/v1","kind":"legacy","features":{"set":"legacy","names":["log_legacy_factor"],"center":[0],"scale":[1]},"coef":[0]}`))
	recs := fuzzRecords()
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := model.Decode(data)
		if err != nil {
			return
		}
		for _, r := range recs {
			if p := m.Predict(r); math.IsNaN(p) || p < 0 || p > 1 {
				t.Fatalf("an accepted model predicts %v for %+v", p, r)
			}
		}
		again, err := m.Encode()
		if err != nil {
			t.Fatalf("an accepted model cannot be encoded: %v", err)
		}
		if _, err := model.Decode(again); err != nil {
			t.Fatalf("an accepted model does not decode after Encode: %v", err)
		}
	})
}
