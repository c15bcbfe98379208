// Package dataset holds the insurer's four tables together, validates them
// against the schema package, and moves them between Parquet files, a local
// directory and the bucket.
//
// A dataset in the bucket lives under datasets/<id>/: one Parquet object per
// table and a manifest.json written last, which lists every object's size
// and SHA-256. A reader trusts a dataset only through its manifest, so an
// interrupted upload is never read as data. The dataset id is a prefix of
// the content fingerprint: uploading the same tables twice is one dataset.
package dataset
