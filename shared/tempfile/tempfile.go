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
)

// Beside creates a new, empty temporary file in target's directory, named
// after target and hidden (".name.<random>.tmp"), with the mode os.Create
// gives. The caller writes it, then renames or links it to target, or
// removes it.
func Beside(target string) (*os.File, error) {
	dir, base := filepath.Split(target)
	for range 10 {
		name := filepath.Join(dir, "."+base+"."+rand.Text()[:10]+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("tempfile: no free temporary name beside %s", target)
}

// WriteFile writes data to path through a temporary file beside it and a
// rename, so a reader sees the old file or the new one, never a part, and
// two writers at once each write a file of their own: the last rename wins.
// The file gets the mode os.Create gives; the temporary file is removed on
// every failure.
func WriteFile(path string, data []byte) error {
	f, err := Beside(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
