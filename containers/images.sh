#!/usr/bin/env bash
# Builds claimrisk's container images with podman, else docker.
#
#   containers/images.sh [NAME...]
#   containers/images.sh --list
#
# NAMEs: a function, one of functions/NAME/cmd/main.go (the default: every
# function), mlflow, evidently. `make images` and `make images-python` call
# this. --list prints the functions' names on one line, for the scripts that
# load or push their images.
#
# A function image is FROM scratch: the static binary is built here on the
# host (no registry needed) and copied in with the CA roots and its module
# list. The inputs are pinned: the Go toolchain (GO_TOOLCHAIN; go refuses to
# build with another), the modules (go.sum), the flags below, and the file
# times (SOURCE_DATE_EPOCH, the commit's time by default), so the same commit
# gives the same binary and, with podman's --timestamp, the same image ID.
#
# Environment (all optional):
#   ENGINE             podman or docker (default: podman if installed, else docker)
#   IMAGE_REPO         image name prefix (default kind.local/claimrisk; Knative
#                      resolves no digests for kind.local, so kind-loaded images work)
#   IMAGE_TAG          tag (default: the commit)
#   COMMIT             built into the binaries as version.Commit (default: git HEAD, 12 hex)
#   SOURCE_DATE_EPOCH  file and image times (default: the commit's time)
#   GO_TOOLCHAIN       Go release of the binaries (default go1.26.8)
#   GOARCH             target architecture (default: go env GOARCH)
#   TAGS               Go build tags: gcs and/or azure add those bucket drivers
#                      (file://, mem:// and s3:// are always in), e.g. TAGS=gcs
#   BASE_IMAGE         base of the Python images (default python:3.11-slim)
#   NO_CACHE           build the Python images even when a build of the same
#                      inputs is kept (as localhost/claimrisk-cache/NAME:DIGEST)
#   OUT                where the build contexts and module lists go (default bin/images)
#   BUILD_CA_BUNDLE    CA bundle pip trusts inside the Python builds, for a
#                      TLS-inspecting proxy (default: $PIP_CERT when it is set);
#                      passed as a build secret, never stored in an image
set -euo pipefail
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 0
fi
cd "$(dirname "$0")/.."

# The functions, from the directory listing; a test in shared/fnspec checks
# that it matches the table the Go code reads.
FUNCTIONS=()
for main in functions/*/cmd/main.go; do
	[[ -e $main ]] || continue
	main=${main#functions/}
	FUNCTIONS+=("${main%%/*}")
done
if [[ ${1:-} == --list ]]; then
	echo "${FUNCTIONS[*]}"
	exit 0
fi

OUT=${OUT:-bin/images}
GO=${GO:-go}
IMAGE_REPO=${IMAGE_REPO:-kind.local/claimrisk}
COMMIT=${COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo dev)}
IMAGE_TAG=${IMAGE_TAG:-$COMMIT}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
GO_TOOLCHAIN=${GO_TOOLCHAIN:-go1.26.8}
BASE_IMAGE=${BASE_IMAGE:-python:3.11-slim}
export SOURCE_DATE_EPOCH

die() { echo "make images: $*" >&2; exit 1; }

# The engine: podman, else a docker whose daemon answers.
if [[ -z "${ENGINE:-}" ]]; then
	if command -v podman >/dev/null 2>&1; then
		ENGINE=podman
	elif command -v docker >/dev/null 2>&1; then
		docker info >/dev/null 2>&1 ||
			die "docker is installed but its daemon does not answer (docker info failed): start Docker, or install podman"
		ENGINE=docker
	else
		die "no container engine: install podman or docker, then run make images again"
	fi
fi
command -v "$ENGINE" >/dev/null 2>&1 || die "ENGINE=$ENGINE is not installed"
command -v "$GO" >/dev/null 2>&1 || die "go is not installed: the function binaries are built on the host"

names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=("${FUNCTIONS[@]}")

# Reproducible file times inside the images: podman stamps every file and
# the image config with --timestamp; docker (BuildKit) reads the build arg.
engine_build() {
	local containerfile=$1 context=$2 image=$3
	shift 3
	find "$context" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	local flags=(--file "$containerfile" --tag "$image" --build-arg "COMMIT=$COMMIT" "$@")
	if [[ $ENGINE == podman ]]; then
		flags+=(--timestamp "$SOURCE_DATE_EPOCH")
	else
		flags+=(--build-arg "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH")
	fi
	"$ENGINE" build --quiet "${flags[@]}" "$context" >/dev/null
}

build_function() {
	local name=$1 ctx=$OUT/$1
	rm -rf "$ctx" && mkdir -p "$ctx"
	# GOTOOLCHAIN pins the Go release: with go1.26.8 installed it is used
	# as is; another go fetches exactly that release through the module proxy.
	GOTOOLCHAIN=$GO_TOOLCHAIN CGO_ENABLED=0 GOOS=linux GOARCH=${GOARCH:-$($GO env GOARCH)} \
		$GO build -trimpath -buildvcs=false -tags "${TAGS:-}" \
		-ldflags "-s -w -X github.com/claimrisk/claimrisk/shared/version.Commit=$COMMIT" \
		-o "$ctx/function" "./functions/$name/cmd"
	cp "$OUT/ca-certificates.crt" "$ctx/"
	(cd "$ctx" && $GO version -m function) >"$ctx/modules.txt"
	cp "$ctx/modules.txt" "$OUT/$name.modules.txt"
	local flags=()
	# One layer, no intermediate images: the build takes a second anyway.
	[[ $ENGINE == podman ]] && flags+=(--layers=false)
	engine_build containers/function/Containerfile "$ctx" "$IMAGE_REPO/$name:$IMAGE_TAG" "${flags[@]}"
}

# python_key NAME: a digest of everything a Python image is built from (its
# directory, the monitoring job for evidently, the base image's ID), so a
# build whose inputs were built before is skipped.
python_key() {
	local inputs=(containers/"$1"/*)
	[[ $1 == evidently ]] && inputs+=(monitoring/*.py)
	{
		cat "${inputs[@]}"
		"$ENGINE" image inspect --format '{{.Id}}' "$BASE_IMAGE" 2>/dev/null || echo "$BASE_IMAGE"
	} | sha256sum | cut -c1-16
}

build_python() {
	local name=$1 ctx=$OUT/$1
	# The Python images take minutes and change rarely: each build is kept
	# under a name made of its inputs' digest (NO_CACHE=1 builds anyway), and
	# the container tests, make images-python and make deploy share it.
	local cached=localhost/claimrisk-cache/$name:$(python_key "$name")
	if [[ -z ${NO_CACHE:-} ]] && "$ENGINE" image inspect "$cached" >/dev/null 2>&1; then
		"$ENGINE" tag "$cached" "$IMAGE_REPO/$name:$IMAGE_TAG"
		echo "$IMAGE_REPO/$name:$IMAGE_TAG: the build of these inputs is kept as $cached"
		return
	fi
	rm -rf "$ctx" && mkdir -p "$ctx"
	cp "containers/$name/requirements.txt" "$ctx/"
	cp "containers/$name/requirements.txt" "$OUT/$name.requirements.txt"
	if [[ $name == evidently ]]; then
		mkdir -p "$ctx/monitoring"
		cp monitoring/*.py "$ctx/monitoring/"
	fi
	local flags=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
	local ca=${BUILD_CA_BUNDLE:-${PIP_CERT:-}}
	[[ -n $ca ]] && flags+=(--secret "id=pipcert,src=$ca")
	engine_build "containers/$name/Containerfile" "$ctx" "$IMAGE_REPO/$name:$IMAGE_TAG" "${flags[@]}"
	"$ENGINE" tag "$IMAGE_REPO/$name:$IMAGE_TAG" "$cached"
}

mkdir -p "$OUT"
cacerts=""
is_function() {
	local f
	for f in "${FUNCTIONS[@]}"; do
		[[ $f == "$1" ]] && return 0
	done
	return 1
}

for name in "${names[@]}"; do
	if is_function "$name"; then
		if [[ -z $cacerts ]]; then
			$GO run ./containers/cacerts -o "$OUT/ca-certificates.crt"
			cacerts=done
		fi
		build_function "$name"
	elif [[ $name == mlflow || $name == evidently ]]; then
		build_python "$name"
	else
		die "unknown image $name: choose from ${FUNCTIONS[*]} mlflow evidently"
	fi
	echo "$IMAGE_REPO/$name:$IMAGE_TAG ($ENGINE)"
done
