// Package blobstore opens the shared model and metric store from a URL and
// provides the few object operations the rest of claimrisk needs.
//
// The store is a gocloud.dev bucket: file:// and mem:// locally, s3://, gs://
// or azblob:// in production. A plain directory path is accepted too and
// becomes a file:// bucket. The gs:// and azblob:// drivers are compiled in
// with the build tags gcs and azure, so that an image carries one cloud's SDK. Create is the one conditional write: it uses the
// backend's own "if not exists" precondition, and for file:// buckets an
// atomic hard link, because the file driver's precondition is not atomic
// across processes.
package blobstore
