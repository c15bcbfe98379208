// Package version says which code a binary was built from. Release builds
// (the Makefile, containers/images.sh) set Commit with
// -ldflags "-X github.com/claimrisk/claimrisk/shared/version.Commit=<git sha>";
// a plain go build or go install in a git checkout gets the revision the go
// command stamps into the binary instead, through String.
package version

import "runtime/debug"

// unknown is the version of a binary that knows no commit.
const unknown = "dev"

// Commit is the git commit the binary was built from as -ldflags -X set it,
// or "dev". Read the version through String, which also knows the revision
// of a plain go build.
var Commit = unknown

// String is the commit the binary was built from: Commit when the build set
// it; otherwise the first 12 hex digits of the vcs.revision the go command
// stamps into a binary built in a git checkout, with "-dirty" when
// vcs.modified says the tree had uncommitted changes; otherwise "dev" (a
// copy without .git, such as the lab workspace, -buildvcs=false, a test
// binary, or a linked git worktree, which the go command does not stamp:
// golang/go#58218).
func String() string {
	info, _ := debug.ReadBuildInfo()
	return resolve(Commit, info)
}

// resolve is String for a given Commit and build information (nil when the
// binary carries none).
func resolve(commit string, info *debug.BuildInfo) string {
	if commit != "" && commit != unknown {
		return commit
	}
	if info == nil {
		return unknown
	}
	var revision string
	var modified bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if revision == "" {
		return unknown
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	if modified {
		revision += "-dirty"
	}
	return revision
}
