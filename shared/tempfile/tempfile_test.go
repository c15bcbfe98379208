package tempfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBesideIsNewHiddenAndHasTheModeOfANewFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "scores.parquet")
	ref, err := os.Create(filepath.Join(dir, "ref"))
	if err != nil {
		t.Fatal(err)
	}
	ref.Close()
	want, _ := os.Stat(ref.Name())

	seen := map[string]bool{}
	for range 20 {
		f, err := Beside(target)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		name := filepath.Base(f.Name())
		if filepath.Dir(f.Name()) != dir || !strings.HasPrefix(name, ".scores.parquet.") || !strings.HasSuffix(name, ".tmp") || seen[name] {
			t.Fatalf("Beside(%s) made %s: want a new hidden file beside it", target, f.Name())
		}
		seen[name] = true
		st, err := os.Stat(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want.Mode().Perm() || st.Size() != 0 {
			t.Fatalf("%s: mode %v, %d bytes; want %v, as os.Create makes, and empty", name, st.Mode().Perm(), st.Size(), want.Mode().Perm())
		}
	}
}

func TestBesideInAMissingDirectoryFails(t *testing.T) {
	if f, err := Beside(filepath.Join(t.TempDir(), "gone", "x")); err == nil {
		f.Close()
		t.Fatal("Beside made a file in a directory that does not exist")
	}
}
