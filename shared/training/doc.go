// Package training is the training pipeline behind the train function:
// from a dataset (or, after drift, a dataset plus newly labelled traffic) to
// three evaluated candidates (the calibrated legacy formula, a GLM without
// accident data and one with it), stored as runs, logged to MLflow when a
// tracking server is configured, and summarised as a Result. The train
// function turns a Result into the "model trained" event; this package
// knows nothing of events.
//
// Runs are idempotent: a run's id is a hash of the training data's
// fingerprint, the model kind, the parameters and the code version, and a
// finished run is never fitted again. A repeated event (Knative delivers at
// least once) therefore costs a lookup, not a training.
package training
