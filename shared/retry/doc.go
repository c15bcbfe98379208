// Package retry runs an operation again after it fails, waiting longer
// each time, until it succeeds, its attempts run out, it fails in a way a
// new attempt cannot mend (Permanent), or its context ends.
//
// It exists so that the clients and loggers that send work again (the
// prediction API client, event delivery, the payload log's flushes) share
// one loop with one set of rules, instead of each timing its own: the
// waits grow from Policy.Initial by Policy.Multiplier up to Policy.Max,
// optionally jittered from a source a test can seed, and a context that
// ends stops the wait at once.
package retry
