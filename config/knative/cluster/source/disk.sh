# need_disk DIR GB WHAT: stop early, in one line, when the file system that
# holds DIR (or its nearest existing parent) has less than GB gigabytes
# free. A build or an image import that runs out of space halfway leaves a
# half-written cache, or a node whose containerd cannot unpack an image.
# Sourced by node.sh; the caller defines die. Kept out of versions.sh and
# build.sh, whose digest keys the build cache.
need_disk() {
	local dir=$1 want=$2 what=$3 free
	while [[ ! -e $dir ]]; do dir=$(dirname "$dir"); done
	free=$(df -Pk "$dir" | awk 'NR == 2 {print int($4 / 1048576)}')
	((free >= want)) ||
		die "$what needs about $want GB free in $dir, and $free GB are (df -h $dir; CLAIMRISK_CLUSTER_CACHE and CLAIMRISK_CLUSTER_STATE move them)"
}
