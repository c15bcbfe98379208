#!/usr/bin/env bash
# Makes localhost/debian-base:bookworm, the base of the Python images where no
# registry is reachable: a minimal Debian 12 from Debian's own packages
# (debootstrap, about a minute), imported into podman. Kept once made.
#
#   containers/debian-base.sh      make it unless it exists (needs root and debootstrap)
set -euo pipefail
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
	sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
fi
IMAGE=localhost/debian-base:bookworm
if podman image exists "$IMAGE"; then
	exit 0
fi
command -v debootstrap >/dev/null || { echo "containers/debian-base.sh: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
mirror=$(awk '$1 == "URIs:" {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
rootfs=$(mktemp -d)
trap '$SUDO rm -rf "$rootfs"' EXIT
echo "== $IMAGE: debootstrap from $mirror (about a minute)"
$SUDO debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
# ENV PATH must be set: an imported rootfs has no config.
$SUDO tar -C "$rootfs" -c . | $SUDO podman import \
	--change 'ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	--quiet - "$IMAGE" >/dev/null
