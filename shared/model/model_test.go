package model

import (
	"errors"
	"strings"
	"testing"

	"github.com/claimrisk/claimrisk/shared/features"
	"github.com/claimrisk/claimrisk/shared/glm"
	"github.com/claimrisk/claimrisk/shared/schema"
)

func legacyModel(t *testing.T) *Model {
	t.Helper()
	spec := features.Spec{Set: features.SetLegacy, Names: []string{"log_legacy_factor"}, Center: []float64{0}, Scale: []float64{1}}
	m, err := New(KindLegacy, spec, &glm.Fit{Intercept: -2, Coef: []float64{1}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	t.Parallel()
	m := legacyModel(t)
	data, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	r := schema.PolicyRecord{Driver: schema.Driver{Age: 20, YearsLicensed: 1}, Cover: schema.Cover{Usage: "business", AnnualMileage: 20000}}
	// legacy factor 2.99: p = 1 / (1 + exp(2 - ln 2.99)) = 2.99 / (e^2 + 2.99).
	want := 2.99 / (7.38905609893065 + 2.99)
	if got := back.Predict(r); got < want-1e-12 || got > want+1e-12 {
		t.Errorf("Predict = %v, want %v", got, want)
	}
}

func TestDecodeRefusesBrokenModels(t *testing.T) {
	t.Parallel()
	good, _ := legacyModel(t).Encode()
	tests := map[string]string{
		"not JSON":          `{"format":`,
		"unknown field":     strings.Replace(string(good), `"name"`, `"surprise": 1, "name"`, 1),
		"other format":      strings.Replace(string(good), Format, "claimrisk.glm/v0", 1),
		"unknown kind":      strings.Replace(string(good), `"kind": "legacy"`, `"kind": "tree"`, 1),
		"too many coefs":    strings.Replace(string(good), `"coef": [`, `"coef": [0.5, `, 1),
		"wrong feature set": strings.Replace(string(good), `"set": "legacy"`, `"set": "base"`, 1),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode([]byte(data)); !errors.Is(err, ErrInvalid) {
				t.Errorf("Decode = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestBand(t *testing.T) {
	t.Parallel()
	for p, want := range map[float64]string{0: "low", 0.0499: "low", 0.05: "moderate", 0.15: "high", 0.2: "very_high", 1: "very_high"} {
		if got := Band(p); got != want {
			t.Errorf("Band(%v) = %s, want %s", p, got, want)
		}
	}
}
