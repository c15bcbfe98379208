package tempfile

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
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

// Two writers of one file at once each finish, and the file is one of
// theirs whole (a fixed temporary name let one truncate the other's, or
// rename it away so that the other's rename failed).
func TestWriteFileWithTwoWritersAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "manifest.json")
	payloads := make([][]byte, 4)
	for i := range payloads {
		payloads[i] = bytes.Repeat([]byte{byte('a' + i)}, 1<<20)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(payloads)*20)
	for _, p := range payloads {
		wg.Go(func() {
			for range 20 {
				if err := WriteFile(path, p); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(payloads, func(p []byte) bool { return bytes.Equal(p, got) }) {
		t.Errorf("the file (%d bytes) is none of the writers' payloads whole", len(got))
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want only the file", len(entries))
	}
}

// A failed write leaves neither a temporary file nor a changed target.
func TestWriteFileIntoAMissingDirectoryLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFile(filepath.Join(dir, "no", "such"), []byte("x")); err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
	target := filepath.Join(dir, "target")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(target, []byte("x")); err == nil {
		t.Fatal("replacing a directory with a file succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "target" || !entries[0].IsDir() {
		t.Errorf("the directory holds %v, want only the untouched target directory", entries)
	}
}

// A killed writer's temporary file (no lock: the kernel dropped it with the
// process) is removed; one still being written, in this process or
// another, is left; files that merely look alike are left.
func TestRemoveAbandonedTakesOnlyTheDeadWritersFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "scores[1].parquet")
	live, err := Beside(target)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	dead := killedWriter(t, target)
	other := filepath.Join(dir, ".scores.parquet.ABCDEFGHIJ.tmp")
	plain := filepath.Join(dir, "scores[1].parquet")
	for _, name := range []string{other, plain} {
		if err := os.WriteFile(name, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Just killed: left for the moment, as a new file whose writer has not
	// locked it yet would be.
	if n, err := RemoveAbandoned(target); err != nil || n != 0 {
		t.Fatalf("RemoveAbandoned = %d, %v; want a just-written file left", n, err)
	}
	old := time.Now().Add(-time.Minute)
	for _, name := range []string{live.Name(), dead, other, plain} {
		if err := os.Chtimes(name, old, old); err != nil {
			t.Fatal(err)
		}
	}
	n, err := RemoveAbandoned(target)
	if err != nil || n != 1 {
		t.Fatalf("RemoveAbandoned = %d, %v; want the one dead writer's file", n, err)
	}
	for name, want := range map[string]bool{live.Name(): true, dead: false, other: true, plain: true} {
		if _, err := os.Stat(name); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(name), err == nil, want)
		}
	}
	live.Close()
	os.Chtimes(live.Name(), old, old)
	if n, _ := RemoveAbandoned(target); n != 1 {
		t.Errorf("a temporary file closed without a rename was not taken as abandoned (%d removed)", n)
	}
}

// killedWriter runs this test binary as a writer that makes a temporary
// file beside target, kills it with SIGKILL while the file is open, and
// returns the file's name.
func killedWriter(t *testing.T, target string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestHelperWriter$")
	cmd.Env = append(os.Environ(), "TEMPFILE_HELPER_TARGET="+target)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	name, err := bufio.NewReader(stdout).ReadString('\n')
	cmd.Process.Kill()
	cmd.Wait()
	if err != nil {
		t.Fatalf("the writer said nothing: %v", err)
	}
	name = strings.TrimSpace(name)
	if _, err := os.Stat(name); err != nil {
		t.Fatalf("the killed writer's file is not there: %v", err)
	}
	return name
}

// TestHelperWriter is killedWriter's child: it makes the temporary file,
// prints its name and waits to be killed.
func TestHelperWriter(t *testing.T) {
	target := os.Getenv("TEMPFILE_HELPER_TARGET")
	if target == "" {
		return // run as a test of its own: nothing to do
	}
	f, err := Beside(target)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(f.Name())
	time.Sleep(time.Minute)
}
