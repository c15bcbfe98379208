package blobstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func buckets(t *testing.T) map[string]*Bucket {
	t.Helper()
	ctx := context.Background()
	out := map[string]*Bucket{}
	for name, url := range map[string]string{"mem": "mem://", "file": "file://" + t.TempDir()} {
		b, err := Open(ctx, url)
		if err != nil {
			t.Fatalf("Open(%s): %v", url, err)
		}
		t.Cleanup(func() { b.Close() })
		out[name] = b
	}
	return out
}

func TestCreateIsExclusiveUnderConcurrency(t *testing.T) {
	t.Parallel()
	for name, b := range buckets(t) {
		t.Run(name, func(t *testing.T) {
			var wins atomic.Int32
			var wg sync.WaitGroup
			for i := range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := b.Create(context.Background(), "versions/000001.json", []byte{byte(i)}, "application/json")
					switch {
					case err == nil:
						wins.Add(1)
					case !errors.Is(err, ErrExists):
						t.Errorf("Create: %v, want nil or ErrExists", err)
					}
				}()
			}
			wg.Wait()
			if got := wins.Load(); got != 1 {
				t.Fatalf("%d of 32 concurrent creates succeeded, want exactly 1", got)
			}
			keys, err := b.Keys(context.Background(), "versions/")
			if err != nil || len(keys) != 1 {
				t.Fatalf("Keys = %v, %v; want the one object and no temporary files", keys, err)
			}
		})
	}
}

func TestReadMissingIsNotFound(t *testing.T) {
	t.Parallel()
	for name, b := range buckets(t) {
		t.Run(name, func(t *testing.T) {
			_, err := b.Read(context.Background(), "no/such/object")
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("Read = %v, want ErrNotFound", err)
			}
		})
	}
}

// A file bucket whose directory is gone (a volume unmounted, a network
// file system away) is unavailable, which callers retry, not a bucket in
// which every object is missing, which they take as final.
func TestReadFromABucketThatIsGoneIsUnavailable(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "bucket")
	b, err := Open(context.Background(), "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Write(context.Background(), "runs/run-1/run.json", []byte("{}"), "application/json"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, dir+".away"); err != nil {
		t.Fatal(err)
	}
	_, err = b.Read(context.Background(), "runs/run-1/run.json")
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
		t.Fatalf("Read = %v; want ErrUnavailable", err)
	}
}

func TestJSONAndListing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, b := range buckets(t) {
		t.Run(name, func(t *testing.T) {
			for _, k := range []string{"runs/b/run.json", "runs/a/run.json", "runs/a/model.json", "other.json"} {
				if err := b.WriteJSON(ctx, k, map[string]string{"key": k}); err != nil {
					t.Fatal(err)
				}
			}
			var got map[string]string
			if err := b.ReadJSON(ctx, "runs/a/run.json", &got); err != nil || got["key"] != "runs/a/run.json" {
				t.Fatalf("ReadJSON = %v, %v", got, err)
			}
			dirs, err := b.Dirs(ctx, "runs/")
			if err != nil || strings.Join(dirs, ",") != "a,b" {
				t.Fatalf("Dirs = %v, %v; want [a b]", dirs, err)
			}
			keys, err := b.Keys(ctx, "runs/a/")
			if err != nil || strings.Join(keys, ",") != "runs/a/model.json,runs/a/run.json" {
				t.Fatalf("Keys = %v, %v", keys, err)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	abs, _ := filepath.Abs("rel/dir")
	tests := []struct{ in, want string }{
		{"rel/dir", "file://" + abs},
		{"/tmp/x", "file:///tmp/x"},
		{"s3://bucket/prefix", "s3://bucket/prefix"},
		{"mem://", "mem://"},
	}
	for _, tt := range tests {
		if got, err := Normalize(tt.in); err != nil || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := Normalize(""); err == nil {
		t.Error("Normalize(\"\") succeeded, want an error")
	}
}

func TestOpenUnknownScheme(t *testing.T) {
	t.Parallel()
	if _, err := Open(context.Background(), "ftp://example/bucket"); err == nil {
		t.Fatal("Open(ftp://...) succeeded, want an error")
	}
}

func TestSameBucket(t *testing.T) {
	t.Parallel()
	abs, _ := filepath.Abs("b")
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"s3://b", "s3://b?region=eu-west-1", true},
		{"s3://b/", "s3://b", true},
		{"s3://b", "s3://c", false},
		{"s3://b", "gs://b", false},
		{"b", "file://" + abs, true},
		{"file:///x/y", "file:///x/z", false},
	} {
		if got := SameBucket(tt.a, tt.b); got != tt.want {
			t.Errorf("SameBucket(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestWritePacedStoresTheBytes: a paced write of several chunks stores
// exactly the bytes given, with Write's attributes, on both local
// drivers; one whose context ends midway stores nothing.
func TestWritePacedStoresTheBytes(t *testing.T) {
	t.Parallel()
	data := make([]byte, 3*pacedChunk+123)
	for i := range data {
		data[i] = byte(i*7 + i/251)
	}
	for name, b := range buckets(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if err := b.WritePaced(ctx, "log/a.parquet", data, "application/vnd.apache.parquet", 100*time.Microsecond); err != nil {
				t.Fatal(err)
			}
			got, err := b.Read(ctx, "log/a.parquet")
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes (%v); want the %d written", len(got), err, len(data))
			}
			// The attributes are Write's (the file driver here keeps none).
			if err := b.Write(ctx, "log/w.parquet", data, "application/vnd.apache.parquet"); err != nil {
				t.Fatal(err)
			}
			paced, err1 := b.Attributes(ctx, "log/a.parquet")
			whole, err2 := b.Attributes(ctx, "log/w.parquet")
			if err1 != nil || err2 != nil || paced.ContentType != whole.ContentType || paced.Size != whole.Size {
				t.Fatalf("attributes %+v (%v), Write's %+v (%v)", paced, err1, whole, err2)
			}
			ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			err = b.WritePaced(ctx, "log/b.parquet", data, "application/vnd.apache.parquet", 40*time.Millisecond)
			if err == nil {
				t.Fatal("a paced write whose context ended midway succeeded")
			}
			if ok, _ := b.Exists(context.Background(), "log/b.parquet"); ok {
				t.Fatal("a paced write whose context ended midway left an object")
			}
		})
	}
}

// In a file:// bucket, an object made by Create gets the mode of one made
// by Write (gocloud's fileblob: 0666 less the umask), not a temporary
// file's 0600 that only its owner can read: a job under another uid reads
// the bucket too.
func TestCreatedObjectsAreAsReadableAsWrittenOnes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := Open(ctx, "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Write(ctx, "written.json", []byte("{}"), "application/json"); err != nil {
		t.Fatal(err)
	}
	if err := b.Create(ctx, "created.json", []byte("{}"), "application/json"); err != nil {
		t.Fatal(err)
	}
	written, err := os.Stat(filepath.Join(dir, "written.json"))
	if err != nil {
		t.Fatal(err)
	}
	created, err := os.Stat(filepath.Join(dir, "created.json"))
	if err != nil {
		t.Fatal(err)
	}
	if created.Mode().Perm() != written.Mode().Perm() {
		t.Errorf("Create made mode %v; Write makes %v", created.Mode().Perm(), written.Mode().Perm())
	}
}

// OpenExisting opens what is there and refuses a file bucket that is not,
// without making it; Open makes it.
func TestOpenExistingRefusesAMissingFileBucket(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	for _, raw := range []string{missing, "file://" + missing, file} {
		if _, err := OpenExisting(ctx, raw); !errors.Is(err, ErrNoBucket) {
			t.Errorf("OpenExisting(%s) = %v, want ErrNoBucket", raw, err)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("OpenExisting made the missing bucket")
	}
	for _, raw := range []string{dir, "file://" + dir, "mem://"} {
		b, err := OpenExisting(ctx, raw)
		if err != nil {
			t.Errorf("OpenExisting(%s): %v", raw, err)
			continue
		}
		b.Close()
	}
	b, err := Open(ctx, missing)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if fi, err := os.Stat(missing); err != nil || !fi.IsDir() {
		t.Errorf("Open did not make the missing bucket: %v", err)
	}
}
