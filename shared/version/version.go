// Package version holds the code version built into the binaries. The
// Makefile sets Commit with -ldflags "-X ...version.Commit=<git sha>".
package version

// Commit is the git commit the binary was built from, or "dev".
var Commit = "dev"
