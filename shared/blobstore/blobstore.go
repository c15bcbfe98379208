package blobstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/memblob" // mem:// buckets
	_ "gocloud.dev/blob/s3blob"  // s3:// buckets, and S3-compatible stores
	"gocloud.dev/gcerrors"

	"github.com/claimrisk/claimrisk/shared/tempfile"
)

// optionalDrivers are the bucket schemes compiled in only with a build tag:
// each cloud SDK adds tens of megabytes to a binary, and an image serves one
// cloud. file://, mem:// and s3:// (which also reaches S3-compatible stores
// such as MinIO, and GCS through its interoperability API) are always in.
var optionalDrivers = map[string]string{"gs": "gcs", "azblob": "azure"}

// Errors callers match with errors.Is.
var (
	ErrNotFound = errors.New("blobstore: object not found")
	ErrExists   = errors.New("blobstore: object already exists")
)

// Bucket is an open store. It embeds the gocloud bucket, so every gocloud
// operation is available too.
type Bucket struct {
	*blob.Bucket
	// URL is the normalised URL the bucket was opened from.
	URL string
	dir string // the root directory of a file:// bucket, else ""
}

// Normalize turns what a person typed into a bucket URL: a plain path
// (relative or absolute) becomes an absolute file:// URL.
func Normalize(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("blobstore: empty bucket URL")
	}
	if !strings.Contains(raw, "://") {
		abs, err := filepath.Abs(raw)
		if err != nil {
			return "", fmt.Errorf("blobstore: %s: %w", raw, err)
		}
		return "file://" + filepath.ToSlash(abs), nil
	}
	return raw, nil
}

// ErrNoBucket marks a file:// bucket whose directory does not exist, from
// OpenExisting.
var ErrNoBucket = errors.New("no bucket")

// OpenExisting is Open for a caller that only reads or changes what is
// there: a file:// bucket whose directory is missing (a mistyped --bucket,
// or a system never started) is ErrNoBucket rather than a new, empty
// bucket that answers "nothing yet".
func OpenExisting(ctx context.Context, rawURL string) (*Bucket, error) {
	norm, err := Normalize(rawURL)
	if err != nil {
		return nil, err
	}
	if dir, ok := fileDir(norm); ok {
		if fi, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s", ErrNoBucket, dir)
		} else if err == nil && !fi.IsDir() {
			return nil, fmt.Errorf("%w at %s: it is a file", ErrNoBucket, dir)
		}
	}
	return Open(ctx, norm)
}

// fileDir is the directory of a normalized file:// bucket URL.
func fileDir(norm string) (string, bool) {
	u, err := url.Parse(norm)
	if err != nil || u.Scheme != "file" {
		return "", false
	}
	if u.Host == "." {
		return "." + u.Path, true
	}
	return u.Path, true
}

// Open opens the bucket named by rawURL. A file:// bucket's directory is
// created when missing, and its temporary files are kept beside the objects
// so that renames never cross file systems.
func Open(ctx context.Context, rawURL string) (*Bucket, error) {
	norm, err := Normalize(rawURL)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(norm)
	if err != nil {
		return nil, fmt.Errorf("blobstore: parse %q: %w", norm, err)
	}
	if u.Scheme != "file" {
		if tag, ok := optionalDrivers[u.Scheme]; ok && !slices.Contains(blob.DefaultURLMux().BucketSchemes(), u.Scheme) {
			return nil, fmt.Errorf("blobstore: this binary was built without the %s:// driver; build it with -tags %s (make build TAGS=%s, make images TAGS=%s)", u.Scheme, tag, tag, tag)
		}
		b, err := blob.OpenBucket(ctx, norm)
		if err != nil {
			return nil, fmt.Errorf("blobstore: open %s: %w", norm, err)
		}
		return &Bucket{Bucket: b, URL: norm}, nil
	}
	dir, _ := fileDir(norm)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("blobstore: create %s: %w", dir, err)
	}
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
	if err != nil {
		return nil, fmt.Errorf("blobstore: open %s: %w", norm, err)
	}
	return &Bucket{Bucket: b, URL: "file://" + filepath.ToSlash(dir), dir: dir}, nil
}

// Read returns the object's bytes, or ErrNotFound. A file bucket whose
// directory is gone is ErrUnavailable, not every object's absence: callers
// treat a missing object as final and an unavailable bucket as passing.
func (b *Bucket) Read(ctx context.Context, key string) ([]byte, error) {
	data, err := b.ReadAll(ctx, key)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			if aerr := b.available(); aerr != nil {
				return nil, fmt.Errorf("blobstore: read %s: %w", key, aerr)
			}
			return nil, fmt.Errorf("%s: %w", key, ErrNotFound)
		}
		return nil, fmt.Errorf("blobstore: read %s: %w", key, err)
	}
	return data, nil
}

// Write stores data under key, replacing any object there. The object
// appears whole or not at all.
func (b *Bucket) Write(ctx context.Context, key string, data []byte, contentType string) error {
	if err := b.WriteAll(ctx, key, data, &blob.WriterOptions{ContentType: contentType}); err != nil {
		return fmt.Errorf("blobstore: write %s: %w", key, err)
	}
	return nil
}

// pacedChunk is how much WritePaced hands the driver between pauses: a
// copy of 64 KiB into a file takes some tens of microseconds.
const pacedChunk = 64 << 10

// WritePaced is Write for work done beside latency-sensitive goroutines on
// the same CPUs: it hands data to the driver a chunk at a time and pauses
// for pause between chunks, so a large object's checksum and copy do not
// hold a processor in one stretch (the payload log's flush beside the
// requests). The object appears whole or not at all, as with Write.
func (b *Bucket) WritePaced(ctx context.Context, key string, data []byte, contentType string, pause time.Duration) error {
	if pause <= 0 || len(data) <= pacedChunk {
		return b.Write(ctx, key, data, contentType)
	}
	ctx, cancel := context.WithCancel(ctx) // a cancelled context discards the object
	defer cancel()
	w, err := b.NewWriter(ctx, key, &blob.WriterOptions{ContentType: contentType})
	if err != nil {
		return fmt.Errorf("blobstore: write %s: %w", key, err)
	}
	for rest := data; len(rest) > 0; {
		n := min(len(rest), pacedChunk)
		if _, err := w.Write(rest[:n]); err != nil {
			cancel()
			_ = w.Close()
			return fmt.Errorf("blobstore: write %s: %w", key, err)
		}
		if rest = rest[n:]; len(rest) > 0 {
			time.Sleep(pause)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("blobstore: write %s: %w", key, err)
	}
	return nil
}

// Create stores data under key only if no object is there yet, atomically
// with respect to every other writer; otherwise it returns ErrExists.
func (b *Bucket) Create(ctx context.Context, key string, data []byte, contentType string) error {
	if b.dir != "" {
		return b.createFile(key, data)
	}
	err := b.WriteAll(ctx, key, data, &blob.WriterOptions{ContentType: contentType, IfNotExist: true})
	if gcerrors.Code(err) == gcerrors.FailedPrecondition {
		return fmt.Errorf("%s: %w", key, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("blobstore: create %s: %w", key, err)
	}
	return nil
}

// createFile writes a temporary file beside the target and hard-links it
// into place: link(2) fails when the target exists, in every process. The
// object gets the mode fileblob's writes get (0666 less the umask).
func (b *Bucket) createFile(key string, data []byte) error {
	if strings.Contains(key, "..") || strings.HasPrefix(key, "/") {
		return fmt.Errorf("blobstore: create %s: key must be a relative path", key)
	}
	path := filepath.Join(b.dir, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("blobstore: create %s: %w", key, err)
	}
	tmp, err := tempfile.Beside(path)
	if err != nil {
		return fmt.Errorf("blobstore: create %s: %w", key, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("blobstore: create %s: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("blobstore: create %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("blobstore: create %s: %w", key, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s: %w", key, ErrExists)
		}
		return fmt.Errorf("blobstore: create %s: %w", key, err)
	}
	return nil
}

// ReadJSON decodes the JSON object at key into v.
func (b *Bucket) ReadJSON(ctx context.Context, key string, v any) error {
	data, err := b.Read(ctx, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("blobstore: decode %s: %w", key, err)
	}
	return nil
}

// WriteJSON stores v as indented JSON at key.
func (b *Bucket) WriteJSON(ctx context.Context, key string, v any) error {
	data, err := MarshalJSON(v)
	if err != nil {
		return fmt.Errorf("blobstore: encode %s: %w", key, err)
	}
	return b.Write(ctx, key, data, "application/json")
}

// CreateJSON stores v as JSON at key only if key is free (see Create).
func (b *Bucket) CreateJSON(ctx context.Context, key string, v any) error {
	data, err := MarshalJSON(v)
	if err != nil {
		return fmt.Errorf("blobstore: encode %s: %w", key, err)
	}
	return b.Create(ctx, key, data, "application/json")
}

// MarshalJSON is the one JSON layout of stored objects: indented, with a
// trailing newline, so objects diff well and read well.
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Exists reports whether an object is stored at key.
func (b *Bucket) Exists(ctx context.Context, key string) (bool, error) {
	ok, err := b.Bucket.Exists(ctx, key)
	if err != nil {
		return false, fmt.Errorf("blobstore: exists %s: %w", key, err)
	}
	return ok, nil
}

// ErrUnavailable marks a bucket that cannot be read at all.
var ErrUnavailable = errors.New("blobstore: bucket unavailable")

// available checks a file bucket's directory: the file driver lists a
// missing directory as empty, which would make an outage look like an
// empty bucket.
func (b *Bucket) available() error {
	if b.dir == "" {
		return nil
	}
	fi, err := os.Stat(b.dir)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s is not a directory", ErrUnavailable, b.dir)
	}
	return nil
}

// listAttempts bounds retries of a listing that raced a writer: the file
// driver fails a listing when a file it saw vanishes before it reads its
// details (a write's temporary file renamed into place meanwhile).
const listAttempts = 5

// retryList runs list again while it fails with NotFound.
func retryList[T any](list func() (T, error)) (T, error) {
	var out T
	var err error
	for range listAttempts {
		out, err = list()
		if gcerrors.Code(err) != gcerrors.NotFound {
			return out, err
		}
	}
	return out, err
}

// Keys lists the keys under prefix in lexical order.
func (b *Bucket) Keys(ctx context.Context, prefix string) ([]string, error) {
	if err := b.available(); err != nil {
		return nil, err
	}
	return retryList(func() ([]string, error) { return b.keys(ctx, prefix) })
}

func (b *Bucket) keys(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			return keys, nil
		}
		if err != nil {
			return nil, fmt.Errorf("blobstore: list %s: %w", prefix, err)
		}
		if b.dir != "" && strings.HasSuffix(obj.Key, ".tmp") {
			continue // a file bucket's write in progress
		}
		keys = append(keys, obj.Key)
	}
}

// Dirs lists the immediate "subdirectories" under prefix (which should end
// in "/"), without the prefix and trailing slash, in lexical order.
func (b *Bucket) Dirs(ctx context.Context, prefix string) ([]string, error) {
	if err := b.available(); err != nil {
		return nil, err
	}
	return retryList(func() ([]string, error) { return b.dirs(ctx, prefix) })
}

func (b *Bucket) dirs(ctx context.Context, prefix string) ([]string, error) {
	var dirs []string
	it := b.List(&blob.ListOptions{Prefix: prefix, Delimiter: "/"})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			return dirs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("blobstore: list %s: %w", prefix, err)
		}
		if obj.IsDir {
			dirs = append(dirs, strings.TrimSuffix(strings.TrimPrefix(obj.Key, prefix), "/"))
		}
	}
}

// SameBucket reports whether two bucket URLs name the same bucket: the
// same scheme, host and path, whatever their query parameters (an
// s3://b?region=... is still s3://b).
func SameBucket(a, b string) bool {
	na, errA := Normalize(a)
	nb, errB := Normalize(b)
	if errA != nil || errB != nil {
		return false
	}
	ua, errA := url.Parse(na)
	ub, errB := url.Parse(nb)
	if errA != nil || errB != nil {
		return false
	}
	return ua.Scheme == ub.Scheme && ua.Host == ub.Host && strings.TrimRight(ua.Path, "/") == strings.TrimRight(ub.Path, "/")
}
