package dataset_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/synth"
)

func small(t *testing.T) *dataset.Dataset {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Policies = 400
	d, err := synth.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestValidateNamesObjectColumnAndProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*dataset.Dataset)
		want   string
	}{
		{"out of range", func(d *dataset.Dataset) { d.Policies[3].AnnualMileage = -5 },
			"policies.parquet: row 4 (policy_id P00000004): annual_mileage: -5 is below the minimum 0 miles per year"},
		{"unknown category", func(d *dataset.Dataset) { d.Policies[0].Coverage = "gold" },
			`policies.parquet: row 1 (policy_id P00000001): coverage: "gold" is not one of liability, standard, comprehensive`},
		{"orphan policy", func(d *dataset.Dataset) { d.Policies[1].CustomerID = "C9999999" },
			`policies.parquet: row 2 (policy_id P00000002): customer_id: "C9999999" has no row in customers.parquet`},
		{"orphan claim", func(d *dataset.Dataset) { d.Claims[0].PolicyID = "P99999999" },
			`claims.parquet: row 1`},
		{"claim outside the policy year", func(d *dataset.Dataset) { d.Claims[0].ClaimDate -= 400 },
			"is outside the policy period"},
		{"duplicate customer", func(d *dataset.Dataset) { d.Customers[1].CustomerID = d.Customers[0].CustomerID },
			"customers.parquet: row 2 (customer_id C0000001): customer_id: duplicate key"},
		{"injuries above crashes", func(d *dataset.Dataset) { d.Accidents[0].InjuryCrashes = d.Accidents[0].Crashes + 1 },
			"accidents.parquet: row 1 (area/month 1/2020-01): injury_crashes"},
		{"unknown district", func(d *dataset.Dataset) { d.Customers[0].HomeArea = 99 },
			`customers.parquet: row 1 (customer_id C0000001): home_area: "99" is not one of`},
		{"NaN premium", func(d *dataset.Dataset) { d.Policies[0].Premium = nanValue() },
			"premium: NaN is not a number"},
		{"no policies", func(d *dataset.Dataset) { d.Policies = nil }, "policies.parquet: has no rows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := small(t)
			if err := d.Validate(); err != nil {
				t.Fatalf("generated data is invalid: %v", err)
			}
			tt.change(d)
			err := d.Validate()
			if !errors.Is(err, dataset.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v\nwant ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

func TestDecodeWrongTypeAndMissingColumn(t *testing.T) {
	t.Parallel()
	d := small(t)
	objs, _, err := d.Encode("test")
	if err != nil {
		t.Fatal(err)
	}
	// A policy table whose mileage column holds text.
	type policyWithTextMileage struct {
		PolicyID         string      `parquet:"policy_id"`
		CustomerID       string      `parquet:"customer_id"`
		StartDate        schema.Date `parquet:"start_date,date"`
		EndDate          schema.Date `parquet:"end_date,date"`
		VehicleType      string      `parquet:"vehicle_type"`
		VehicleAge       int32       `parquet:"vehicle_age"`
		Usage            string      `parquet:"usage"`
		AnnualMileage    string      `parquet:"annual_mileage"` // text where the table has a number
		Coverage         string      `parquet:"coverage"`
		Deductible       int32       `parquet:"deductible"`
		Premium          float64     `parquet:"premium"`
		LegacyRiskFactor float64     `parquet:"legacy_risk_factor"`
	}
	type customerWithoutSex struct {
		CustomerID string `parquet:"customer_id"`
	}
	p := d.Policies[0]
	bad := []policyWithTextMileage{{p.PolicyID, p.CustomerID, p.StartDate, p.EndDate, p.VehicleType, p.VehicleAge, p.Usage,
		"twelve thousand", p.Coverage, p.Deductible, p.Premium, p.LegacyRiskFactor}}
	wrong, _ := parquetio.Encode(bad)
	short, _ := parquetio.Encode([]customerWithoutSex{{"C1"}})
	tests := []struct {
		name, object string
		data         []byte
		want         string
	}{
		{"wrong type", dataset.PoliciesObject, wrong, "policies.parquet: column annual_mileage is string, want number (DOUBLE)"},
		{"missing column", dataset.CustomersObject, short, "customers.parquet: column birth_date is missing"},
		{"not parquet", dataset.ClaimsObject, []byte("claim_id,policy_id\n"), "claims.parquet: not a Parquet file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := map[string][]byte{}
			for k, v := range objs {
				changed[k] = v
			}
			changed[tt.object] = tt.data
			_, err := dataset.Decode(changed, nil)
			if !errors.Is(err, dataset.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decode() = %v\nwant ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}

func TestUploadAndLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, err := blobstore.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	d := small(t)
	objs, m, err := d.Encode("test")
	if err != nil {
		t.Fatal(err)
	}
	if err := dataset.Upload(ctx, b, objs, m, nil); err != nil {
		t.Fatal(err)
	}
	got, gm, err := dataset.Load(ctx, b, m.ID())
	if err != nil {
		t.Fatal(err)
	}
	if gm.Fingerprint != m.Fingerprint || len(got.Policies) != len(d.Policies) || got.Policies[5] != d.Policies[5] {
		t.Fatalf("Load returned another dataset: fingerprint %s, %d policies", gm.Fingerprint, len(got.Policies))
	}
	if got, want := m.PolicyYears, []int{2021, 2022, 2023, 2024}; len(got) != 4 || got[0] != want[0] || got[3] != want[3] {
		t.Errorf("PolicyYears = %v, want %v", got, want)
	}

	// A changed object no longer matches the manifest.
	if err := b.Write(ctx, dataset.KeyOf(m.ID(), dataset.ClaimsObject), objs[dataset.PoliciesObject], ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := dataset.Load(ctx, b, m.ID()); !errors.Is(err, dataset.ErrInvalid) || !strings.Contains(err.Error(), "does not match its manifest") {
		t.Fatalf("Load after tampering = %v, want a manifest mismatch", err)
	}
}

func TestUploadWithoutManifestIsInvisible(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, _ := blobstore.Open(ctx, "mem://")
	defer b.Close()
	d := small(t)
	objs, m, _ := d.Encode("test")
	// An upload interrupted before the manifest: the tables but no manifest.
	for name, data := range objs {
		if err := b.Write(ctx, dataset.KeyOf(m.ID(), name), data, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := dataset.Load(ctx, b, m.ID()); !errors.Is(err, blobstore.ErrNotFound) {
		t.Fatalf("Load of an unfinished upload = %v, want ErrNotFound", err)
	}
}

func TestFingerprintIsReproducible(t *testing.T) {
	t.Parallel()
	_, m1, _ := small(t).Encode("test")
	_, m2, _ := small(t).Encode("test")
	if m1.Fingerprint != m2.Fingerprint {
		t.Fatalf("two encodings of the same seed differ: %s and %s", m1.Fingerprint, m2.Fingerprint)
	}
}
