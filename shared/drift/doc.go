// Package drift provides the statistical tests that decide whether a column
// of current data has drifted from its reference, as pure functions that
// agree with Evidently 0.7.23's default per-column drift detection. The Go
// drift function and the Python Evidently job must reach the same verdict for
// every column; this package is the Go half of that contract, so every rule
// below is taken from Evidently's source (evidently/legacy/calculations/
// stattests/*.py and legacy/calculations/data_drift.py, still used by the 0.7
// API) and from the scipy 1.17 and numpy 2.4 code it calls, and the tests pin
// the results to numbers computed by those libraries.
//
// # Entry points
//
// NumericColumn and CategoricalColumn run Evidently's default test on one
// column and return a Result: the test's registry name ("ks", "chisquare",
// "z", "wasserstein", "jensenshannon"), the score, the threshold, the Rule
// comparing them, and the verdict. NumericColumnWith and
// CategoricalColumnWith run a named test instead, including "psi".
// DatasetDrift turns column verdicts into the dataset verdict. Each test is
// also a function of its own, on sorted samples or on counts, and Quantile7
// is numpy's default quantile, which gonum's stat.Quantile does not offer.
//
// Everything the package knows about a test (its name, display name, rule,
// threshold, the column kinds it takes and the function that scores it) is
// one entry of the table in drift.go; adding a test takes a constant, that
// entry, its statistic and their tests.
//
// # Rules, and where they come from
//
// Cleaning (data_drift.get_one_column_drift): ±Inf become NaN and NaN rows
// are dropped from each sample; an empty sample is an error (ErrEmptyColumn).
//
// Choice of test (stattests/registry._get_default_stattest): n_values is the
// number of distinct values of reference and current together, after
// cleaning; the reference size is its row count after cleaning. With at
// most 1000 reference rows: numeric with n_values > 5 gets ks; numeric with
// 3..5, or categorical with more than 2, gets chisquare; at most 2 gets z.
// With more than 1000: numeric with n_values > 5 gets wasserstein, anything
// else jensenshannon. See ChooseTest.
//
// Verdicts (each stattest's default_threshold and comparison): ks drifts
// when p <= 0.05, chisquare and z when p < 0.05, wasserstein,
// jensenshannon and psi when the score >= 0.1. The dataset drifts when the
// share of drifted columns is >= drift_share, 0.5 by default
// (data_drift.get_dataset_drift; DriftedColumnsCount's default test fails on
// the same condition).
//
//   - ks (ks_stattest.py): scipy.stats.ks_2samp two-sided p-value with
//     method="auto", exact lattice-path counts when both samples have at most
//     10000 values, otherwise kstwo.sf at the effective size; see
//     KolmogorovSmirnov.
//   - chisquare (chisquare_stattest.py): expected counts are reference counts
//     times n_cur/n_ref over the union of values; a value absent from the
//     reference makes p = 0. See ChiSquareTest.
//   - z (z_stattest.py): two-proportion z-test with the smallest value coded
//     0; p = 1 when both samples hold the same single value. See ZTest.
//   - wasserstein (wasserstein_distance_norm.py): scipy's
//     wasserstein_distance over max(np.std(ref), 0.001). See
//     NormedWasserstein.
//   - jensenshannon (jensenshannon.py): scipy's jensenshannon (natural log)
//     of binned shares, zeros kept. See JensenShannonDistance.
//   - psi (psi.py): PSI of binned shares after zero replacement. See
//     PopulationStabilityIndex.
//   - Binning (utils.get_binned_data): a numeric column with more than 20
//     distinct reference values is binned by numpy's Sturges edges over both
//     samples (SturgesEdges), the last bin closed; any other column by value,
//     over the union of values. Shares are counts over the sample length.
//
// # Where the Go side can still differ from the Python job
//
//   - Evidently's dataset-level metrics (DriftedColumnsCount, hence
//     DataDriftPreset's count, and the legacy DataDriftTable) clean a column
//     only if it contains a NaN: a column with ±Inf but no NaN keeps its
//     infinities, and wasserstein then scores NaN (never drifted). ValueDrift
//     and this package always drop them. Replace infinities by NaN before the
//     Evidently job to make both agree.
//   - Declare column kinds explicitly on the Python side; Evidently's
//     inference turns integer columns with few values into categorical ones.
//   - Categorical values are compared as strings. The z-test's coding and the
//     order of summation follow byte order, not Python's order of the
//     original values; neither changes a verdict for the two-valued columns
//     Evidently gives the z-test.
//   - numpy widens Sturges bins to width 1 for integer-dtype arrays;
//     NumericColumnWith bins as for float64 columns (the default tests never
//     bin numeric columns).
//   - Scores agree with scipy to about 1e-11 relative or better (sums run in
//     a different order); a verdict can differ only for a score within that
//     distance of its threshold.
//
// # Cost
//
// The numeric entry points copy and radix-sort the samples once; the
// wasserstein, ks statistic, counting and binning passes are linear merges
// over sorted data, so a 1,000,000-row current sample against a 100,000-row
// reference costs a fraction of a second. gonum provides the chi-square
// distribution (distuv.ChiSquared) and the population standard deviation
// (stat.PopStdDev); its stat.WassersteinDistance is quadratic and its
// stat.Histogram panics on a value equal to the last divider, so the package
// has its own merges. The exact ks p-value follows scipy and costs up to
// O(n1·n2) for samples of up to 10000 values, and the asymptotic one O(n)
// when the p-value is below about 0.025; Evidently uses ks only with
// references of at most 1000 rows.
package drift
