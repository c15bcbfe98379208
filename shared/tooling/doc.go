// Package tooling holds, in its subfolders, the packages that only the
// CLI, the tests and the benchmarks use: localrun (a local system of
// processes and broker), synth (seeded data), crashes (Chicago's crash
// data), testenv (test helpers), refdocs (the docs site's reference
// pages), batchscore (scoring a Parquet file of policies) and labcheck
// (what each workshop lab leaves behind). No function imports them;
// shared/fnspec's TestFunctionsImportNoTooling checks it. Everything a
// function runs is in the other folders of shared/.
package tooling
