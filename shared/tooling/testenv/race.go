//go:build race

package testenv

// raceBuild is true when the tests run with the race detector: the
// function binaries the tests start are then race-built as well.
const raceBuild = true
