#!/bin/bash
# inner.sh: the CRI lane's run, inside the namespaces lane.sh made for it
# (network, mount and pid namespaces of its own: see lane.sh). Usage:
#
#   inner.sh WORK BIN NAME=RUNTIME...
#
# WORK is the lane's temporary directory, BIN holds critest, crictl,
# mkimages, pause and nnp. Starts a registry on 127.0.0.1 and pushes the
# suite's images to it, writes the CNI network, then for each NAME=RUNTIME
# in turn: starts a containerd whose runc shim calls RUNTIME (its
# BinaryName), runs critest against it (ginkgo's JSON report goes to
# WORK/NAME.json, its output to WORK/NAME.log), removes every pod, image
# and container through the CRI (a container state the runtime still keeps
# then is listed in WORK/NAME.leftovers), and stops containerd. BUSYBOX
# and BUSYBOX_LIBS (comma-separated) are the images' busybox. Everything it
# starts lives in this pid namespace: when this script ends, the kernel
# ends whatever is left.
set -uo pipefail
work=$1 bin=$2
shift 2

log() { printf 'cri lane: %s\n' "$*" >&2; }

# Guard: the clean-up below ends every process it sees in /proc; that must
# be this pid namespace's /proc, with this script as its PID 1.
read -r self _ </proc/self/stat
if [ "$$" != 1 ] || [ "$self" != 1 ]; then
	log "inner.sh must run as PID 1 of its own pid namespace, with its own /proc (lane.sh starts it so)"
	exit 1
fi

# This mount namespace's view: what containerd, CNI and the runtimes write
# to fixed places (the pods' network namespaces under /run/netns, CNI's
# cache under /var/lib/cni) goes to tmpfs that vanish with the namespace;
# the host's /run and /var/lib are left as they were. / is made rshared
# again (lane.sh's unshare made it private): containerd's mount
# propagation tests need shared mounts, as on a systemd host.
mount -t tmpfs -o mode=0755 tmpfs /run || exit 1
mount -t tmpfs -o mode=0755 tmpfs /var/lib || exit 1
mkdir -p /run/lock
mount --make-rshared / || exit 1

ip link set lo up || exit 1

# Registry on loopback, content in the work directory.
mkdir -p "$work/registry"
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $work/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry=$!
for _ in $(seq 100); do
	curl -fsS http://127.0.0.1:5000/v2/ >/dev/null 2>&1 && break
	sleep 0.1
done
"$bin/mkimages" -registry 127.0.0.1:5000 -pause "$bin/pause" -nnp "$bin/nnp" \
	-busybox "$BUSYBOX" -libs "$BUSYBOX_LIBS" >"$work/mkimages.log" 2>&1 || {
	log "pushing the images failed:"; cat "$work/mkimages.log" >&2; exit 1; }

# containerd resolves the public registries' names to this registry.
for host in registry.k8s.io gcr.io docker.io; do
	mkdir -p "$work/certs.d/$host"
	cat >"$work/certs.d/$host/hosts.toml" <<EOF
server = "https://$host"

[host."http://127.0.0.1:5000"]
  capabilities = ["pull", "resolve"]
EOF
done

# The pod network: a bridge with host-local addresses, port mappings.
mkdir -p "$work/cni/net.d"
cat >"$work/cni/net.d/10-cri-lane.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "cri-lane",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "crilane0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$work/cni/ipam",
        "ranges": [[{"subnet": "10.99.0.0/16"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF

# run_suite NAME RUNTIME: one containerd, one critest run.
run_suite() {
	local name=$1 runtime=$2 d=$work/$1
	mkdir -p "$d"
	cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$d/containerd.sock"

[ttrpc]
  address = "$d/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.6"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "10250"
  enable_selinux = false

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "lane"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.lane]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.lane.options]
  BinaryName = "$runtime"
  Root = "$d/runtime-state"
  SystemdCgroup = false

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "$work/cni/net.d"

[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "$work/certs.d"
EOF
	containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 &
	local ctd=$!
	local sock=unix://$d/containerd.sock
	local i
	for i in $(seq 300); do
		"$bin/crictl" --runtime-endpoint "$sock" --image-endpoint "$sock" info >/dev/null 2>&1 && break
		if ! kill -0 "$ctd" 2>/dev/null; then
			log "$name: containerd exited:"; tail -20 "$d/containerd.log" >&2; return 1
		fi
		sleep 0.1
	done
	log "$name: containerd $ctd ready ($runtime); running critest"
	"$bin/critest" --runtime-endpoint "$sock" --image-endpoint "$sock" \
		--ginkgo.no-color --ginkgo.json-report "$work/$name.json" \
		--ginkgo.timeout 40m ${CRI_FOCUS:+--ginkgo.focus "$CRI_FOCUS"} \
		>"$work/$name.log" 2>&1
	log "$name: critest exited $?"
	# Whatever a failed test left: pods (with their containers), then images.
	local crictl=("$bin/crictl" --runtime-endpoint "$sock" --image-endpoint "$sock" --timeout 30s)
	"${crictl[@]}" rmp -af >"$d/cleanup.log" 2>&1
	"${crictl[@]}" rm -af >>"$d/cleanup.log" 2>&1
	"${crictl[@]}" rmi -a >>"$d/cleanup.log" 2>&1
	# With every pod removed, the runtime keeps no container's state.
	find "$d/runtime-state" -mindepth 2 -maxdepth 2 >"$work/$name.leftovers" 2>/dev/null
	[ -s "$work/$name.leftovers" ] || rm -f "$work/$name.leftovers"
	kill "$ctd"
	wait "$ctd"
	# The shims outlive containerd (their containers are gone: rmp above).
	# Every process of this pid namespace but this script and the registry
	# is this suite's.
	local p
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = $$ ] || [ "$p" = "$registry" ] || kill -9 "$p" 2>/dev/null
	done
	return 0
}

for pair in "$@"; do
	run_suite "${pair%%=*}" "${pair#*=}"
done
kill "$registry"
wait "$registry" 2>/dev/null
exit 0
