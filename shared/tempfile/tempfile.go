// Package tempfile creates the temporary file that is written and then
// renamed or linked into place, so that readers never see a partial file.
//
// os.CreateTemp makes such files 0600, and a rename keeps the mode: the
// finished file would be readable by its owner only, unlike every file
// os.Create or gocloud's fileblob makes. Beside creates it as they do,
// 0666 less the umask.
package tempfile

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Beside creates a new, empty temporary file in target's directory, named
// after target and hidden (".name.<random>.tmp"), with the mode os.Create
// gives. The caller writes it, then renames or links it to target, or
// removes it. The file is locked (flock) while it is open, so that
// RemoveAbandoned can tell it from one whose writer was killed; where
// RemoveAbandoned is used for target, rename the file before closing it.
func Beside(target string) (*os.File, error) {
	dir, base := filepath.Split(target)
	for range 10 {
		name := filepath.Join(dir, "."+base+"."+rand.Text()[:10]+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		// Where the file system has no flock, neither this lock nor
		// RemoveAbandoned's takes, and nothing is removed.
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		return f, nil
	}
	return nil, fmt.Errorf("tempfile: no free temporary name beside %s", target)
}

// RemoveAbandoned removes the temporary files Beside made for target whose
// writers are gone (killed before they could remove them: their lock went
// with them) and that were last written more than 10 s ago, and leaves
// those still being written. It returns how many it
// removed. A writer must therefore rename its file before closing it.
func RemoveAbandoned(target string) (int, error) {
	dir, base := filepath.Split(target)
	names, err := filepath.Glob(filepath.Join(dir, "."+globEscape(base)+".*.tmp"))
	if err != nil {
		return 0, fmt.Errorf("tempfile: %w", err)
	}
	removed := 0
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			continue // gone meanwhile, or not ours to read
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil && abandoned(f) && os.Remove(name) == nil {
			removed++
		}
		f.Close()
	}
	return removed, nil
}

// settle is how long an unlocked temporary file is left alone: Beside
// creates the file before it can lock it, so a new file may be unlocked
// for a moment while its writer lives.
const settle = 10 * time.Second

// abandoned reports whether an unlocked temporary file was last written
// longer than settle ago (a time in the future, from a clock far off, is
// not).
func abandoned(f *os.File) bool {
	st, err := f.Stat()
	if err != nil {
		return false
	}
	age := time.Since(st.ModTime())
	return age > settle
}

// globEscape quotes the characters filepath.Match treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// WriteFile writes data to path through a temporary file beside it and a
// rename, so a reader sees the old file or the new one, never a part, and
// two writers at once each write a file of their own: the last rename wins.
// The file gets the mode os.Create gives; the temporary file is removed on
// every failure, and those of writers killed earlier are removed first.
func WriteFile(path string, data []byte) error {
	if _, err := RemoveAbandoned(path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := Beside(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Renamed while still open, and so locked: a closed temporary file
	// looks abandoned to another writer's RemoveAbandoned.
	_, err = f.Write(data)
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
