#!/usr/bin/env bash
# claimrisk on a real Kubernetes cluster with Knative (docs/deploy.md):
# `make cluster-up`, `deploy`, `smoke` and `cluster-down` run this script.
#
#   cluster.sh up       a cluster with Knative Serving and Eventing 1.20 and Traefik
#   cluster.sh deploy   build the images, load them into the cluster, apply overlays/local
#   cluster.sh smoke    the end-to-end test through Knative (tests/cluster)
#   cluster.sh down     remove the cluster and everything it added to this machine
#   cluster.sh status   which cluster this machine uses, and whether it runs
#
# Which cluster: kind when docker answers; else, on Linux as root, a
# single-node cluster built from source (source/: Kubernetes, Knative, CoreDNS
# and Traefik compiled from the Go module proxy; the first build takes 30-45
# minutes on 2 cores, later ones a few). CLAIMRISK_CLUSTER=kind|source
# chooses. Both install Knative with knative.sh, publish the ingress on
# http://127.0.0.1:31080 and keep the bucket in /var/tmp/claimrisk-bucket.
set -euo pipefail
cd "$(dirname "$0")/../../.."

CLUSTER_DIR=config/knative/cluster
KIND_VERSION=v0.30.0
KIND_CLUSTER=${KIND_CLUSTER:-claimrisk}
# The bucket, at the same path on the host, in the node and in the pods
# (overlays/local/bucket.yaml): events name it by URL.
BUCKET_DIR=/var/tmp/claimrisk-bucket
# MLflow's data and the Evidently workspace (overlays/local/volumes.yaml).
VOLUMES_DIR=/var/tmp/claimrisk-volumes
IMAGE_REPO=${IMAGE_REPO:-kind.local/claimrisk}
COMMIT=${COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo dev)}
IMAGE_TAG=${IMAGE_TAG:-$COMMIT}
# Every function's image (functions/*/cmd/main.go, as make images builds them).
read -r -a FUNCTION_IMAGES <<<"$(containers/images.sh --list)"
PYTHON_IMAGES=(mlflow evidently)
NS=claimrisk

step() { printf '== [%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { echo "make $COMMAND: $*" >&2; exit 1; }

# flavour: kind, source or none (with the reason on stderr).
flavour() {
	case ${CLAIMRISK_CLUSTER:-} in
	kind | source)
		echo "$CLAIMRISK_CLUSTER"
		return
		;;
	"") ;;
	*) die "CLAIMRISK_CLUSTER=$CLAIMRISK_CLUSTER: choose kind or source" ;;
	esac
	if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
		echo kind
	elif [[ $(uname -s) == Linux && $(id -u) == 0 ]]; then
		echo source
	else
		echo none
	fi
}

need_flavour() {
	FLAVOUR=$(flavour)
	[[ $FLAVOUR != none ]] ||
		die "no way to run a cluster here: kind needs docker (its daemon must answer docker info); the source-built cluster needs Linux and root"
	command -v kubectl >/dev/null 2>&1 || die "kubectl is not installed: it applies the manifests (https://kubernetes.io/docs/tasks/tools/)"
}

kind() {
	if [[ -n ${KIND:-} ]]; then
		"$KIND" "$@"
	else
		go run "sigs.k8s.io/kind@$KIND_VERSION" "$@"
	fi
}

use_context() {
	case $FLAVOUR in
	kind)
		kind get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER" || die "no kind cluster named $KIND_CLUSTER: run make cluster-up first"
		kubectl config use-context "kind-$KIND_CLUSTER" >/dev/null
		;;
	source)
		kubectl config use-context claimrisk-source >/dev/null 2>&1 || die "the source-built cluster is not up: run make cluster-up first"
		kubectl get --raw /readyz >/dev/null 2>&1 || die "the source-built cluster does not answer: run make cluster-up again"
		;;
	esac
}

up() {
	need_flavour
	local t0=$SECONDS
	mkdir -p "$BUCKET_DIR" "$VOLUMES_DIR/mlflow" "$VOLUMES_DIR/evidently"
	# The functions write as user 65532, the CLI as you: local use only.
	chmod 0777 "$BUCKET_DIR" "$VOLUMES_DIR/mlflow" "$VOLUMES_DIR/evidently"
	case $FLAVOUR in
	kind)
		if kind get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; then
			step "kind cluster $KIND_CLUSTER exists"
		else
			step "creating kind cluster $KIND_CLUSTER (bucket: $BUCKET_DIR)"
			kind create cluster --name "$KIND_CLUSTER" --config "$CLUSTER_DIR/kind.yaml"
		fi
		kubectl config use-context "kind-$KIND_CLUSTER" >/dev/null
		"$CLUSTER_DIR/knative.sh" release
		;;
	source)
		step "the source-built single-node cluster"
		"$CLUSTER_DIR/source/node.sh" up
		. "$CLUSTER_DIR/source/versions.sh"
		"$CLUSTER_DIR/knative.sh" "$YAML_DIR" "$IMAGE_PREFIX/traefik:$TRAEFIK_VERSION"
		;;
	esac
	step "cluster ready ($FLAVOUR) in $((SECONDS - t0)) s: make deploy"
}

engine() {
	if [[ -n ${ENGINE:-} ]]; then
		echo "$ENGINE"
	elif command -v podman >/dev/null 2>&1; then
		echo podman
	else
		echo docker
	fi
}

load_images() {
	local refs=("$@") archive
	case $FLAVOUR in
	kind)
		archive=$(mktemp)
		"$(engine)" save -o "$archive" "${refs[@]}"
		kind load image-archive "$archive" --name "$KIND_CLUSTER"
		rm -f "$archive"
		;;
	source)
		# What containerd already holds, by podman's image ID, is not saved
		# and imported again (the Python images are a gigabyte each).
		local seen=/var/lib/claimrisk-cluster/imported.txt todo=() ref id
		for ref in "${refs[@]}"; do
			id=$(podman image inspect --format '{{.Id}}' "$ref")
			grep -qxF "$ref $id" "$seen" 2>/dev/null || todo+=("$ref")
		done
		((${#todo[@]})) || { step "all ${#refs[@]} images are in the cluster already"; return 0; }
		archive=$(mktemp)
		podman save --quiet --multi-image-archive -o "$archive" "${todo[@]}"
		"$CLUSTER_DIR/source/node.sh" import "$archive"
		rm -f "$archive"
		for ref in "${todo[@]}"; do
			echo "$ref $(podman image inspect --format '{{.Id}}' "$ref")" >>"$seen"
		done
		;;
	esac
}

deploy() {
	need_flavour
	use_context
	local t0=$SECONDS refs=() name
	# The Python images' base: python:3.11-slim from Docker Hub with kind; a
	# Debian made with debootstrap where no registry is reachable.
	if [[ -z ${BASE_IMAGE:-} ]]; then
		if [[ $FLAVOUR == source ]]; then
			containers/debian-base.sh
			BASE_IMAGE=localhost/debian-base:bookworm
		else
			BASE_IMAGE=python:3.11-slim
		fi
	fi
	export BASE_IMAGE
	step "building the images ($IMAGE_REPO/*:$IMAGE_TAG; the Python ones take minutes the first time, then are kept)"
	IMAGE_REPO=$IMAGE_REPO IMAGE_TAG=$IMAGE_TAG containers/images.sh "${FUNCTION_IMAGES[@]}" "${PYTHON_IMAGES[@]}"
	for name in "${FUNCTION_IMAGES[@]}" "${PYTHON_IMAGES[@]}"; do refs+=("$IMAGE_REPO/$name:$IMAGE_TAG"); done
	step "loading ${#refs[@]} images into the $FLAVOUR cluster"
	load_images "${refs[@]}"

	step "applying config/knative/overlays/local"
	mkdir -p bin/deploy
	{
		echo "# Generated by make deploy: overlays/local with this build's images."
		echo "resources:"
		echo "- ../../config/knative/overlays/local"
		echo "images:"
		for name in "${FUNCTION_IMAGES[@]}" "${PYTHON_IMAGES[@]}"; do
			printf -- '- name: kind.local/claimrisk/%s\n  newName: %s/%s\n  newTag: "%s"\n' "$name" "$IMAGE_REPO" "$name" "$IMAGE_TAG"
		done
	} >bin/deploy/kustomization.yaml
	local i
	for ((i = 0; ; i++)); do
		if kubectl apply -k bin/deploy >/dev/null 2>bin/deploy/apply.err; then break; fi
		# A webhook may refuse for a moment after it (re)starts.
		if ((i >= 30)); then
			cat bin/deploy/apply.err >&2
			# Why a webhook refuses: its pod restarting, evicted, or not scheduled.
			kubectl get pods -n knative-serving -o wide >&2 || true
			kubectl get pods -n knative-eventing -o wide >&2 || true
			kubectl get events -A --field-selector type=Warning >&2 || true
			die "kubectl apply -k bin/deploy failed"
		fi
		sleep 2
	done
	step "waiting for the Services, the Broker, the Triggers and the PingSources"
	kubectl -n "$NS" wait --for=condition=Ready --timeout=300s ksvc --all ||
		die "a Knative Service is not ready: kubectl -n $NS get ksvc; kubectl -n $NS get pods"
	local kind
	for kind in broker trigger pingsource; do
		kubectl -n "$NS" wait --for=condition=Ready --timeout=180s "$kind" --all >/dev/null ||
			die "a $kind is not ready: kubectl -n $NS get broker,trigger,pingsource"
	done
	kubectl -n "$NS" wait --for=condition=Available --timeout=300s deployment/mlflow deployment/evidently-ui ||
		die "MLflow or the Evidently UI is not available: kubectl -n $NS get pods"
	kubectl -n "$NS" get ksvc
	step "deployed in $((SECONDS - t0)) s: make smoke"
}

smoke() {
	need_flavour
	use_context
	[[ -x bin/claimrisk ]] || die "bin/claimrisk is missing: run make build"
	CLAIMRISK_CLUSTER_SMOKE=1 CLAIMRISK_BIN=$PWD/bin CLAIMRISK_CLUSTER_BUCKET=$BUCKET_DIR \
		go test -tags cluster -count=1 -v -timeout 45m -run '^TestCluster$' ./tests/cluster/
}

down() {
	FLAVOUR=$(flavour)
	case $FLAVOUR in
	kind) kind delete cluster --name "$KIND_CLUSTER" ;;
	source) "$CLUSTER_DIR/source/node.sh" down ;;
	none) die "neither docker nor root on Linux: there is no cluster of this machine to remove" ;;
	esac
	# The cluster's data goes with it: the next cluster-up starts empty.
	rm -rf bin/deploy "$BUCKET_DIR" "$VOLUMES_DIR"
	step "removed the cluster's bucket $BUCKET_DIR and volumes $VOLUMES_DIR"
}

status() {
	FLAVOUR=$(flavour)
	echo "cluster: $FLAVOUR"
	case $FLAVOUR in
	kind) kind get clusters ;;
	source) "$CLUSTER_DIR/source/node.sh" status ;;
	esac
}

COMMAND=${1:-}
case $COMMAND in
up) COMMAND=cluster-up up ;;
deploy) deploy ;;
smoke) smoke ;;
down) COMMAND=cluster-down down ;;
status) status ;;
-h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' ;;
*)
	echo "usage: $0 up|deploy|smoke|down|status" >&2
	exit 2
	;;
esac
