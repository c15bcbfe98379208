package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimrisk/claimrisk/shared/parquetio"
)

// Rows reads every row of the Parquet files under prefix in a file://
// bucket's directory: a payload log's predictions or feedback.
func Rows[T any](t testing.TB, dir, prefix string) []T {
	t.Helper()
	var rows []T
	root := filepath.Join(dir, filepath.FromSlash(prefix))
	filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := parquetio.Decode[T](data)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, r...)
		return nil
	})
	return rows
}
