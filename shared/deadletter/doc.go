// Package deadletter keeps the events nobody could deliver, in the bucket
// under deadletter/: one JSON object per event with the time, the reason and
// the event itself. The local broker of `claimrisk up` writes them there,
// and on a cluster Knative's broker sends them to the drift function, which
// writes them the same way; `claimrisk deadletter list` reads both.
package deadletter
