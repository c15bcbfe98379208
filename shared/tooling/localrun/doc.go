// Package localrun runs claimrisk on one machine: the function binaries on
// loopback ports, an MLflow tracking server when one is installed, and (see
// broker.go) the event routing that Knative does on a cluster. It starts
// each process, waits until it is ready, keeps its log in a file, and stops
// everything it started.
package localrun
