#!/usr/bin/env bash
# The single-node Kubernetes cluster built by build.sh, run as processes on
# this Linux machine (root, no docker): etcd, the control plane, containerd
# with runc and the CNI bridge, the kubelet and kube-proxy; CoreDNS in the
# cluster. `make cluster-up` and `make cluster-down` call it through
# cluster.sh.
#
#   node.sh up       start everything (building first if needed); idempotent
#   node.sh down     stop every process it started and remove what it added to
#                    the host: iptables chains, the bridge, the node address,
#                    mounts, its state directory and its kubectl context; the
#                    node's logs are kept in /var/log/claimrisk-cluster
#   node.sh status   which of its processes run
#   node.sh check-disk  whether the build and the node have room (up checks)
#
# Addresses: the node is 10.200.0.1 (on lo), pods 10.244.0.0/24 on the
# bridge claimrisk0, Services 10.96.0.0/16 (DNS 10.96.0.10); NodePorts answer
# on 127.0.0.1 too.
set -euo pipefail
. "$(dirname "$0")/versions.sh"
. "$(dirname "$0")/disk.sh"

STATE_DIR=${CLAIMRISK_CLUSTER_STATE:-/var/lib/claimrisk-cluster}
RUN_STATE=/run/claimrisk-cluster
PKI=$STATE_DIR/pki
LOGS=$STATE_DIR/logs
# down keeps the last cluster's node logs here, so a slow or failed run can
# still be explained after the teardown (the pods' logs stay in /var/log/pods
# until the next cluster's kubelet removes them).
KEPT_LOGS=${CLAIMRISK_CLUSTER_KEPT_LOGS:-/var/log/claimrisk-cluster}
PIDS=$RUN_STATE/pids
NODE_NAME=claimrisk
NODE_IP=10.200.0.1
POD_CIDR=10.244.0.0/24
BRIDGE=claimrisk0
SERVICE_CIDR=10.96.0.0/16
API_SERVICE_IP=10.96.0.1
DNS_IP=10.96.0.10
API_PORT=6443
ETCD_PORT=2479
CONTAINERD_SOCK=$RUN_STATE/containerd.sock
CONTEXT=claimrisk-source
PROCESSES=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy)
HERE=$(cd "$(dirname "$0")" && pwd)

say() { printf '== %s\n' "$*"; }
die() { echo "cluster: $*" >&2; exit 1; }

kc() { kubectl --kubeconfig "$PKI/admin.kubeconfig" "$@"; }

preflight() {
	[[ $(uname -s) == Linux ]] || die "the source-built cluster runs on Linux only; elsewhere install docker and use kind"
	[[ $(id -u) == 0 ]] || die "the source-built cluster needs root (it runs containerd, the kubelet and iptables); run as root, or install docker and use kind"
	local missing=()
	for c in containerd ctr runc etcd iptables ip openssl kubectl podman perl; do
		command -v "$c" >/dev/null 2>&1 || missing+=("$c")
	done
	[[ -x /usr/lib/cni/bridge || -x /opt/cni/bin/bridge ]] || missing+=(cni-plugins)
	if ((${#missing[@]})); then
		if command -v apt-get >/dev/null && [[ ${CLAIMRISK_CLUSTER_NO_INSTALL:-} == "" ]]; then
			say "installing Debian's containerd, runc, CNI plugins, etcd, iptables and podman (missing: ${missing[*]})"
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
				containerd runc containernetworking-plugins etcd-server iptables iproute2 openssl podman perl conntrack >/dev/null
		else
			die "missing: ${missing[*]} (Debian: apt-get install containerd runc containernetworking-plugins etcd-server iptables podman)"
		fi
	fi
	command -v kubectl >/dev/null || die "kubectl is not installed: https://kubernetes.io/docs/tasks/tools/"
}

cni_bin_dir() { if [[ -x /usr/lib/cni/bridge ]]; then echo /usr/lib/cni; else echo /opt/cni/bin; fi; }

pki() {
	[[ -s $PKI/admin.kubeconfig ]] && return 0
	say "certificates and kubeconfigs in $PKI"
	mkdir -p "$PKI"
	(
		cd "$PKI"
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj /CN=claimrisk-cluster-ca 2>/dev/null
		openssl genrsa -out sa.key 2048 2>/dev/null
		openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
		# cert NAME SUBJECT [SANS]
		cert() {
			openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
			local ext
			ext=$(mktemp)
			printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n' \
				"$([[ -n ${3:-} ]] && echo serverAuth,clientAuth || echo clientAuth)" >"$ext"
			[[ -n ${3:-} ]] && echo "subjectAltName=$3" >>"$ext"
			openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 3650 -extfile "$ext" 2>/dev/null
			rm -f "$1.csr" "$ext"
		}
		cert apiserver /CN=kube-apiserver "IP:$NODE_IP,IP:$API_SERVICE_IP,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
		cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
		cert admin "/O=system:masters/CN=claimrisk-admin"
		cert controller-manager /CN=system:kube-controller-manager
		cert scheduler /CN=system:kube-scheduler
		cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" "IP:$NODE_IP,DNS:$NODE_NAME"
		cert kube-proxy /CN=system:kube-proxy
		for who in admin controller-manager scheduler kubelet kube-proxy; do
			kubectl config set-cluster claimrisk --server "https://$NODE_IP:$API_PORT" \
				--certificate-authority ca.crt --embed-certs --kubeconfig "$who.kubeconfig" >/dev/null
			kubectl config set-credentials "$who" --client-certificate "$who.crt" --client-key "$who.key" \
				--embed-certs --kubeconfig "$who.kubeconfig" >/dev/null
			kubectl config set-context default --cluster claimrisk --user "$who" --kubeconfig "$who.kubeconfig" >/dev/null
			kubectl config use-context default --kubeconfig "$who.kubeconfig" >/dev/null
		done
	)
}

# start NAME CMD...: a process in its own session, logged and remembered.
start() {
	local name=$1
	shift
	if running "$name"; then
		return 0
	fi
	mkdir -p "$LOGS" "$PIDS"
	setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
	echo $! >"$PIDS/$name.pid"
}

running() { [[ -s $PIDS/$1.pid ]] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }

# wait_until SECONDS WHAT CMD...: retry CMD once a second.
wait_until() {
	local limit=$1 what=$2 i
	shift 2
	for ((i = 0; i < limit; i++)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 1
	done
	die "$what did not come up within ${limit}s (logs: $LOGS)"
}

host_network() {
	ip addr show dev lo | grep -q "inet $NODE_IP/" || ip addr add "$NODE_IP/32" dev lo
	mkdir -p "$STATE_DIR"
	[[ -e $STATE_DIR/ip_forward.before ]] || cat /proc/sys/net/ipv4/ip_forward >"$STATE_DIR/ip_forward.before"
	echo 1 >/proc/sys/net/ipv4/ip_forward
	# Pod-to-Service replies cross the bridge: iptables must see them.
	if [[ -w /proc/sys/net/bridge/bridge-nf-call-iptables ]]; then
		echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables
	else
		modprobe br_netfilter 2>/dev/null || true
	fi
}

containerd_config() {
	local dir=$STATE_DIR/containerd
	mkdir -p "$dir" "$STATE_DIR/cni/net.d"
	cat >"$STATE_DIR/cni/net.d/10-claimrisk.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "claimrisk",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$STATE_DIR/cni/ipam"
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
	# Its own containerd, beside any other: its own root, state and socket.
	cat >"$dir/config.toml" <<EOF
version = 2
root = "$dir/root"
state = "$RUN_STATE/containerd"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$IMAGE_PREFIX/pause:v1"
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$(command -v runc)"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$(cni_bin_dir)"
    conf_dir = "$STATE_DIR/cni/net.d"
EOF
}

kubelet_config() {
	cat >"$STATE_DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: $PKI/ca.crt
authorization:
  mode: Webhook
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
clusterDNS: [$DNS_IP]
clusterDomain: cluster.local
tlsCertFile: $PKI/kubelet.crt
tlsPrivateKeyFile: $PKI/kubelet.key
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  imagefs.available: 1%
  nodefs.inodesFree: 1%
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
EOF
}

# check_disk: room for what up is about to write. Measured: a first build
# fills 11 GB of Go modules and build cache and 2.6 GB of outputs; the node
# holds 5.8 GB of images, containers and volumes after make deploy (7.2 GB
# after lab 4 and the smoke test too).
check_disk() {
	if [[ ! -e $CACHE_DIR/.built ]]; then
		if [[ -d $CACHE_ROOT/go/build ]]; then
			need_disk "$CACHE_ROOT" 4 "the cluster build"
		else
			need_disk "$CACHE_ROOT" 15 "the first cluster build"
		fi
	fi
	running containerd || need_disk "$STATE_DIR" 10 "the node (its images, containers and volumes)"
}

up() {
	preflight
	check_disk
	"$HERE/build.sh"
	local bin=$BIN_DIR
	host_network
	pki

	say "etcd, kube-apiserver, kube-controller-manager, kube-scheduler"
	start etcd etcd --name "$NODE_NAME" --data-dir "$STATE_DIR/etcd" \
		--listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--listen-peer-urls http://127.0.0.1:$((ETCD_PORT + 1)) --initial-advertise-peer-urls http://127.0.0.1:$((ETCD_PORT + 1)) \
		--initial-cluster "$NODE_NAME=http://127.0.0.1:$((ETCD_PORT + 1))"
	start kube-apiserver "$bin/kube-apiserver" --advertise-address "$NODE_IP" --bind-address "$NODE_IP" --secure-port "$API_PORT" \
		--etcd-servers "http://127.0.0.1:$ETCD_PORT" --service-cluster-ip-range "$SERVICE_CIDR" \
		--client-ca-file "$PKI/ca.crt" --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
		--kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
		--service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
		--service-account-issuer https://kubernetes.default.svc.cluster.local \
		--authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --allow-privileged=true \
		--kubelet-preferred-address-types InternalIP,Hostname
	wait_until 120 "kube-apiserver" kc get --raw /readyz
	start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig "$PKI/controller-manager.kubeconfig" \
		--authentication-kubeconfig "$PKI/controller-manager.kubeconfig" --authorization-kubeconfig "$PKI/controller-manager.kubeconfig" \
		--bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials \
		--service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
		--cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
		--service-cluster-ip-range "$SERVICE_CIDR"
	start kube-scheduler "$bin/kube-scheduler" --kubeconfig "$PKI/scheduler.kubeconfig" \
		--authentication-kubeconfig "$PKI/scheduler.kubeconfig" --authorization-kubeconfig "$PKI/scheduler.kubeconfig" \
		--bind-address 127.0.0.1 --leader-elect=false

	say "containerd and the cluster's images"
	containerd_config
	start containerd containerd --config "$STATE_DIR/containerd/config.toml"
	wait_until 60 "containerd" ctr --address "$CONTAINERD_SOCK" version
	import_images "$IMAGE_ARCHIVE"

	say "kubelet and kube-proxy"
	kubelet_config
	start kubelet "$bin/kubelet" --config "$STATE_DIR/kubelet.yaml" --kubeconfig "$PKI/kubelet.kubeconfig" \
		--hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --root-dir "$STATE_DIR/kubelet"
	start kube-proxy "$bin/kube-proxy" --kubeconfig "$PKI/kube-proxy.kubeconfig" --proxy-mode iptables \
		--hostname-override "$NODE_NAME" --bind-address "$NODE_IP" --cluster-cidr "$POD_CIDR" \
		--conntrack-max-per-core 0 --metrics-bind-address 127.0.0.1:10249
	wait_until 120 "the node" kc wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s
	# The API server calls the kubelet (logs, exec) as this user.
	kc create clusterrolebinding apiserver-kubelet-client --clusterrole system:kubelet-api-admin \
		--user kube-apiserver-kubelet-client --dry-run=client -o yaml | kc apply -f - >/dev/null

	say "CoreDNS"
	sed -e "s|@IMAGE@|$IMAGE_PREFIX/coredns:$COREDNS_VERSION|" -e "s|@DNS_IP@|$DNS_IP|" \
		"$HERE/coredns.yaml" | kc apply -f - >/dev/null
	kc -n kube-system rollout status deployment/coredns --timeout=180s >/dev/null

	kubeconfig_context
	say "the node is up: kubectl --context $CONTEXT get nodes"
}

# import_images ARCHIVE: into containerd's k8s.io namespace, where the
# kubelet looks.
import_images() {
	if [[ $1 == "$IMAGE_ARCHIVE" && -s $CACHE_DIR/images.txt ]]; then
		local have missing=0 ref
		have=$(ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls -q)
		while read -r ref; do
			grep -qxF "$ref" <<<"$have" || missing=1
		done <"$CACHE_DIR/images.txt"
		((missing)) || return 0
	fi
	ctr --address "$CONTAINERD_SOCK" -n k8s.io images import --no-unpack "$1" >/dev/null
}

# The admin credentials as a context of your kubeconfig, made current, as
# kind does.
kubeconfig_context() {
	kubectl config set-cluster "$CONTEXT" --server "https://$NODE_IP:$API_PORT" \
		--certificate-authority "$PKI/ca.crt" --embed-certs >/dev/null
	kubectl config set-credentials "$CONTEXT" --client-certificate "$PKI/admin.crt" \
		--client-key "$PKI/admin.key" --embed-certs >/dev/null
	kubectl config set-context "$CONTEXT" --cluster "$CONTEXT" --user "$CONTEXT" >/dev/null
	kubectl config use-context "$CONTEXT" >/dev/null
}

# stop NAME: SIGTERM to its session, SIGKILL after 15 s.
stop() {
	local pid i
	[[ -s $PIDS/$1.pid ]] || return 0
	pid=$(cat "$PIDS/$1.pid")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 15; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 1
		done
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$PIDS/$1.pid"
}

down() {
	say "stopping the pods' containers"
	local netns=()
	if [[ -S $CONTAINERD_SOCK ]]; then
		stop kubelet
		local c
		# The pods' network namespaces, which the CNI plugin made and no one
		# will now tear down: theirs only, not podman's.
		for c in $(ctr --address "$CONTAINERD_SOCK" -n k8s.io containers ls -q 2>/dev/null); do
			while read -r ns; do
				[[ -n $ns ]] && netns+=("$ns")
			done < <(ctr --address "$CONTAINERD_SOCK" -n k8s.io containers info "$c" 2>/dev/null |
				perl -0777 -ne 'while (/"type":\s*"network",\s*"path":\s*"([^"]+)"/g) { print "$1\n" }' | sort -u)
		done
		for c in $(ctr --address "$CONTAINERD_SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
			ctr --address "$CONTAINERD_SOCK" -n k8s.io tasks kill -s SIGKILL "$c" >/dev/null 2>&1 || true
		done
		sleep 1
		for c in $(ctr --address "$CONTAINERD_SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
			ctr --address "$CONTAINERD_SOCK" -n k8s.io tasks delete -f "$c" >/dev/null 2>&1 || true
		done
	fi
	say "stopping the processes"
	local p
	for ((i = ${#PROCESSES[@]} - 1; i >= 0; i--)); do
		stop "${PROCESSES[i]}"
	done
	# containerd's shims outlive it: they are ours if they name our socket.
	pkill -KILL -f "containerd-shim.*-address $CONTAINERD_SOCK" 2>/dev/null || true

	say "removing iptables chains, the bridge, the node address and the mounts"
	if [[ -x $BIN_DIR/kube-proxy ]]; then
		"$BIN_DIR/kube-proxy" --cleanup >/dev/null 2>&1 || true
	fi
	local table chain
	for table in nat filter mangle; do
		for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && ($2 ~ /^KUBE-/ || $2 ~ /^CNI-/) {print $2}'); do
			iptables -t "$table" -S 2>/dev/null | awk -v c="$chain" '$1 == "-A" && $0 ~ ("-j " c "( |$)") {sub(/^-A/, "-D"); print}' |
				while read -r rule; do eval iptables -t "$table" "$rule" 2>/dev/null || true; done
		done
		for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && ($2 ~ /^KUBE-/ || $2 ~ /^CNI-/) {print $2}'); do
			iptables -t "$table" -F "$chain" 2>/dev/null || true
		done
		for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && ($2 ~ /^KUBE-/ || $2 ~ /^CNI-/) {print $2}'); do
			iptables -t "$table" -X "$chain" 2>/dev/null || true
		done
	done
	ip link del "$BRIDGE" 2>/dev/null || true
	ip link show 2>/dev/null | awk -F'[ @:]+' '/veth/ && /master '"$BRIDGE"'/ {print $2}' | xargs -r -n1 ip link del 2>/dev/null || true
	ip addr del "$NODE_IP/32" dev lo 2>/dev/null || true
	if [[ -s $STATE_DIR/ip_forward.before ]]; then
		cat "$STATE_DIR/ip_forward.before" >/proc/sys/net/ipv4/ip_forward
	fi
	local m i
	for ((i = 0; i < 5; i++)); do # a path may be mounted more than once
		for m in $(findmnt -rn -o TARGET | grep -E "^($STATE_DIR|$RUN_STATE)" | sort -r) $(printf '%s\n' "${netns[@]}" | sed 's|^/var/run/|/run/|' | sort -u); do
			umount -l "$m" 2>/dev/null || true
		done
	done
	local left=0
	for m in "${netns[@]}"; do
		rm -f "$m" 2>/dev/null || true
		[[ -e $m ]] && left=$((left + 1))
	done
	# Some sandboxes (gVisor) keep an unmounted namespace file busy; it is
	# empty and named at random, so it cannot disturb the next cluster.
	((left == 0)) || echo "   $left pod network namespace file(s) in /run/netns are still busy and stay"
	if [[ -d $LOGS ]]; then
		rm -rf "$KEPT_LOGS"
		mkdir -p "$(dirname "$KEPT_LOGS")"
		mv "$LOGS" "$KEPT_LOGS" 2>/dev/null || cp -r "$LOGS" "$KEPT_LOGS" 2>/dev/null || true
	fi
	rm -rf "$STATE_DIR" "$RUN_STATE"
	if kubectl config get-contexts "$CONTEXT" >/dev/null 2>&1; then
		kubectl config delete-context "$CONTEXT" >/dev/null
		kubectl config delete-cluster "$CONTEXT" >/dev/null
		kubectl config unset "users.$CONTEXT" >/dev/null
	fi
	say "the source-built cluster is down; its build stays in $CACHE_DIR, its node's logs in $KEPT_LOGS"
}

status() {
	local p
	for p in "${PROCESSES[@]}"; do
		if running "$p"; then echo "$p running (pid $(cat "$PIDS/$p.pid"))"; else echo "$p stopped"; fi
	done
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
check-disk) check_disk ;;
import) import_images "$2" ;;
-h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' ;;
*)
	echo "usage: $0 up|down|status|check-disk (--help)" >&2
	exit 2
	;;
esac
