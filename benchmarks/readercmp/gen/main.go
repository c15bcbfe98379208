// Command gen writes the files readercmp reads, with the project's
// writers, into the current directory: a 1M-policy portfolio's policies and
// customers tables, its policy records in row groups of 131,072 (as the
// scoring benchmark writes them), and one 5,000-row payload-log object.
package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/synth"
)

func main() {
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Policies = 43, 1_000_000
	d, err := synth.Generate(cfg)
	if err != nil {
		panic(err)
	}
	objs, _, err := d.Encode("x")
	if err != nil {
		panic(err)
	}
	os.WriteFile("policies.parquet", objs[dataset.PoliciesObject], 0o644)
	os.WriteFile("customers.parquet", objs[dataset.CustomersObject], 0o644)
	cust := map[string]schema.Customer{}
	for _, c := range d.Customers {
		cust[c.CustomerID] = c
	}
	recs := make([]schema.PolicyRecord, len(d.Policies))
	for i, p := range d.Policies {
		recs[i] = schema.RecordFor(cust[p.CustomerID], p)
	}
	f, _ := os.Create("records.parquet")
	w := parquetio.NewWriter[schema.PolicyRecord](f)
	for lo := 0; lo < len(recs); lo += 128 * 1024 {
		w.Write(recs[lo:min(lo+128*1024, len(recs))])
		w.Flush()
	}
	w.Close()
	f.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	t0 := time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)
	rows := make([]predlog.Row, 5000)
	for i := range rows {
		p := rng.Float64() / 3
		rows[i] = predlog.Row{Time: t0.Add(time.Duration(i) * 3 * time.Millisecond), RequestID: fmt.Sprintf("req-%016x", i), ModelVersion: 1,
			PolicyRecord: recs[i], CrashRate: rng.Float64() * 5, InjuryShare: rng.Float64(), Probability: p, Band: []string{"low", "medium", "high"}[rng.IntN(3)]}
	}
	data, _ := parquetio.Encode(rows)
	os.WriteFile("window-object.parquet", data, 0o644)
}
