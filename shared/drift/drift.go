package drift

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

var (
	// ErrEmptyColumn is returned for a column with no values left after
	// NaN and ±Inf are dropped; Evidently raises ValueError for it.
	ErrEmptyColumn = errors.New("drift: empty column")
	// ErrUnknownTest is returned for a Test that is not one of the
	// package's constants.
	ErrUnknownTest = errors.New("drift: unknown test")
	// ErrTestKind is returned for a test that cannot run on a column kind:
	// ks and wasserstein need numbers.
	ErrTestKind = errors.New("drift: test does not apply to column kind")
	// ErrBinning is returned when the Sturges bins of a numeric column are
	// not distinct floats; numpy raises ValueError for it.
	ErrBinning = errors.New("drift: too many bins for data range")
	// ErrNoColumns is returned by DatasetDrift for an empty set of columns.
	ErrNoColumns = errors.New("drift: no columns")
)

// Kind is the type of a column as Evidently's data definition declares it.
type Kind int

// The column kinds the drift tests handle. Declare them explicitly on the
// Python side too: Evidently's inference turns an integer column with few
// values into a categorical one.
const (
	Numeric Kind = iota + 1
	Categorical
)

func (k Kind) String() string {
	switch k {
	case Numeric:
		return "numeric"
	case Categorical:
		return "categorical"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Test names a drift test by its name in Evidently's stattest registry.
type Test string

// The tests Evidently 0.7 chooses by default, and PSI.
const (
	KS            Test = "ks"
	ChiSquare     Test = "chisquare"
	Z             Test = "z"
	Wasserstein   Test = "wasserstein"
	JensenShannon Test = "jensenshannon"
	PSI           Test = "psi"
)

// testSpec is everything the package knows about one test. Adding a test
// takes a constant, an entry in specs, the statistic and its tests.
type testSpec struct {
	display   string  // Evidently's StatTest.display_name
	rule      Rule    // the comparison its stattest returns
	threshold float64 // Evidently's default_threshold
	kinds     []Kind  // the column kinds it runs on
	// score computes the test's score (a p-value, distance or index) on a
	// cleaned column.
	score func(column) (float64, error)
}

// specs holds every Test, keyed by its name in Evidently's stattest
// registry. Thresholds, comparisons and display names are from evidently
// 0.7.23 legacy/calculations/stattests/*.py.
var specs = map[Test]testSpec{
	KS: {
		display: "K-S p_value", rule: AtOrBelow, threshold: 0.05,
		kinds: []Kind{Numeric},
		score: func(c column) (float64, error) {
			_, p := ksPValueOf(c.ref, c.cur)
			return p, nil
		},
	},
	ChiSquare: {
		display: "chi-square p_value", rule: Below, threshold: 0.05,
		kinds: []Kind{Numeric, Categorical},
		score: func(c column) (float64, error) {
			_, p := ChiSquareTest(c.counts())
			return p, nil
		},
	},
	Z: {
		display: "Z-test p_value", rule: Below, threshold: 0.05,
		kinds: []Kind{Numeric, Categorical},
		score: func(c column) (float64, error) {
			_, p := ZTest(c.counts())
			return p, nil
		},
	},
	Wasserstein: {
		display: "Wasserstein distance (normed)", rule: AtOrAbove, threshold: 0.1,
		kinds: []Kind{Numeric},
		score: func(c column) (float64, error) {
			return normedWasserstein(c.ref, c.cur), nil
		},
	},
	JensenShannon: {
		display: "Jensen-Shannon distance", rule: AtOrAbove, threshold: 0.1,
		kinds: []Kind{Numeric, Categorical},
		score: func(c column) (float64, error) {
			rs, cs, err := c.shares()
			if err != nil {
				return 0, err
			}
			return JensenShannonDistance(rs, cs), nil
		},
	},
	PSI: {
		display: "PSI", rule: AtOrAbove, threshold: 0.1,
		kinds: []Kind{Numeric, Categorical},
		score: func(c column) (float64, error) {
			rs, cs, err := c.shares()
			if err != nil {
				return 0, err
			}
			return PopulationStabilityIndex(rs, cs), nil
		},
	},
}

// Threshold is the test's default threshold in Evidently, or NaN for a
// Test that is not one of the package's constants.
func (t Test) Threshold() float64 {
	if s, ok := specs[t]; ok {
		return s.threshold
	}
	return math.NaN()
}

// Rule is how the test's score is compared with its threshold, or 0 for a
// Test that is not one of the package's constants.
func (t Test) Rule() Rule {
	return specs[t].rule
}

// DisplayName is the name Evidently 0.7 reports for the test, for example
// as the resolved method of a ValueDrift metric.
func (t Test) DisplayName() string {
	if s, ok := specs[t]; ok {
		return s.display
	}
	return string(t)
}

// run computes t on a cleaned column. It returns ErrUnknownTest for a Test
// without an entry in specs and ErrTestKind for a column kind the test does
// not take.
func (t Test) run(c column) (Result, error) {
	s, ok := specs[t]
	if !ok {
		return Result{}, fmt.Errorf("drift: %v column: test %q: %w", c.kind, t, ErrUnknownTest)
	}
	if !slices.Contains(s.kinds, c.kind) {
		return Result{}, fmt.Errorf("drift: %v column: test %q: %w", c.kind, t, ErrTestKind)
	}
	score, err := s.score(c)
	if err != nil {
		return Result{}, err
	}
	return newResult(t, score), nil
}

// column is one cleaned pair of samples in the forms the statistics read.
type column struct {
	kind Kind
	// Numeric: the sorted, finite, non-empty samples.
	ref, cur []float64
	// Categorical: counts of each value over the union of values in byte
	// order, and the sample sizes.
	refCounts, curCounts []int
	nRef, nCur           int
}

// counts is the number of times each value occurs in each sample, over the
// union of values in ascending order.
func (c column) counts() (rc, cc []int) {
	if c.kind == Numeric {
		return numericCounts(c.ref, c.cur)
	}
	return c.refCounts, c.curCounts
}

// shares is Evidently's get_binned_data without the zero replacement (see
// binnedNumeric for numeric columns).
func (c column) shares() (rs, cs []float64, err error) {
	if c.kind == Numeric {
		return binnedNumeric(c.ref, c.cur)
	}
	return shares(c.refCounts, c.nRef), shares(c.curCounts, c.nCur), nil
}

// Rule says which side of the threshold means drift.
type Rule int

const (
	// Below: drift when score < threshold (chisquare and z p-values).
	Below Rule = iota + 1
	// AtOrBelow: drift when score <= threshold (the ks p-value).
	AtOrBelow
	// AtOrAbove: drift when score >= threshold (the distances and PSI).
	AtOrAbove
)

// Drifted applies the rule. A NaN score never drifts, as in Python.
func (r Rule) Drifted(score, threshold float64) bool {
	switch r {
	case Below:
		return score < threshold
	case AtOrBelow:
		return score <= threshold
	case AtOrAbove:
		return score >= threshold
	}
	panic(fmt.Sprintf("drift: unknown rule %d", int(r)))
}

// LowerDrifts reports whether a lower score means drift (p-values).
func (r Rule) LowerDrifts() bool { return r == Below || r == AtOrBelow }

var ruleNames = map[Rule]string{Below: "<", AtOrBelow: "<=", AtOrAbove: ">="}

func (r Rule) String() string {
	if s, ok := ruleNames[r]; ok {
		return s
	}
	return fmt.Sprintf("Rule(%d)", int(r))
}

// MarshalText encodes the rule as its comparison, "<", "<=" or ">=".
func (r Rule) MarshalText() ([]byte, error) {
	s, ok := ruleNames[r]
	if !ok {
		return nil, fmt.Errorf("drift: marshal unknown rule %d", int(r))
	}
	return []byte(s), nil
}

// UnmarshalText decodes "<", "<=" or ">=".
func (r *Rule) UnmarshalText(b []byte) error {
	for k, s := range ruleNames {
		if s == string(b) {
			*r = k
			return nil
		}
	}
	return fmt.Errorf("drift: unmarshal rule %q: want <, <= or >=", b)
}

// Result is the drift verdict for one column.
type Result struct {
	Test      Test    `json:"test"`
	Score     float64 `json:"score"` // p-value for ks, chisquare, z; distance or index otherwise
	Threshold float64 `json:"threshold"`
	Rule      Rule    `json:"rule"`
	Drifted   bool    `json:"drifted"`
}

func newResult(t Test, score float64) Result {
	thr, rule := t.Threshold(), t.Rule()
	return Result{Test: t, Score: score, Threshold: thr, Rule: rule, Drifted: rule.Drifted(score, thr)}
}

// Evidently's size boundaries in _get_default_stattest.
const (
	maxSmallReference = 1000 // reference rows up to this use p-value tests
	maxDiscreteValues = 5    // numeric columns with at most this many values count as discrete
	maxBinaryValues   = 2    // at most this many values use the z-test (small reference)
)

// ChooseTest is Evidently's default test for a column (get_stattest with no
// stattest given, legacy/calculations/stattests/registry.py):
// refRows is the number of reference rows and nUnique the number of distinct
// values in the reference and current samples combined, both after NaN and
// ±Inf are dropped.
//
//	reference rows  kind         distinct values  test
//	<= 1000         numeric      > 5              ks
//	<= 1000         numeric      3..5             chisquare
//	<= 1000         categorical  > 2              chisquare
//	<= 1000         either       <= 2             z
//	> 1000          numeric      > 5              wasserstein
//	> 1000          numeric      <= 5             jensenshannon
//	> 1000          categorical  any              jensenshannon
//
// ChooseTest panics on an unknown kind.
func ChooseTest(refRows int, kind Kind, nUnique int) Test {
	switch kind {
	case Numeric:
		if refRows <= maxSmallReference {
			switch {
			case nUnique > maxDiscreteValues:
				return KS
			case nUnique > maxBinaryValues:
				return ChiSquare
			}
			return Z
		}
		if nUnique > maxDiscreteValues {
			return Wasserstein
		}
		return JensenShannon
	case Categorical:
		if refRows <= maxSmallReference {
			if nUnique > maxBinaryValues {
				return ChiSquare
			}
			return Z
		}
		return JensenShannon
	}
	panic(fmt.Sprintf("drift: ChooseTest: unknown kind %v", kind))
}

// NumericColumn runs Evidently's default drift test on a numeric column.
// NaN and ±Inf are dropped from each sample first; the arguments are not
// modified. It returns ErrEmptyColumn if either sample is then empty.
//
// It copies both samples and sorts the copies with a radix sort; all of it
// is linear in the number of rows, except the ks p-value (see
// KolmogorovSmirnov), which Evidently uses only for references of at most
// 1000 rows.
func NumericColumn(ref, cur []float64) (Result, error) {
	r, c, err := numericSamples(ref, cur)
	if err != nil {
		return Result{}, err
	}
	t := ChooseTest(len(r), Numeric, countDistinctUnion(r, c))
	return t.run(column{kind: Numeric, ref: r, cur: c})
}

// NumericColumnWith runs test t, rather than the default, on a numeric
// column, as Evidently does when a method is given. NaN and ±Inf are dropped
// first. Values are counted per distinct value for chisquare and z; for
// jensenshannon and psi they are binned as Evidently's get_binned_data does,
// by a Sturges histogram over both samples when the reference has more than
// 20 distinct values (with numpy's float rules: see SturgesEdges).
func NumericColumnWith(t Test, ref, cur []float64) (Result, error) {
	if _, ok := specs[t]; !ok {
		return Result{}, fmt.Errorf("drift: numeric column: test %q: %w", t, ErrUnknownTest)
	}
	r, c, err := numericSamples(ref, cur)
	if err != nil {
		return Result{}, err
	}
	return t.run(column{kind: Numeric, ref: r, cur: c})
}

// numericSamples returns sorted copies of ref and cur without NaN and ±Inf.
func numericSamples(ref, cur []float64) (r, c []float64, err error) {
	r, c = finiteSortedPair(ref, cur)
	if len(r) == 0 {
		return nil, nil, fmt.Errorf("drift: reference sample has no finite values: %w", ErrEmptyColumn)
	}
	if len(c) == 0 {
		return nil, nil, fmt.Errorf("drift: current sample has no finite values: %w", ErrEmptyColumn)
	}
	return r, c, nil
}

func ksPValueOf(r, c []float64) (d, p float64) {
	return ksPValue(len(r), len(c), ksStatistic(r, c))
}

// CategoricalColumn runs Evidently's default drift test on a categorical
// column. Values are compared as strings, so format codes the way the
// Python side's values print (district 18 as "18"). Every string is a value;
// drop missing values before the call. It returns ErrEmptyColumn if either
// sample is empty.
func CategoricalColumn(ref, cur []string) (Result, error) {
	return CategoricalCounts(valueCounts(ref), valueCounts(cur))
}

// CategoricalColumnWith runs test t, rather than the default, on a
// categorical column. The z-test codes the first value in byte order as 0:
// for more than two values that can differ from Python's order of the
// original (say integer) values.
func CategoricalColumnWith(t Test, ref, cur []string) (Result, error) {
	if _, ok := specs[t]; !ok {
		return Result{}, fmt.Errorf("drift: categorical column: test %q: %w", t, ErrUnknownTest)
	}
	c, err := categoricalColumn(valueCounts(ref), valueCounts(cur))
	if err != nil {
		return Result{}, err
	}
	return t.run(c)
}

// CategoricalCounts is CategoricalColumn on a column given as the number
// of rows of each value in the reference and in the current sample, for a
// caller that holds its columns as codes.
func CategoricalCounts(ref, cur map[string]int) (Result, error) {
	c, err := categoricalColumn(ref, cur)
	if err != nil {
		return Result{}, err
	}
	return ChooseTest(c.nRef, Categorical, len(c.refCounts)).run(c)
}

// valueCounts is how many times each value stands in sample.
func valueCounts(sample []string) map[string]int {
	m := map[string]int{}
	for _, v := range sample {
		m[v]++
	}
	return m
}

// categoricalColumn lays out the counts of ref and cur over the union of
// their values in ascending byte order. It returns ErrEmptyColumn if
// either sample is empty.
func categoricalColumn(ref, cur map[string]int) (column, error) {
	keys := make([]string, 0, len(ref)+len(cur))
	nRef, nCur := 0, 0
	for k, n := range ref {
		if n > 0 {
			keys, nRef = append(keys, k), nRef+n
		}
	}
	for k, n := range cur {
		if n > 0 && ref[k] <= 0 {
			keys = append(keys, k)
		}
		nCur += max(n, 0)
	}
	if err := checkSizes(nRef, nCur); err != nil {
		return column{}, err
	}
	slices.Sort(keys)
	rc, cc := make([]int, len(keys)), make([]int, len(keys))
	for i, k := range keys {
		rc[i], cc[i] = max(ref[k], 0), max(cur[k], 0)
	}
	return column{kind: Categorical, refCounts: rc, curCounts: cc, nRef: nRef, nCur: nCur}, nil
}

func checkSizes(ref, cur int) error {
	if ref == 0 {
		return fmt.Errorf("drift: reference sample is empty: %w", ErrEmptyColumn)
	}
	if cur == 0 {
		return fmt.Errorf("drift: current sample is empty: %w", ErrEmptyColumn)
	}
	return nil
}

// DefaultDriftShare is Evidently's drift_share: the dataset drifts when at
// least this share of its columns drift.
const DefaultDriftShare = 0.5

// Dataset is the dataset-level verdict over a set of columns.
type Dataset struct {
	Columns        int     `json:"columns"`
	DriftedColumns int     `json:"drifted_columns"`
	Share          float64 `json:"share"` // DriftedColumns / Columns
	Drifted        bool    `json:"drifted"`
}

// DatasetDrift is Evidently's get_dataset_drift: the dataset counts as
// drifted when the share of drifted columns is >= share (Evidently's
// default is DefaultDriftShare). It returns ErrNoColumns for no results.
func DatasetDrift(results []Result, share float64) (Dataset, error) {
	if len(results) == 0 {
		return Dataset{}, ErrNoColumns
	}
	d := Dataset{Columns: len(results)}
	for _, r := range results {
		if r.Drifted {
			d.DriftedColumns++
		}
	}
	d.Share = float64(d.DriftedColumns) / float64(d.Columns)
	d.Drifted = d.Share >= share
	return d, nil
}
