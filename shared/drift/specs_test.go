package drift

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// declaredTests returns the value of every constant of type Test declared in
// the package's non-test files, read from the source so that a constant
// added without an entry in specs cannot go unnoticed.
func declaredTests(t *testing.T) map[Test]string {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	found := make(map[Test]string)
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Test" {
					continue
				}
				for i, n := range vs.Names {
					if i >= len(vs.Values) {
						t.Fatalf("%s: constant %s of type Test has no value of its own", fset.Position(n.Pos()), n.Name)
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("%s: constant %s of type Test is not a string literal", fset.Position(n.Pos()), n.Name)
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					found[Test(v)] = n.Name
				}
			}
		}
	}
	return found
}

func TestSpecsComplete(t *testing.T) {
	t.Parallel()
	declared := declaredTests(t)
	if len(declared) == 0 {
		t.Fatal("found no constants of type Test in the package source")
	}
	for test, name := range declared {
		t.Run(name, func(t *testing.T) {
			s, ok := specs[test]
			if !ok {
				t.Fatalf("constant %s (%q) has no entry in specs", name, test)
			}
			if s.display == "" {
				t.Error("no display name")
			}
			if _, ok := ruleNames[s.rule]; !ok {
				t.Errorf("rule = %v, want one of Below, AtOrBelow, AtOrAbove", s.rule)
			}
			if !(s.threshold > 0) || math.IsInf(s.threshold, 0) {
				t.Errorf("threshold = %v, want a finite value > 0", s.threshold)
			}
			if len(s.kinds) == 0 {
				t.Error("no column kinds")
			}
			for _, k := range s.kinds {
				if k != Numeric && k != Categorical {
					t.Errorf("kind %v is not Numeric or Categorical", k)
				}
			}
			if s.score == nil {
				t.Error("no score function")
			}
		})
	}
	for test := range specs {
		if _, ok := declared[test]; !ok {
			t.Errorf("specs has an entry %q that is not a declared constant", test)
		}
	}
}

// TestSpecsRun runs every test on a small column of each kind: it scores
// the kinds its entry lists and refuses the others with ErrTestKind.
func TestSpecsRun(t *testing.T) {
	t.Parallel()
	ref, cur := []float64{1, 2, 2, 3, 4}, []float64{2, 3, 3, 4, 5}
	refCat, curCat := []string{"a", "b", "b"}, []string{"a", "a", "b"}
	for test, s := range specs {
		t.Run(string(test), func(t *testing.T) {
			runs := map[Kind]func() (Result, error){
				Numeric:     func() (Result, error) { return NumericColumnWith(test, ref, cur) },
				Categorical: func() (Result, error) { return CategoricalColumnWith(test, refCat, curCat) },
			}
			for kind, run := range runs {
				got, err := run()
				if !slices.Contains(s.kinds, kind) {
					if !errors.Is(err, ErrTestKind) {
						t.Errorf("%v column: err = %v, want ErrTestKind", kind, err)
					}
					continue
				}
				if err != nil {
					t.Errorf("%v column: %v", kind, err)
					continue
				}
				want := newResult(test, got.Score)
				if got != want || math.IsNaN(got.Score) {
					t.Errorf("%v column: result = %+v, want %+v with a score", kind, got, want)
				}
			}
		})
	}
}
