// Package predlog is the payload log: every answered prediction, and every
// outcome reported later, written to the bucket as Parquet in batches.
//
// Its row types are the data contract between the Go functions and the
// Python Evidently job. Writing stays off the request path: rows are
// buffered, flushed by size or age, retried while the bucket is away, and
// flushed on Stop, which the runtime calls when Knative scales to zero.
package predlog
