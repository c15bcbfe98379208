#!/usr/bin/env bash
# Installs Knative Serving and Eventing 1.20 (in-memory channel, MT channel
# broker) and Traefik as Serving's ingress into the current kubectl context.
# Both clusters of `make cluster-up` use it: kind with Knative's release YAML
# and images, the source-built cluster with the YAML and images build.sh made.
#
#   knative.sh release          Knative's release YAML from GitHub, upstream images
#   knative.sh DIR TRAEFIK_IMAGE  the six YAML files in DIR, local images only
#
# It waits for each webhook to answer before it configures anything through
# it (a first apply that reaches a webhook too early fails).
set -euo pipefail
cd "$(dirname "$0")"

KNATIVE_RELEASE=knative-v1.20.0
TRAEFIK_RELEASE_IMAGE=docker.io/library/traefik:v3.6.0

say() { printf '== %s\n' "$*"; }
die() { echo "knative install: $*" >&2; exit 1; }

source=${1:?usage: knative.sh release | knative.sh DIR TRAEFIK_IMAGE}
if [[ $source == release ]]; then
	traefik_image=$TRAEFIK_RELEASE_IMAGE pull_policy=IfNotPresent
else
	[[ -d $source ]] || die "no directory $source"
	traefik_image=${2:?the Traefik image}
	pull_policy=Never
fi

# manifest NAME: the path or URL of one of Knative's six YAML files.
manifest() {
	if [[ $source == release ]]; then
		local repo=serving
		[[ $1 == serving-* ]] || repo=eventing
		echo "https://github.com/knative/$repo/releases/download/$KNATIVE_RELEASE/$1"
	else
		echo "$source/$1"
	fi
}

# retry SECONDS CMD...: a webhook may refuse for a moment after its pod
# (re)starts ("failed calling webhook ... connection refused").
retry() {
	local limit=$1 i out
	shift
	for ((i = 0; ; i++)); do
		if out=$("$@" 2>&1); then
			return 0
		fi
		if ((i >= limit)); then
			echo "$out" >&2
			return 1
		fi
		sleep 1
	done
}

apply() { retry 60 kubectl apply -f "$1"; }

# crds FILE: apply the CRDs and wait until the API serves them.
crds() {
	kubectl apply -f "$1" >/dev/null
	kubectl wait --for=condition=Established --timeout=120s -f "$1" >/dev/null
}

# webhook NAMESPACE DEPLOYMENT SERVICE: wait until the webhook's pod is
# ready and its Service has an endpoint.
webhook() {
	kubectl -n "$1" rollout status "deployment/$2" --timeout=300s >/dev/null ||
		die "the $1/$2 webhook did not become ready (kubectl -n $1 describe pod -l app=$2)"
	local i
	for ((i = 0; i < 120; i++)); do
		if [[ -n $(kubectl -n "$1" get endpointslices -l "kubernetes.io/service-name=$3" \
			-o jsonpath='{.items[*].endpoints[?(@.conditions.ready==true)].addresses[0]}' 2>/dev/null) ]]; then
			return 0
		fi
		sleep 1
	done
	die "the $1/$3 webhook Service has no ready endpoint after 120 s"
}

# config NAMESPACE CONFIGMAP FILE: merge a data patch; the config webhook
# validates it, so it is retried while that webhook settles.
config() {
	retry 60 kubectl -n "$1" patch configmap "$2" --type merge --patch-file "$3" >/dev/null ||
		die "could not patch $1/$2 with $3"
}

# A laptop profile: Knative's own CPU requests sized so that Knative, the
# ingress and the four functions fit on 2 cores (the defaults ask about 1.3).
laptop_requests() {
	local ns
	for ns in "$@"; do
		kubectl -n "$ns" set resources deployment --all --requests=cpu=25m >/dev/null
	done
}

say "Knative Serving ($KNATIVE_RELEASE)"
crds "$(manifest serving-crds.yaml)"
apply "$(manifest serving-core.yaml)" >/dev/null
webhook knative-serving webhook webhook
config knative-serving config-network serving-network.yaml
config knative-serving config-domain serving-domain.yaml
config knative-serving config-features serving-features.yaml
config knative-serving config-autoscaler serving-autoscaler.yaml

say "Traefik as the ingress ($traefik_image)"
sed -e "s|@IMAGE@|$traefik_image|" -e "s|@PULL_POLICY@|$pull_policy|" traefik.yaml | kubectl apply -f - >/dev/null

say "Knative Eventing ($KNATIVE_RELEASE): the in-memory channel and the MT channel broker"
crds "$(manifest eventing-crds.yaml)"
apply "$(manifest eventing-core.yaml)" >/dev/null
webhook knative-eventing eventing-webhook eventing-webhook
apply "$(manifest in-memory-channel.yaml)" >/dev/null
apply "$(manifest mt-channel-broker.yaml)" >/dev/null

laptop_requests knative-serving knative-eventing
say "waiting for Knative and Traefik"
for ns in knative-serving knative-eventing traefik; do
	kubectl -n "$ns" wait --for=condition=Available deployment --all --timeout=300s >/dev/null ||
		die "deployments in $ns are not available: kubectl -n $ns get pods"
done
say "Knative is ready"
