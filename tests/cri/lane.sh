#!/bin/bash
# lane.sh: Kubernetes' CRI validation suite (critest, from
# sigs.k8s.io/cri-tools) against containerd's CRI plugin, first with runc
# (the control), then with minimal-runc as the runtime (the runc shim's
# BinaryName). Fails if minimal-runc fails a test that runc passes. Root.
#
#   bash tests/cri/lane.sh BIN CACHE      (make test-cri)
#
# BIN holds minimal-runc (make build); CACHE keeps critest and crictl
# between runs (built from the module's source: its replace directives stop
# `go install`). CRI_FOCUS=regexp runs only the matching tests.
#
# What it starts and where (see inner.sh): everything runs in network,
# mount and pid namespaces of its own and in a cgroup of its own beneath
# this shell's (in every hierarchy): the registry on 127.0.0.1 that serves
# the suite's images (built by mkimages), containerd with its state in a
# temporary directory, the CNI bridge, its addresses and firewall rules
# (in the lane's network namespace: the host's routes, firewall and
# ip_forward are never touched), the pods. When the lane's pid namespace
# ends, so does anything left in it; the cgroups and the temporary
# directory are checked and removed here, and a leftover is a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "$1")
cache=$(mkdir -p "$2" && realpath "$2")
: "${GO:=go}"
CRI_TOOLS_VERSION=v1.30.0

bash tests/interop/install.sh containerd runc containernetworking-plugins docker-registry \
	iptables iproute2 curl gcc libc6-dev busybox-static util-linux

# critest and crictl, from the module's source (cached per version).
tools=$cache/cri-tools-$CRI_TOOLS_VERSION
if [ ! -x "$tools/critest" ] || [ ! -x "$tools/crictl" ]; then
	src=$(mktemp -d)
	trap 'rm -rf "$src"' EXIT
	dir=$($GO mod download -json "sigs.k8s.io/cri-tools@$CRI_TOOLS_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	cp -r "$dir/." "$src" && chmod -R u+w "$src" && rm -rf "$src/vendor"
	mkdir -p "$tools"
	(cd "$src" && $GO test -mod=mod -c -o "$tools/critest" ./cmd/critest &&
		$GO build -mod=mod -o "$tools/crictl" ./cmd/crictl)
	rm -rf "$src"
	trap - EXIT
fi

# The images' busybox: Debian's dynamic build (not installed: it conflicts
# with busybox-static), unpacked from its package into the cache. Its
# shell looks commands up in PATH, as the suite's busybox image does.
bbdir=$cache/busybox-deb
if [ ! -x "$bbdir/bin/busybox" ]; then
	deb=$(mktemp -d)
	(cd "$deb" && { apt-get download busybox >/dev/null 2>&1 || { apt-get update -qq && apt-get download busybox >/dev/null; }; })
	rm -rf "$bbdir" && dpkg-deb -x "$deb"/busybox_*.deb "$bbdir"
	rm -rf "$deb"
fi
bblibs=$(ldd "$bbdir/bin/busybox" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | paste -sd, -)

work=$(mktemp -d /tmp/cri-lane.XXXXXX)
lanebin=$work/bin
mkdir -p "$lanebin"
cp "$tools/critest" "$tools/crictl" "$lanebin/"
$GO build -o "$lanebin/mkimages" ./tests/cri/mkimages
$GO build -o "$lanebin/compare" ./tests/cri/compare
gcc -static -O2 -Wall -o "$lanebin/pause" tests/cri/pause.c
gcc -static -O2 -Wall -o "$lanebin/nnp" tests/cri/nnp.c

# The lane's cgroup, beneath this shell's in every hierarchy.
name=cri-lane-$$
cgdirs=()
while IFS=: read -r _ ctrls path; do
	if [ -z "$ctrls" ]; then base=/sys/fs/cgroup/unified; [ -d $base ] || base=/sys/fs/cgroup
	else base=/sys/fs/cgroup/${ctrls#name=}; fi
	[ -d "$base$path" ] || continue
	d=$base${path%/}/$name
	mkdir "$d"
	cgdirs+=("$d")
	if [ -f "$d/cpuset.cpus" ] && [ -z "$(cat "$d/cpuset.cpus")" ]; then
		cat "$(dirname "$d")/cpuset.cpus" >"$d/cpuset.cpus"
		cat "$(dirname "$d")/cpuset.mems" >"$d/cpuset.mems"
	fi
done </proc/self/cgroup

status=0
# leave_cgroups moves this shell back and removes the lane's cgroups; a
# directory that a runtime left beneath them is reported and removed.
leave_cgroups() {
	local d left
	for d in "${cgdirs[@]}"; do echo $$ >"$(dirname "$d")/cgroup.procs" 2>/dev/null || true; done
	for d in "${cgdirs[@]}"; do
		left=$(find "$d" -mindepth 1 -type d | sort -r)
		if [ -n "$left" ]; then
			echo "cri lane: FAIL: cgroups left behind beneath $d:" >&2
			echo "$left" >&2
			status=1
			echo "$left" | xargs -r rmdir 2>/dev/null || true
		fi
		rmdir "$d" 2>/dev/null || { echo "cri lane: cannot remove $d" >&2; status=1; }
	done
}
trap 'leave_cgroups; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
for d in "${cgdirs[@]}"; do echo $$ >"$d/cgroup.procs"; done

CRI_FOCUS=${CRI_FOCUS:-} BUSYBOX=$bbdir/bin/busybox BUSYBOX_LIBS=$bblibs \
	unshare --net --mount --propagation private --pid --fork --mount-proc \
	bash tests/cri/inner.sh "$work" "$lanebin" runc=/usr/sbin/runc "minimal-runc=$bin/minimal-runc" || status=1

# The logs, kept for a look after the run.
logs=$cache/logs
rm -rf "$logs" && mkdir -p "$logs"
for f in "$work"/*.log "$work"/*.json "$work"/*/containerd.log; do
	[ -e "$f" ] || continue
	rel=${f#"$work"/}
	cp "$f" "$logs/${rel//\//-}"
done
echo "cri lane: logs in $logs"

for f in "$work"/*.leftovers; do
	[ -e "$f" ] || continue
	echo "cri lane: FAIL: $(basename "$f" .leftovers) left runtime state behind:" >&2
	cat "$f" >&2
	status=1
done
if [ -f "$work/runc.json" ] && [ -f "$work/minimal-runc.json" ]; then
	"$lanebin/compare" "$work/runc.json" "$work/minimal-runc.json" || status=1
else
	echo "cri lane: FAIL: a critest report is missing" >&2
	status=1
fi
leave_cgroups
trap 'rm -rf "$work"' EXIT
exit $status
