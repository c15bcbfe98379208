# The versions of the source-built cluster and where its build lives.
# Sourced by build.sh and node.sh; cluster.sh reads CACHE_DIR to say where
# the build is.
#
# Every build output (binaries, images, Knative's YAML), the Go module cache
# and the Go build cache live in one directory outside the clone, keyed by
# these versions and by the wrapper modules' go.sum, so a second cluster-up
# on the same machine reuses them: CLAIMRISK_CLUSTER_CACHE moves it.
KUBERNETES_VERSION=v1.34.2
KNATIVE_VERSION=v0.47.0 # Knative 1.20: knative.dev/serving and knative.dev/eventing
COREDNS_VERSION=v1.12.1
TRAEFIK_VERSION=v3.6.0

SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${CLAIMRISK_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/claimrisk-cluster}
# The key: the versions, plus a digest of the wrapper modules and this
# directory's build recipe, so that a change to either builds afresh.
cache_key() {
	local digest
	digest=$(cd "$SOURCE_DIR" && cat versions.sh build.sh */go.mod */go.sum */*.go | sha256sum | cut -c1-10)
	echo "k8s-$KUBERNETES_VERSION.knative-$KNATIVE_VERSION.coredns-$COREDNS_VERSION.traefik-$TRAEFIK_VERSION.$digest"
}
CACHE_DIR=$CACHE_ROOT/$(cache_key)
BIN_DIR=$CACHE_DIR/bin
IMAGE_ARCHIVE=$CACHE_DIR/images.tar
YAML_DIR=$CACHE_DIR/yaml
# Images of the cluster itself, by name: kind.local/ is never resolved
# through a registry by Knative Serving, and kind uses the same prefix.
IMAGE_PREFIX=kind.local/cluster
