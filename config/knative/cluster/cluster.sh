#!/usr/bin/env bash
# The local Knative cluster of claimrisk (docs/deploy.md): `make cluster-up`,
# `make deploy` and `make smoke` run this script.
#
#   config/knative/cluster/cluster.sh up       kind cluster + Knative Serving, Kourier, Eventing 1.20
#   config/knative/cluster/cluster.sh deploy   build and load the images, apply overlays/local
#   config/knative/cluster/cluster.sh smoke    upload data, wait for a champion, send a prediction
#   config/knative/cluster/cluster.sh down     delete the cluster
#
# It needs docker (kind runs the cluster in a container), kubectl and go;
# kind itself is run with `go run sigs.k8s.io/kind@v0.33.0` unless KIND
# names a kind binary. Every address it publishes is on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../../.."

KNATIVE=knative-v1.20.0
SERVING=https://github.com/knative/serving/releases/download/$KNATIVE
EVENTING=https://github.com/knative/eventing/releases/download/$KNATIVE
KOURIER=https://github.com/knative/net-kourier/releases/download/$KNATIVE
KIND_VERSION=v0.33.0
CLUSTER=${KIND_CLUSTER:-claimrisk}
# The bucket, at the same path on the host, in the node and in the pods
# (overlays/local/bucket.yaml): events name it by URL.
BUCKET_DIR=/var/tmp/claimrisk-bucket
IMAGE_REPO=${IMAGE_REPO:-kind.local/claimrisk}
COMMIT=${COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo dev)}
IMAGE_TAG=${IMAGE_TAG:-$COMMIT}
IMAGES=(train register predict drift mlflow evidently)
NS=claimrisk
# The Secret of overlays/local (a fake, local-only token).
API_TOKEN=fake-local-only-api-token
BROKER_PORT=${BROKER_PORT:-18080}
PREDICT_URL=http://predict.$NS.127.0.0.1.sslip.io:31080

step() { printf '== %s\n' "$*"; }
die() { echo "make $COMMAND: $*" >&2; exit 1; }

kind() {
	if [[ -n "${KIND:-}" ]]; then
		"$KIND" "$@"
	else
		go run "sigs.k8s.io/kind@$KIND_VERSION" "$@"
	fi
}

need_tools() {
	command -v docker >/dev/null 2>&1 ||
		die "docker is not installed: kind runs the Kubernetes cluster in Docker (install Docker Desktop or docker-ce)"
	docker info >/dev/null 2>&1 ||
		die "docker is installed but its daemon does not answer (docker info failed): start Docker and try again"
	command -v kubectl >/dev/null 2>&1 ||
		die "kubectl is not installed: it applies the manifests (https://kubernetes.io/docs/tasks/tools/)"
	[[ -n "${KIND:-}" ]] || command -v go >/dev/null 2>&1 ||
		die "go is not installed: it runs kind $KIND_VERSION (or set KIND to a kind binary)"
}

need_cluster() {
	need_tools
	kind get clusters 2>/dev/null | grep -qx "$CLUSTER" ||
		die "no kind cluster named $CLUSTER: run make cluster-up first"
	kubectl config use-context "kind-$CLUSTER" >/dev/null
}

# merge_config NAMESPACE CONFIGMAP FILE: merge a data patch from cluster/.
merge_config() {
	kubectl -n "$1" patch configmap "$2" --type merge --patch-file "config/knative/cluster/$3"
}

up() {
	need_tools
	if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
		step "kind cluster $CLUSTER exists"
	else
		step "creating kind cluster $CLUSTER (bucket: $BUCKET_DIR)"
		mkdir -p "$BUCKET_DIR"
		# The functions write as user 65532, the CLI as you: local use only.
		chmod 0777 "$BUCKET_DIR"
		kind create cluster --name "$CLUSTER" --config config/knative/cluster/kind.yaml
	fi
	kubectl config use-context "kind-$CLUSTER" >/dev/null

	step "Knative Serving ($KNATIVE) with Kourier"
	kubectl apply -f "$SERVING/serving-crds.yaml"
	kubectl wait --for=condition=Established --timeout=120s crd/services.serving.knative.dev
	kubectl apply -f "$SERVING/serving-core.yaml"
	kubectl apply -f "$KOURIER/kourier.yaml"
	merge_config knative-serving config-network serving-network.yaml
	merge_config knative-serving config-domain serving-domain.yaml
	merge_config knative-serving config-features serving-features.yaml
	merge_config knative-serving config-autoscaler serving-autoscaler.yaml
	kubectl -n kourier-system patch service kourier --patch-file config/knative/cluster/kourier-nodeport.yaml

	step "Knative Eventing ($KNATIVE) with the in-memory channel and the MT channel broker"
	kubectl apply -f "$EVENTING/eventing-crds.yaml"
	kubectl wait --for=condition=Established --timeout=120s crd/triggers.eventing.knative.dev
	kubectl apply -f "$EVENTING/eventing-core.yaml"
	kubectl apply -f "$EVENTING/in-memory-channel.yaml"
	kubectl apply -f "$EVENTING/mt-channel-broker.yaml"

	step "waiting for Knative"
	kubectl -n knative-serving wait --for=condition=Available deployment --all --timeout=300s
	kubectl -n kourier-system wait --for=condition=Available deployment --all --timeout=300s
	kubectl -n knative-eventing wait --for=condition=Available deployment --all --timeout=300s
	echo "cluster $CLUSTER is ready: make deploy"
}

deploy() {
	need_cluster
	step "building the images ($IMAGE_REPO/*:$IMAGE_TAG)"
	IMAGE_REPO=$IMAGE_REPO IMAGE_TAG=$IMAGE_TAG containers/images.sh "${IMAGES[@]}"
	local engine=${ENGINE:-}
	if [[ -z $engine ]]; then
		if command -v podman >/dev/null 2>&1; then engine=podman; else engine=docker; fi
	fi
	step "loading them into kind"
	local archive
	archive=$(mktemp)
	trap 'rm -f "$archive"' RETURN
	for name in "${IMAGES[@]}"; do
		rm -f "$archive"
		"$engine" save -o "$archive" "$IMAGE_REPO/$name:$IMAGE_TAG"
		kind load image-archive "$archive" --name "$CLUSTER"
	done

	step "applying config/knative/overlays/local with tag $IMAGE_TAG"
	mkdir -p bin/deploy
	{
		echo "# Generated by make deploy: overlays/local with this build's image tag."
		echo "resources:"
		echo "- ../../config/knative/overlays/local"
		echo "images:"
		for name in "${IMAGES[@]}"; do
			printf -- '- name: kind.local/claimrisk/%s\n  newName: %s/%s\n  newTag: "%s"\n' "$name" "$IMAGE_REPO" "$name" "$IMAGE_TAG"
		done
	} >bin/deploy/kustomization.yaml
	kubectl apply -k bin/deploy
	step "waiting for the Services"
	kubectl -n "$NS" wait --for=condition=Ready --timeout=300s ksvc/train ksvc/register ksvc/drift ksvc/event-display ksvc/predict
	kubectl -n "$NS" wait --for=condition=Available --timeout=300s deployment/mlflow deployment/evidently-ui
	kubectl -n "$NS" get ksvc
	echo "deployed: make smoke"
}

smoke() {
	need_cluster
	[[ -x bin/claimrisk ]] || die "bin/claimrisk is missing: run make build"
	local data pf
	data=$(mktemp -d)
	step "port-forwarding the broker to 127.0.0.1:$BROKER_PORT"
	kubectl -n knative-eventing port-forward --address 127.0.0.1 svc/broker-ingress "$BROKER_PORT:80" >/dev/null &
	pf=$!
	trap 'kill "$pf" 2>/dev/null; rm -rf "$data"' EXIT
	sleep 2

	step "generating and uploading a dataset; training and the promotion decision follow"
	bin/claimrisk data generate --policies 20000 --out "$data"
	# umask 000: the functions (user 65532) write beside what you upload.
	(umask 000 && bin/claimrisk data upload --bucket "$BUCKET_DIR" --dir "$data" \
		--sink "http://127.0.0.1:$BROKER_PORT/$NS/claimrisk" --wait 10m)

	step "sending a prediction to $PREDICT_URL"
	for try in $(seq 1 30); do
		if CLAIMRISK_API_TOKEN=$API_TOKEN bin/claimrisk predict --example --url "$PREDICT_URL"; then
			echo "smoke test passed"
			return 0
		fi
		echo "predict is not answering yet (try $try of 30; it loads the new champion)"
		sleep 5
	done
	echo "dead letters, if any: kubectl -n $NS logs -l serving.knative.dev/service=event-display -c event-display" >&2
	die "no prediction after 150 s"
}

down() {
	need_tools
	kind delete cluster --name "$CLUSTER"
}

COMMAND=${1:-}
case $COMMAND in
up) COMMAND=cluster-up up ;;
deploy) deploy ;;
smoke) smoke ;;
down) COMMAND=cluster-down down ;;
*)
	echo "usage: $0 up|deploy|smoke|down" >&2
	exit 2
	;;
esac
