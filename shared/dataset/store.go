package dataset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/tempfile"
)

// Prefix is where datasets live in the bucket.
const Prefix = "datasets/"

// KeyOf is the bucket key of an object of dataset id.
func KeyOf(id, object string) string { return Prefix + id + "/" + object }

// NewManifest describes objs, which must decode to d.
func NewManifest(d *Dataset, objs map[string][]byte, accidentSource string) Manifest {
	return d.manifest(objs, accidentSource)
}

// WriteDir writes the objects and the manifest into dir. Each file is
// written under a temporary name and renamed, the manifest last, so a
// reader never sees a half-written file.
func WriteDir(dir string, objs map[string][]byte, m Manifest) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("dataset: create %s: %w", dir, err)
	}
	for _, name := range ObjectNames {
		if err := writeFile(filepath.Join(dir, name), objs[name]); err != nil {
			return err
		}
	}
	data, err := blobstore.MarshalJSON(m)
	if err != nil {
		return fmt.Errorf("dataset: encode manifest: %w", err)
	}
	return writeFile(filepath.Join(dir, ManifestObject), data)
}

// writeFile writes a file of the dataset whole or not at all.
func writeFile(path string, data []byte) error {
	if err := tempfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	return nil
}

// ReadDir reads the four table files in dir and its manifest.json when
// present (nil otherwise). It does not validate.
func ReadDir(dir string) (map[string][]byte, *Manifest, error) {
	if fi, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("%w: directory %s does not exist", ErrInvalid, dir)
	} else if err == nil && !fi.IsDir() {
		return nil, nil, fmt.Errorf("%w: %s is a file, not a directory of tables", ErrInvalid, dir)
	}
	objs := map[string][]byte{}
	for _, name := range ObjectNames {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("%w: %s is missing from %s", ErrInvalid, name, dir)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("dataset: read %s: %w", name, err)
		}
		objs[name] = data
	}
	data, err := os.ReadFile(filepath.Join(dir, ManifestObject))
	if errors.Is(err, os.ErrNotExist) {
		return objs, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("dataset: read manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrInvalid, ManifestObject, err)
	}
	return objs, &m, nil
}

// Upload stores the objects under datasets/<id>/ and the manifest last.
// Uploading a dataset that is already stored rewrites nothing.
func Upload(ctx context.Context, b *blobstore.Bucket, objs map[string][]byte, m Manifest, progress func(name string, size int)) error {
	id := m.ID()
	if ok, err := b.Exists(ctx, KeyOf(id, ManifestObject)); err != nil {
		return err
	} else if ok {
		return nil
	}
	for _, name := range ObjectNames {
		if progress != nil {
			progress(name, len(objs[name]))
		}
		if err := b.Write(ctx, KeyOf(id, name), objs[name], "application/vnd.apache.parquet"); err != nil {
			return fmt.Errorf("dataset: upload %s: %w", id, err)
		}
	}
	if err := b.WriteJSON(ctx, KeyOf(id, ManifestObject), m); err != nil {
		return fmt.Errorf("dataset: upload %s: %w", id, err)
	}
	return nil
}

// Load reads dataset id from the bucket, checks every object against the
// manifest and validates the tables.
func Load(ctx context.Context, b *blobstore.Bucket, id string) (*Dataset, Manifest, error) {
	var m Manifest
	if err := b.ReadJSON(ctx, KeyOf(id, ManifestObject), &m); err != nil {
		return nil, Manifest{}, fmt.Errorf("dataset: load %s: %w", id, err)
	}
	objs := map[string][]byte{}
	for _, name := range ObjectNames {
		data, err := b.Read(ctx, KeyOf(id, name))
		if err != nil {
			return nil, Manifest{}, fmt.Errorf("dataset: load %s: %w", id, err)
		}
		objs[name] = data
	}
	d, err := Decode(objs, &m)
	if err != nil {
		return nil, Manifest{}, fmt.Errorf("dataset: load %s: %w", id, err)
	}
	return d, m, nil
}
