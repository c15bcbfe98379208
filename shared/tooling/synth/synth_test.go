package synth

import (
	"math"
	"strings"
	"testing"

	"github.com/claimrisk/claimrisk/shared/schema"
)

func TestGenerateIsReproducibleAndValid(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Policies = 2000
	a, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(cfg)
	if err := a.Validate(); err != nil {
		t.Fatalf("generated data is invalid: %v", err)
	}
	_, ma, _ := a.Encode("x")
	_, mb, _ := b.Encode("x")
	if ma.Fingerprint != mb.Fingerprint {
		t.Fatal("the same seed gave different data")
	}
	cfg.Seed = 43
	c, _ := Generate(cfg)
	_, mc, _ := c.Encode("x")
	if mc.Fingerprint == ma.Fingerprint {
		t.Fatal("another seed gave the same data")
	}
	if len(a.Policies) != 2000 || len(a.Accidents) != len(schema.Areas)*12*5 {
		t.Errorf("got %d policies and %d accident rows; want 2000 and %d", len(a.Policies), len(a.Accidents), len(schema.Areas)*60)
	}
}

func TestClaimRateAndSexBalance(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Policies = 20000
	d, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	claimed := map[string]bool{}
	for _, c := range d.Claims {
		claimed[c.PolicyID] = true
	}
	rate := float64(len(claimed)) / float64(len(d.Policies))
	// An auto book's claim frequency: the world is tuned to about one in nine.
	if rate < 0.07 || rate > 0.16 {
		t.Errorf("share of policies with a claim = %.3f, want between 0.07 and 0.16", rate)
	}
	f := 0
	for _, c := range d.Customers {
		if c.Sex == "F" {
			f++
		}
	}
	if share := float64(f) / float64(len(d.Customers)); math.Abs(share-0.5) > 0.03 {
		t.Errorf("share of women = %.3f, want about 0.5", share)
	}
}

func TestWorldFromAccidentTable(t *testing.T) {
	t.Parallel()
	synthetic := NewWorld(42)
	cfg := DefaultConfig()
	cfg.Policies = 1000
	base, _ := Generate(cfg)

	// A table where district 1 has ten times the crashes drives its claims.
	rows := append([]schema.AccidentMonth(nil), base.Accidents...)
	for i := range rows {
		if rows[i].Area == 1 {
			rows[i].Crashes *= 10
		}
	}
	w, err := NewWorldFromAccidents(42, rows)
	if err != nil {
		t.Fatal(err)
	}
	at := rows[len(rows)-1].Month.Time()
	if got, was := w.TrueRate(1, at), synthetic.TrueRate(1, at); got < 5*was {
		t.Errorf("district 1's rate from the table = %.1f, the synthetic world's %.1f; want the table's tenfold crashes to show", got, was)
	}
	cfg.Accidents = rows[:len(rows)/2]
	if _, err := Generate(cfg); err == nil || !strings.Contains(err.Error(), "the accident table covers") {
		t.Errorf("Generate with a short table = %v, want an error about its coverage", err)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	bad := []Config{
		{Seed: 1, Policies: 10, FirstYear: 2021, LastYear: 2024},
		{Seed: 1, Policies: 1000, FirstYear: 2024, LastYear: 2024},
		{Seed: 1, Policies: 1000, FirstYear: 1990, LastYear: 2024},
	}
	for _, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
}
