package drift

import "testing"

// The benchmarks run one column of 1,000,000 current rows against a 100,000
// row reference (1,000 for ks, which Evidently uses only for small
// references).

func BenchmarkNumericColumn1M(b *testing.B) {
	ref, cur := numericInputs["large-ref"](), numericInputs["large-cur"]()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NumericColumn(ref, cur); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNumericColumnKS1M(b *testing.B) {
	ref, cur := numericInputs["large-ref"]()[:1000], numericInputs["large-cur"]()
	b.ReportAllocs()
	for b.Loop() {
		if r, err := NumericColumn(ref, cur); err != nil || r.Test != KS {
			b.Fatal(r, err)
		}
	}
}

func BenchmarkNumericColumnPSI1M(b *testing.B) {
	ref, cur := numericInputs["large-ref"](), numericInputs["large-cur"]()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NumericColumnWith(PSI, ref, cur); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCategoricalColumn1M(b *testing.B) {
	ref, cur := categoricalInputs["large-cat-ref"](), categoricalInputs["large-cat-cur"]()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CategoricalColumn(ref, cur); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKolmogorovSmirnov1M(b *testing.B) {
	ref, cur := sorted(numericInputs["large-ref"]()), sorted(numericInputs["large-cur"]())
	b.ReportAllocs()
	for b.Loop() {
		KolmogorovSmirnov(ref, cur)
	}
}

func BenchmarkWassersteinDistance1M(b *testing.B) {
	ref, cur := sorted(numericInputs["large-ref"]()), sorted(numericInputs["large-cur"]())
	b.ReportAllocs()
	for b.Loop() {
		WassersteinDistance(ref, cur)
	}
}
