#!/usr/bin/env bash
# Builds the single-node cluster of `make cluster-up` from source, for a Linux
# machine without docker: Kubernetes, Knative Serving and Eventing, CoreDNS,
# Traefik and a pause program, compiled from the Go module proxy; their
# images (FROM scratch, built with podman); and Knative's YAML, taken from the
# same module zips with the images renamed to the local ones.
#
#   config/knative/cluster/source/build.sh          build what is missing
#   config/knative/cluster/source/build.sh --where  print the cache directory
#
# Everything lands in one cache directory outside the clone (versions.sh):
# the first build takes about 30-45 minutes on 2 cores, later ones reuse it.
set -euo pipefail
. "$(dirname "$0")/versions.sh"

if [[ ${1:-} == --where ]]; then
	echo "$CACHE_DIR"
	exit 0
fi
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
fi

# The Go caches are shared by every key: they are content-addressed.
export GOMODCACHE=$CACHE_ROOT/go/mod GOCACHE=$CACHE_ROOT/go/build
export CGO_ENABLED=0 GOFLAGS=-mod=readonly
mkdir -p "$BIN_DIR" "$YAML_DIR" "$GOMODCACHE" "$GOCACHE"
started=$SECONDS

say() { printf '== [%s] %s\n' "$(elapsed $((SECONDS - started)))" "$*"; }
elapsed() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
die() { echo "cluster build: $*" >&2; exit 1; }

# heartbeat LABEL CMD...: runs CMD, printing a line a minute so that a long
# compile shows it is alive, and the time it took at the end.
heartbeat() {
	local label=$1 t0=$SECONDS pid
	shift
	"$@" &
	pid=$!
	while ! wait_for "$pid" 60; do
		printf '   %s: still compiling (%s)\n' "$label" "$(elapsed $((SECONDS - t0)))"
	done
	wait "$pid" || die "$label failed (the lines above say why)"
	printf '   %s: done in %s\n' "$label" "$(elapsed $((SECONDS - t0)))"
}

# wait_for PID SECONDS: true once PID has exited, false after SECONDS.
wait_for() {
	local i
	for ((i = 0; i < $2; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 1
	done
	return 1
}

# build MODULE OUTPUT LDFLAGS PACKAGE...: go build in one wrapper module.
# TAGS=timetzdata embeds the time zones for what runs FROM scratch and reads
# them (a PingSource's timezone: Etc/UTC); the host's programs need none.
build() {
	local module=$1 out=$2 ldflags=$3
	shift 3
	(cd "$SOURCE_DIR/$module" && go build -trimpath -tags "${TAGS:-}" -ldflags "-s -w $ldflags" -o "$out" "$@")
}

have() {
	local f
	for f in "$@"; do [[ -x $BIN_DIR/$f ]] || return 1; done
}

command -v go >/dev/null || die "go is not installed; Go 1.24 or newer builds the cluster"
command -v podman >/dev/null || die "podman is not installed (apt-get install podman): it builds the cluster's images"

say "cluster build in $CACHE_DIR"
if [[ ! -e $CACHE_DIR/.built ]]; then
	echo "   the first build on a machine downloads about 5 GB of Go modules and compiles for 30-45 minutes on 2 cores; later ones reuse it"
fi

say "downloading the Go modules"
for m in kubernetes knative coredns traefik; do
	(cd "$SOURCE_DIR/$m" && go mod download)
done

# Kubernetes, stamped with its version: Knative refuses a server that says
# v0.0.0-master.
K8S=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
if ! have "${K8S[@]}"; then
	minor=${KUBERNETES_VERSION#v1.}
	minor=${minor%%.*}
	stamp=""
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		stamp+=" -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
	done
	say "compiling Kubernetes $KUBERNETES_VERSION (${K8S[*]}; about 10-18 minutes the first time)"
	heartbeat kubernetes build kubernetes "$BIN_DIR/" "$stamp" $(printf 'k8s.io/kubernetes/cmd/%s ' "${K8S[@]}")
fi

# Knative: one binary per command, named knative-<repo>-<command path>,
# the name its image gets too.
KNATIVE_CMDS=(
	serving/cmd/activator serving/cmd/autoscaler serving/cmd/controller serving/cmd/queue serving/cmd/webhook
	eventing/cmd/controller eventing/cmd/webhook eventing/cmd/mtping eventing/cmd/jobsink eventing/cmd/requestreply
	eventing/cmd/broker/filter eventing/cmd/broker/ingress eventing/cmd/mtchannel_broker
	eventing/cmd/in_memory/channel_controller eventing/cmd/in_memory/channel_dispatcher
)
knative_name() { local p=${1/\/cmd\//-}; p=${p//\//-}; echo "knative-${p//_/-}"; }
knative_missing=()
for c in "${KNATIVE_CMDS[@]}"; do
	have "$(knative_name "$c")" || knative_missing+=("$c")
done
if ((${#knative_missing[@]})); then
	say "compiling Knative Serving and Eventing $KNATIVE_VERSION (${#knative_missing[@]} commands; about 8 minutes the first time)"
	for c in "${knative_missing[@]}"; do
		TAGS=timetzdata heartbeat "$(knative_name "$c")" build knative "$BIN_DIR/$(knative_name "$c")" "" "knative.dev/$c"
	done
fi

if ! have coredns; then
	say "compiling CoreDNS $COREDNS_VERSION (about 2 minutes)"
	TAGS=timetzdata heartbeat coredns build coredns "$BIN_DIR/coredns" "" .
fi
if ! have traefik; then
	say "compiling Traefik $TRAEFIK_VERSION (about 10 minutes the first time)"
	TAGS=timetzdata heartbeat traefik build traefik "$BIN_DIR/traefik" "" github.com/traefik/traefik/v3/cmd/traefik
fi
if ! have pause; then
	build pause "$BIN_DIR/pause" "" .
fi

# Knative's YAML from the module zips. Serving's config/core links the
# networking and caching CRDs and config-network in from those modules
# (module zips drop links), so they are taken from the versions Serving's
# go.mod names. ko:// image references become the local images.
yaml_from_modules() {
	local serving eventing networking caching
	serving=$(cd "$SOURCE_DIR/knative" && go list -m -f '{{.Dir}}' knative.dev/serving)
	eventing=$(cd "$SOURCE_DIR/knative" && go list -m -f '{{.Dir}}' knative.dev/eventing)
	networking=$(cd "$SOURCE_DIR/knative" && go list -m -f '{{.Dir}}' knative.dev/networking)
	caching=$(cd "$SOURCE_DIR/knative" && go list -m -f '{{.Dir}}' knative.dev/caching)
	# concat OUT FILE...: the files as one multi-document YAML, ko:// replaced.
	concat() {
		local out=$1 f
		shift
		for f in "$@"; do
			printf -- '---\n# %s\n' "${f#"$GOMODCACHE"/}"
			cat "$f"
			echo
		done | perl -pe 's{ko://knative\.dev/(\w+)/cmd/([\w/]+)}{my ($r, $p) = ($1, $2); $p =~ s{[/_]}{-}g; "'"$IMAGE_PREFIX"'/knative-$r-$p:'"$KNATIVE_VERSION"'"}ge' >"$out.tmp"
		mv "$out.tmp" "$out"
	}
	is_crd() { ! grep -h '^kind:' "$1" | grep -qv CustomResourceDefinition; }
	split() { # split KIND(crd|rest) FILE...: the files of that kind
		local want=$1 f
		shift
		for f in "$@"; do
			if is_crd "$f"; then [[ $want == crd ]] && echo "$f"; else [[ $want == rest ]] && echo "$f"; fi
		done
		return 0
	}
	local s_all e_all
	mapfile -t s_all < <(find "$serving/config/core" -name '*.yaml' | sort)
	s_all+=("$networking"/config/{certificate,ingress,serverlessservice,domain-claim}.yaml "$caching/config/image.yaml")
	concat "$YAML_DIR/serving-crds.yaml" $(split crd "${s_all[@]}")
	concat "$YAML_DIR/serving-core.yaml" $(split rest "${s_all[@]}") "$networking/config/config-network.yaml"
	mapfile -t e_all < <(find "$eventing/config/core" -name '*.yaml' | sort)
	concat "$YAML_DIR/eventing-crds.yaml" $(split crd "${e_all[@]}")
	concat "$YAML_DIR/eventing-core.yaml" $(split rest "${e_all[@]}") "$eventing"/third_party/eventing-integrations-latest/*.yaml
	concat "$YAML_DIR/in-memory-channel.yaml" $(find "$eventing/config/channels/in-memory-channel" -name '*.yaml' | sort)
	concat "$YAML_DIR/mt-channel-broker.yaml" $(find "$eventing/config/brokers/mt-channel-broker" -name '*.yaml' | sort)
}
say "Knative's YAML from the module zips"
yaml_from_modules

# The images: one static binary each, FROM scratch, a numeric non-root user
# (Knative's Deployments demand it). CoreDNS and Traefik listen on high
# ports, so they need no capability either.
if [[ ! -s $IMAGE_ARCHIVE ]]; then
	say "building the images with podman"
	context=$(mktemp -d)
	trap 'rm -rf "$context"' EXIT
	names=()
	image() { # image NAME BINARY: an image named $IMAGE_PREFIX/NAME
		local name=$1 binary=$2 ref
		ref="$IMAGE_PREFIX/$name:$3"
		cp "$BIN_DIR/$binary" "$context/app"
		printf 'FROM scratch\nCOPY app /ko-app/%s\nUSER 65532:65532\nENTRYPOINT ["/ko-app/%s"]\n' "$name" "$name" >"$context/Containerfile"
		podman build --quiet --no-cache -t "$ref" "$context" >/dev/null
		names+=("$ref")
	}
	for c in "${KNATIVE_CMDS[@]}"; do
		image "$(knative_name "$c")" "$(knative_name "$c")" "$KNATIVE_VERSION"
	done
	image coredns coredns "$COREDNS_VERSION"
	image traefik traefik "$TRAEFIK_VERSION"
	image pause pause v1
	podman save --quiet --multi-image-archive -o "$IMAGE_ARCHIVE.tmp" "${names[@]}"
	mv "$IMAGE_ARCHIVE.tmp" "$IMAGE_ARCHIVE"
	printf '%s\n' "${names[@]}" >"$CACHE_DIR/images.txt"
	# The archive is what containerd imports; podman need not keep a copy.
	podman rmi --force "${names[@]}" >/dev/null
fi

touch "$CACHE_DIR/.built"
say "cluster build complete: $(du -sh "$CACHE_DIR" | cut -f1) in $CACHE_DIR"
