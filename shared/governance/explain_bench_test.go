package governance_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/governance"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// BenchmarkExplainAccidentModel is the cost of one exact explanation with
// the accident-aware GLM trained on generated data: the figure behind the
// explanation latency.
func BenchmarkExplainAccidentModel(b *testing.B) {
	bucket := "file://" + filepath.Join(b.TempDir(), "bucket")
	testenv.Train(b, bucket, 42, 8000)
	bk, _ := blobstore.Open(context.Background(), bucket)
	defer bk.Close()
	v, err := registry.Open(bk, model.Name).Resolve(context.Background(), registry.Champion)
	if err != nil {
		b.Fatal(err)
	}
	m, _ := v.LoadModel()
	r := schema.PolicyRecord{
		PolicyID:   "Q",
		CustomerID: "C",
		Driver: schema.Driver{
			Age:           21,
			YearsLicensed: 2,
			HomeArea:      11,
		},
		Cover: schema.Cover{
			VehicleType:   "sports",
			VehicleAge:    3,
			Usage:         "commute",
			AnnualMileage: 18000,
			Coverage:      "comprehensive",
			Deductible:    250,
		},
	}
	for b.Loop() {
		governance.Explain(m, r)
	}
}
