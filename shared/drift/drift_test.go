package drift

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"
)

func TestChooseTest(t *testing.T) {
	t.Parallel()
	// Every want is the .name of evidently 0.7.23
	// legacy.calculations.stattests.registry._get_default_stattest(ref, cur,
	// kind) for series with that many reference rows and distinct values in
	// reference and current together.
	tests := []struct {
		refRows int
		kind    Kind
		nUnique int
		want    Test
	}{
		{1, Numeric, 1, Z},
		{1, Numeric, 2, Z},
		{1, Categorical, 1, Z},
		{1, Categorical, 2, Z},
		{1000, Numeric, 1, Z},
		{1000, Numeric, 2, Z},
		{1000, Numeric, 3, ChiSquare},
		{1000, Numeric, 5, ChiSquare},
		{1000, Numeric, 6, KS},
		{1000, Numeric, 40, KS},
		{1000, Categorical, 1, Z},
		{1000, Categorical, 2, Z},
		{1000, Categorical, 3, ChiSquare},
		{1000, Categorical, 5, ChiSquare},
		{1000, Categorical, 6, ChiSquare},
		{1000, Categorical, 40, ChiSquare},
		{1001, Numeric, 1, JensenShannon},
		{1001, Numeric, 2, JensenShannon},
		{1001, Numeric, 3, JensenShannon},
		{1001, Numeric, 5, JensenShannon},
		{1001, Numeric, 6, Wasserstein},
		{1001, Numeric, 40, Wasserstein},
		{1001, Categorical, 1, JensenShannon},
		{1001, Categorical, 2, JensenShannon},
		{1001, Categorical, 3, JensenShannon},
		{1001, Categorical, 5, JensenShannon},
		{1001, Categorical, 6, JensenShannon},
		{1001, Categorical, 40, JensenShannon},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %v %d", tt.refRows, tt.kind, tt.nUnique), func(t *testing.T) {
			if got := ChooseTest(tt.refRows, tt.kind, tt.nUnique); got != tt.want {
				t.Errorf("ChooseTest(%d, %v, %d) = %q, want %q", tt.refRows, tt.kind, tt.nUnique, got, tt.want)
			}
		})
	}
}

func TestTestDefaults(t *testing.T) {
	t.Parallel()
	// Thresholds and comparisons from evidently 0.7.23
	// legacy/calculations/stattests/*.py (default_threshold, and the
	// comparison each _*_stat_test returns); display names are the
	// StatTest.display_name values.
	tests := []struct {
		test      Test
		threshold float64
		rule      Rule
		display   string
	}{
		{KS, 0.05, AtOrBelow, "K-S p_value"},
		{ChiSquare, 0.05, Below, "chi-square p_value"},
		{Z, 0.05, Below, "Z-test p_value"},
		{Wasserstein, 0.1, AtOrAbove, "Wasserstein distance (normed)"},
		{JensenShannon, 0.1, AtOrAbove, "Jensen-Shannon distance"},
		{PSI, 0.1, AtOrAbove, "PSI"},
	}
	for _, tt := range tests {
		t.Run(string(tt.test), func(t *testing.T) {
			if tt.test.Threshold() != tt.threshold || tt.test.Rule() != tt.rule || tt.test.DisplayName() != tt.display {
				t.Errorf("threshold, rule, display = %v, %v, %q; want %v, %v, %q",
					tt.test.Threshold(), tt.test.Rule(), tt.test.DisplayName(), tt.threshold, tt.rule, tt.display)
			}
		})
	}
	// At the threshold itself ks drifts and chisquare does not.
	if !newResult(KS, 0.05).Drifted || newResult(ChiSquare, 0.05).Drifted || !newResult(Wasserstein, 0.1).Drifted {
		t.Error("threshold comparisons differ from Evidently's <=, < and >=")
	}
	if newResult(KS, math.NaN()).Drifted || newResult(JensenShannon, math.NaN()).Drifted {
		t.Error("a NaN score drifted; in Python NaN <= t and NaN >= t are false")
	}
}

// evidentlyCase is one column run through evidently 0.7.23's
// Report([ValueDrift(column="x")]) with the column declared numerical or
// categorical in the DataDefinition; score is the metric value and method
// its resolved method.
type evidentlyCase struct {
	ref, cur string
	test     Test
	score    float64
	drifted  bool
}

func TestNumericColumn(t *testing.T) {
	t.Parallel()
	// score and test: evidently 0.7.23 ValueDrift on the generated inputs
	// named, declared numerical; drifted follows from the test's rule.
	tests := []evidentlyCase{
		{"col-ks-ref", "col-ks-cur", KS, 0.19948077482642487, false},              // NaN and ±Inf dropped
		{"col-chi-ref", "col-chi-cur", ChiSquare, 3.685930396344767e-27, true},    // 4 values
		{"col-chi-ref", "col-chinew-cur", ChiSquare, 0, true},                     // value 5 is new
		{"col-chi-ref", "col-chi-ref", ChiSquare, 1, false},                       // identical
		{"col-z-ref", "col-z-cur", Z, 0.0008281420184508281, true},                // 0/1 with gaps
		{"col-z-cur", "col-z-cur", Z, 1, false},                                   // identical
		{"col-wass-ref", "col-wass-cur", Wasserstein, 0.07411790621093335, false}, // gaps
		{"col-js-ref", "col-js-cur", JensenShannon, 0.1042781186489678, true},     // 4 values, 5000 rows
		{"col-js-ref", "col-js-ref", JensenShannon, 0, false},                     // identical
		{"ks-exact-ref", "ks-exact-cur", KS, 0.00015194380412582718, true},        // exact p
		{"ks-ties-ref", "ks-ties-cur", KS, 0.7593695685682871, false},             // exact p, ties
		{"ks-edge-ref", "ks-edge-cur10001", KS, 0.15822460598588362, false},       // asymptotic p
		{"ks-small-ref", "ks-small-cur", KS, 0.002842748841946019, true},          // asymptotic p, 50 rows
		{"wass-ref", "wass-cur", Wasserstein, 0.20342937641160494, true},          // ties
		{"hist-ref", "hist-cur", Wasserstein, 0.10681209308662659, true},          // just over 0.1
		{"few-ref", "few-cur", Wasserstein, 0.22943263366213146, true},            // integers
		{"large-ref", "large-cur", Wasserstein, 0.003304178806999879, false},      // 100k vs 1M
	}
	for _, tt := range tests {
		t.Run(tt.ref+"/"+tt.cur, func(t *testing.T) {
			if testing.Short() && tt.ref == "large-ref" {
				t.Skip("1.1M values")
			}
			ref, cur := numericInputs[tt.ref](), numericInputs[tt.cur]()
			got, err := NumericColumn(ref, cur)
			if err != nil {
				t.Fatalf("NumericColumn: %v", err)
			}
			checkResult(t, got, tt)
		})
	}
}

func TestCategoricalColumn(t *testing.T) {
	t.Parallel()
	// score and test: evidently 0.7.23 ValueDrift on the generated inputs
	// named, declared categorical.
	tests := []evidentlyCase{
		{"cat-chi-ref", "cat-chi-cur", ChiSquare, 3.989992991417719e-07, true},
		{"cat-chi-ref", "cat-new-cur", ChiSquare, 0, true},
		{"cat-z-ref", "cat-z-cur", Z, 0.036230137188990374, true},
		{"cat-js-ref", "cat-js-cur", JensenShannon, 0.05326550275868815, false},
		{"large-cat-ref", "large-cat-cur", JensenShannon, 0.005220676225558123, false},
	}
	for _, tt := range tests {
		t.Run(tt.ref+"/"+tt.cur, func(t *testing.T) {
			ref, cur := categoricalInputs[tt.ref](), categoricalInputs[tt.cur]()
			got, err := CategoricalColumn(ref, cur)
			if err != nil {
				t.Fatalf("CategoricalColumn: %v", err)
			}
			checkResult(t, got, tt)
			// The same column as counts per value.
			got, err = CategoricalCounts(valueCounts(ref), valueCounts(cur))
			if err != nil {
				t.Fatalf("CategoricalCounts: %v", err)
			}
			checkResult(t, got, tt)
		})
	}
	if _, err := CategoricalCounts(map[string]int{"a": 0}, map[string]int{"a": 3}); !errors.Is(err, ErrEmptyColumn) {
		t.Errorf("CategoricalCounts with no reference rows: err = %v, want ErrEmptyColumn", err)
	}
}

func checkResult(t *testing.T, got Result, want evidentlyCase) {
	t.Helper()
	if got.Test != want.test {
		t.Fatalf("test = %q, want %q", got.Test, want.test)
	}
	if !near(got.Score, want.score, 1e-11) {
		t.Errorf("score = %v, want %v", got.Score, want.score)
	}
	if got.Drifted != want.drifted {
		t.Errorf("drifted = %v, want %v (score %v)", got.Drifted, want.drifted, got.Score)
	}
	if got.Threshold != want.test.Threshold() || got.Rule != want.test.Rule() {
		t.Errorf("threshold, rule = %v, %v; want %v, %v", got.Threshold, got.Rule, want.test.Threshold(), want.test.Rule())
	}
}

func TestColumnWith(t *testing.T) {
	t.Parallel()
	// Every want is the evidently 0.7.23 _jensenshannon or _psi score on the
	// generated inputs named: hist-ref has 3000 distinct values, so it is
	// binned by a Sturges histogram; few-ref has 15 and col-js-ref 4, so
	// they are counted per value.
	numeric := []struct {
		ref, cur string
		test     Test
		want     float64
	}{
		{"hist-ref", "hist-cur", JensenShannon, 0.053819155840195074},
		{"hist-ref", "hist-cur", PSI, 0.023487236752838023},
		{"few-ref", "few-cur", JensenShannon, 0.08619850187970621},
		{"few-ref", "few-cur", PSI, 0.060632267056984795},
		{"col-js-ref", "col-js-cur", JensenShannon, 0.1042781186489678},
		{"col-js-ref", "col-js-cur", PSI, 0.08827180453567228},
		// evidently 0.7.23 _chi_stat_test through ValueDrift (above).
		{"col-chi-ref", "col-chi-cur", ChiSquare, 3.685930396344767e-27},
		// scipy 1.17.1 ks_2samp (exact, 5000 vs 8000) on a column for which
		// Evidently would choose wasserstein.
		{"wass-ref", "wass-cur", KS, 3.5836323607195755e-20},
	}
	for _, tt := range numeric {
		t.Run(tt.ref+"/"+string(tt.test), func(t *testing.T) {
			got, err := NumericColumnWith(tt.test, numericInputs[tt.ref](), numericInputs[tt.cur]())
			if err != nil {
				t.Fatalf("NumericColumnWith: %v", err)
			}
			if got.Test != tt.test || !near(got.Score, tt.want, 1e-12) {
				t.Errorf("test, score = %q, %v; want %q, %v", got.Test, got.Score, tt.test, tt.want)
			}
		})
	}
	categorical := []struct {
		ref, cur string
		test     Test
		want     float64
	}{
		// evidently 0.7.23 _psi and _jensenshannon on the named inputs.
		{"cat-js-ref", "cat-js-cur", PSI, 0.02294895761486675},
		{"cat-chi-ref", "cat-new-cur", JensenShannon, 0.04350383900285882},
		{"cat-chi-ref", "cat-new-cur", PSI, 0.017245762762924045},
	}
	for _, tt := range categorical {
		t.Run(tt.ref+"/"+string(tt.test), func(t *testing.T) {
			got, err := CategoricalColumnWith(tt.test, categoricalInputs[tt.ref](), categoricalInputs[tt.cur]())
			if err != nil {
				t.Fatalf("CategoricalColumnWith: %v", err)
			}
			if got.Test != tt.test || !near(got.Score, tt.want, 1e-12) {
				t.Errorf("test, score = %q, %v; want %q, %v", got.Test, got.Score, tt.test, tt.want)
			}
		})
	}
}

func TestColumnErrors(t *testing.T) {
	t.Parallel()
	gaps := []float64{math.NaN(), math.Inf(1), math.Inf(-1)}
	tests := []struct {
		name string
		run  func() (Result, error)
		want error
	}{
		{"numeric reference all NaN and Inf", func() (Result, error) { return NumericColumn(gaps, []float64{1}) }, ErrEmptyColumn},
		{"numeric current empty", func() (Result, error) { return NumericColumn([]float64{1}, nil) }, ErrEmptyColumn},
		{"categorical reference empty", func() (Result, error) { return CategoricalColumn(nil, []string{"a"}) }, ErrEmptyColumn},
		{"categorical current empty", func() (Result, error) { return CategoricalColumn([]string{"a"}, nil) }, ErrEmptyColumn},
		{"ks on categorical", func() (Result, error) { return CategoricalColumnWith(KS, []string{"a"}, []string{"b"}) }, ErrTestKind},
		{"wasserstein on categorical", func() (Result, error) { return CategoricalColumnWith(Wasserstein, []string{"a"}, []string{"b"}) }, ErrTestKind},
		{"unknown numeric test", func() (Result, error) { return NumericColumnWith("anderson", []float64{1}, []float64{2}) }, ErrUnknownTest},
		{"unknown categorical test", func() (Result, error) { return CategoricalColumnWith("g", []string{"a"}, []string{"b"}) }, ErrUnknownTest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.run()
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNumericColumnKeepsInput(t *testing.T) {
	t.Parallel()
	ref := []float64{3, math.NaN(), 1, 2}
	if _, err := NumericColumn(ref, []float64{2, 1}); err != nil {
		t.Fatal(err)
	}
	if ref[0] != 3 || !math.IsNaN(ref[1]) || ref[2] != 1 {
		t.Errorf("NumericColumn modified its argument: %v", ref)
	}
}

func TestDatasetDrift(t *testing.T) {
	t.Parallel()
	yes, no := Result{Drifted: true}, Result{}
	// evidently 0.7.23 get_dataset_drift: share = drifted / columns,
	// drifted when share >= drift_share.
	tests := []struct {
		name    string
		results []Result
		share   float64
		want    Dataset
	}{
		{"half drifted counts", []Result{yes, no}, DefaultDriftShare, Dataset{2, 1, 0.5, true}},
		{"a third does not", []Result{yes, no, no}, DefaultDriftShare, Dataset{3, 1, 1.0 / 3, false}},
		{"none", []Result{no}, DefaultDriftShare, Dataset{1, 0, 0, false}},
		{"share 0 always drifts", []Result{no}, 0, Dataset{1, 0, 0, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DatasetDrift(tt.results, tt.share)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("DatasetDrift = %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, err := DatasetDrift(nil, DefaultDriftShare); !errors.Is(err, ErrNoColumns) {
		t.Errorf("DatasetDrift(nil) err = %v, want ErrNoColumns", err)
	}
}

func TestResultJSON(t *testing.T) {
	t.Parallel()
	r := newResult(KS, 0.01)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"test":"ks","score":0.01,"threshold":0.05,"rule":"\u003c=","drifted":true}`
	if string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != r {
		t.Errorf("round trip = %+v, want %+v", back, r)
	}
}
