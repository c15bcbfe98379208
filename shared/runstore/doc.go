// Package runstore is the layout of training runs in the bucket. A run
// lives under runs/<run-id>/ with its model, metrics, feature description,
// validation rows (the drift reference), plots, and a run.json written
// last: a run without run.json is unfinished and is never listed.
package runstore
