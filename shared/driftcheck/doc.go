// Package driftcheck is one drift check of the champion: it reads a window
// of the payload log and the feedback from the bucket, compares the window
// with the reference rows stored with the champion (per-column drift with
// Evidently's default tests from shared/drift, prediction drift, data
// quality), measures model quality where outcomes have arrived, and writes
// a report (JSON and Markdown) with the labelled rows a retraining needs.
package driftcheck
