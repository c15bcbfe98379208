// Package containertest holds the tests that build claimrisk's container
// images with podman and run them: the image of every function of
// shared/fnspec as a non-root process on a read-only root filesystem, the
// health endpoints, the upload -> train -> register -> predict path through
// the containers with a shared bucket directory, and the Knative Services'
// pod templates under `podman kube play`. It has no code of its own.
//
// Without podman the tests skip with the reason; CLAIMRISK_REQUIRE_TOOLS=1
// (set by CI) makes that a failure. Every port is published on 127.0.0.1.
package containertest
