#!/bin/bash
# lane.sh [CACHE_DIR]: run the integration and security tests in a pure
# cgroup v2 guest.
#
# Boots Debian's generic kernel (downloaded with `apt-get download`, never
# installed) under QEMU's software emulation with cgroup_no_v1=all, runs the
# integration test binary as root inside, streams its output to stdout and
# exits with its exit status. See README.md beside this file.
#
# CACHE_DIR (default build/cgroupv2) keeps the unpacked kernel package, the
# extracted ELF kernel, the base initramfs, the built binaries and the logs
# of the last run (last-run/). Run as root. Environment:
#
#   RUN=regexp        only the tests go test -run would pick
#   GO=go             the go command
#   LDFLAGS=...       -ldflags for the project's binaries (cmd/*)
#   TEST_TIMEOUT=30m  the test binary's -test.timeout
#   VM_TIMEOUT=1860   seconds before QEMU is killed (exit 124)
#   VM_MEM=2048       guest memory, MiB
#   VM_SMP=2          guest vCPUs
#   MD_TIMEOUT        passed to the tests (their bound for every wait)
#   LANE_CONSOLE=1    copy the guest's console to stderr as it runs
#   TEST_BINARY=path  a static binary to run in place of the integration
#                     tests (it gets the same -test.* arguments)
#
# Exit status: the tests'; 124 when the guest timed out; 125 when the lane
# or the guest could not be set up (the console's tail is printed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${1:-$root/build/cgroupv2}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

GO=${GO:-go}
RUN=${RUN:-}
TEST_TIMEOUT=${TEST_TIMEOUT:-30m}
VM_TIMEOUT=${VM_TIMEOUT:-1860}
VM_MEM=${VM_MEM:-2048}
VM_SMP=${VM_SMP:-2}
BUSYBOX=/bin/busybox
# Kernel modules loaded in the guest at boot, with their dependencies
# from modules.dep. Builtin ones are skipped. br_netfilter, which nothing
# would load (Docker's daemon does), makes traffic within a bridge reach
# iptables, as on the host: enable_icc=false needs it.
MODULES="overlay veth bridge br_netfilter tun"
# Kernel modules in the guest that the kernel loads when they are first
# used (it runs busybox modprobe, which reads modules.alias): iptables-nft
# and the rules of the CNI plugins and the runtime (masquerade, DNAT,
# addrtype, comment, mark, multiport, conntrack), and the crc32c that
# libcrc32c asks the crypto API for. Only the network tests pay for them.
ONDEMAND_MODULES="crc32c_generic nf_tables nft_compat nft_chain_nat nft_ct
	xt_MASQUERADE xt_nat xt_addrtype xt_comment xt_mark xt_conntrack xt_multiport xt_tcpudp"
# The host's programs the CNI network tests run (Debian's are dynamically
# linked: each comes with its shared libraries and the dynamic loader).
# What the host lacks is left out, and those tests skip in the guest,
# naming the package.
#   the plugins of containernetworking-plugins, in /usr/lib/cni;
#   iptables (nft), the iptables* names linked to xtables-nft-multi, with
#   its extensions;
#   iproute2's ip (busybox's cannot name a veth's peer), util-linux's
#   nsenter and unshare (the tests' own, as on the host).
CNI_PLUGINS="bridge host-local portmap firewall tuning loopback"
#   For the rootless suite (tests/rootless): uidmap's newuidmap and
#   newgidmap (setuid root again in the guest), and the user-mode
#   networks pasta (passt) and slirp4netns.
PROGRAMS="/usr/sbin/xtables-nft-multi /usr/sbin/ip /usr/bin/nsenter /usr/bin/unshare
	/usr/bin/newuidmap /usr/bin/newgidmap /usr/bin/pasta /usr/bin/slirp4netns"
# The rootless suite's users (scripts/host-setup.sh makes the same on the
# host): NAME:UID:SUBORDINATE-START, each with 65536 subordinate ids.
ROOTLESS_USERS="mdrootless:1001:200000 mdrootless2:1002:265536"
IPTABLES_NAMES="iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore"
XTABLES=/usr/lib/x86_64-linux-gnu/xtables
# The project's binaries (each cmd/NAME that exists) and the environment
# variable that tells the tests where each is.
BINARIES="minimal-docker:MD_BIN minimal-runc:MD_RUNC"

t0=$(date +%s)
# Everything temporary is listed here and removed on every way out; the
# processes are this script's own children, ended by PID.
tmps=() qpid= c1= tp=
cleanup() {
	local pid
	for pid in $qpid $c1 $tp; do kill "$pid" 2>/dev/null || true; done
	[ ${#tmps[@]} -eq 0 ] || rm -rf "${tmps[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
say() { echo "cgroupv2 lane: $*" >&2; }
die() { say "$*"; exit 125; }
elapsed() { echo "$(($(date +%s) - t0)) s"; }

[ "$(id -u)" = 0 ] || die "run as root (the guest's tests run as root, and apt-get installs what is missing)"

# ------------------------------------------------------------ host packages
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
dpkg-query -W -f='${Status}\n' busybox-static 2>/dev/null | grep -q 'install ok installed' || need+=(busybox-static)
command -v xz >/dev/null || need+=(xz-utils)
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	aptlog=$(mktemp "$cache/apt.XXXXXX")
	tmps+=("$aptlog")
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; } > "$aptlog" 2>&1 ||
		{ cat "$aptlog" >&2; die "apt-get install ${need[*]} failed"; }
fi
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (package busybox-static)"

# ------------------------------------------------------------------ kernel
# The package linux-image-amd64 depends on: the current generic flavour
# (the cloud flavour has no 9p, and lacks drivers later lanes may want).
kpkg() { apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1; }
pkg=$(kpkg)
if [ -z "$pkg" ]; then
	# No package lists yet (a fresh machine), unless a kernel is cached.
	cached=$(ls -d "$cache"/kernel/linux-image-*/boot 2>/dev/null | tail -n1)
	if [ -n "$cached" ]; then
		pkg=$(basename "$(dirname "$cached")")
	else
		apt-get update -qq || die "apt-get update failed"
		pkg=$(kpkg)
	fi
fi
[ -n "$pkg" ] || die "cannot tell which package linux-image-amd64 depends on (apt-cache depends linux-image-amd64)"
kdir=$cache/kernel/$pkg
if [ ! -d "$kdir/boot" ]; then
	say "downloading $pkg"
	dl=$(mktemp -d "$cache/download.XXXXXX")
	tmps+=("$dl")
	(cd "$dl" && apt-get download -qq "$pkg" 2>&1 | grep -v 'unsandboxed as root' || true)
	deb=$(ls "$dl"/"$pkg"_*.deb 2>/dev/null | head -n1)
	[ -n "$deb" ] || die "apt-get download $pkg failed"
	say "unpacking $(basename "$deb")"
	dpkg -x "$deb" "$dl/unpacked" || die "dpkg -x $deb failed"
	rm -rf "$cache"/kernel # an older kernel package, if any
	mkdir -p "$cache/kernel"
	mv "$dl/unpacked" "$kdir"
	rm -rf "$dl"
fi
vmlinuz=$(ls "$kdir"/boot/vmlinuz-* 2>/dev/null | head -n1)
[ -n "$vmlinuz" ] || die "no boot/vmlinuz-* in $kdir"
kver=${vmlinuz##*/vmlinuz-}
mods=$kdir/lib/modules/$kver
[ -f "$mods/modules.dep" ] || "$BUSYBOX" depmod -b "$kdir" "$kver" || die "depmod -b $kdir $kver failed"

# Debian's bzImage is XZ-compressed: unpacking it under emulation costs
# seconds at every boot. Extract the ELF vmlinux once and boot it through
# PVH. If that fails, boot the bzImage.
kimg=$kdir/vmlinux
if [ ! -s "$kimg" ]; then
	tmps+=("$kimg.tmp")
	off=$(LC_ALL=C grep -aboP '\xfd7zXZ\x00' "$vmlinuz" | head -n1 | cut -d: -f1 || true)
	if [ -n "$off" ]; then
		{ tail -c +$((off + 1)) "$vmlinuz" || true; } | xz -dc --single-stream > "$kimg.tmp" 2>/dev/null || true
	fi
	if [ -s "$kimg.tmp" ] && [ "$(head -c 4 "$kimg.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
		mv "$kimg.tmp" "$kimg"
	else
		rm -f "$kimg.tmp"
		say "could not extract an ELF kernel from $vmlinuz; booting the bzImage (slower)"
		kimg=$vmlinuz
	fi
fi

# ------------------------------------------------------ host programs
# sysfiles: the host's files that go into the guest at their own paths:
# PROGRAMS and the CNI plugins that exist, iptables' extensions, and the
# shared libraries all of them load (with the libraries those load) and
# the dynamic loader.
progs=() sysfiles=()
declare -A lacking=() # package: its programs the host lacks
# package names the Debian package of a host program.
package() {
	case $1 in
	/usr/lib/cni/*) echo containernetworking-plugins ;;
	*/xtables-nft-multi) echo iptables ;;
	*/ip) echo iproute2 ;;
	*/newuidmap | */newgidmap) echo uidmap ;;
	*/pasta) echo passt ;;
	*/slirp4netns) echo slirp4netns ;;
	*) echo util-linux ;;
	esac
}
# libs FILE...: the shared libraries FILEs need, and the loader (ldd).
libs() { ldd "$@" 2>/dev/null | awk '/^\t/ && $2 == "=>" && $3 ~ /^\// {print $3} /^\t\// {print $1}'; }
for p in $(printf '/usr/lib/cni/%s ' $CNI_PLUGINS) $PROGRAMS; do
	if [ -x "$p" ]; then progs+=("$p"); else lacking[$(package "$p")]+=" $p"; fi
done
xt=() xtlibs=()
if [ -x /usr/sbin/xtables-nft-multi ] && [ -d "$XTABLES" ]; then
	# iptables loads its extensions (-m NAME, -j NAME) from there with
	# dlopen; ldd of each would take seconds, readelf of all of them
	# names the libraries they need at once.
	command -v readelf >/dev/null || die "no readelf (package binutils), to list what iptables' extensions load"
	xt=("$XTABLES"/*.so)
	for n in $(readelf -d "${xt[@]}" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | sort -u); do
		for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu; do
			if [ -e "$d/$n" ]; then xtlibs+=("$d/$n"); break; fi
		done
	done
fi
if [ ${#progs[@]} -gt 0 ]; then
	mapfile -t sysfiles < <({ printf '%s\n' "${progs[@]}" "${xt[@]}" "${xtlibs[@]}"; libs "${progs[@]}" "${xtlibs[@]}"; } | sort -u)
fi
for k in "${!lacking[@]}"; do
	say "the host has no${lacking[$k]} (package $k): nor has the guest, where the CNI network tests skip"
done

# ------------------------------------------------------- base initramfs
# busybox, /init, the modules and the host's programs; cached under a key
# of what goes in.
key=$({
	cat "$here/init.sh"
	echo "$kver $MODULES $ONDEMAND_MODULES $IPTABLES_NAMES $ROOTLESS_USERS"
	md5sum "$BUSYBOX" "$mods/modules.dep"
	[ ${#sysfiles[@]} -eq 0 ] || md5sum "${sysfiles[@]}"
} | md5sum | cut -c1-12)
base=$cache/initramfs-base-$key.cpio
if [ ! -s "$base" ]; then
	say "building the base initramfs"
	rm -f "$cache"/initramfs-base-*.cpio
	tmps+=("$base.tmp")
	st=$(mktemp -d "$cache/stage.XXXXXX")
	tmps+=("$st")
	mkdir -p "$st"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,etc,root,tmp,run,lane,lib/modules/"$kver"}
	cp "$BUSYBOX" "$st/bin/busybox"
	for a in $("$BUSYBOX" --list-full); do
		[ -e "$st/$a" ] || ln -s /bin/busybox "$st/$a"
	done
	# The host's programs replace busybox's applets of the same names
	# (symbolic links to /bin/busybox: removed, never written through).
	for p in "${progs[@]}"; do
		rm -f "$st"/{bin,sbin,usr/bin,usr/sbin}/"${p##*/}"
	done
	for f in "${sysfiles[@]}"; do
		mkdir -p "$st${f%/*}"
		cp -L --remove-destination "$f" "$st$f" || die "cp $f into the initramfs failed"
	done
	if [ -e "$st/usr/sbin/xtables-nft-multi" ]; then
		for n in $IPTABLES_NAMES; do ln -sf xtables-nft-multi "$st/usr/sbin/$n"; done
	fi
	install -m 0755 "$here/init.sh" "$st/init"
	for p in newuidmap newgidmap; do
		[ ! -e "$st/usr/bin/$p" ] || chmod 4755 "$st/usr/bin/$p"
	done
	echo "root:x:0:0:root:/root:/bin/sh" > "$st/etc/passwd"
	echo "root:x:0:" > "$st/etc/group"
	: > "$st/etc/subuid"
	for u in $ROOTLESS_USERS; do
		IFS=: read -r name uid start <<<"$u"
		echo "$name:x:$uid:$uid::/home/$name:/bin/sh" >> "$st/etc/passwd"
		echo "$name:x:$uid:" >> "$st/etc/group"
		echo "$name:$start:65536" >> "$st/etc/subuid"
		mkdir -p "$st/home/$name"
		chown "$uid:$uid" "$st/home/$name"
	done
	cp "$st/etc/subuid" "$st/etc/subgid"
	echo "$ROOTLESS_USERS" > "$st/lane/rootless-users"
	loaded=()
	for m in $MODULES $ONDEMAND_MODULES; do
		line=$(grep -E "(^|/)$m\.ko(\.[a-z]+)?:" "$mods/modules.dep" || true)
		if [ -z "$line" ]; then
			grep -qE "/$m\.ko\$" "$mods/modules.builtin" 2>/dev/null || die "kernel $kver has no module $m"
			continue
		fi
		case " $MODULES " in *" $m "*) loaded+=("$m") ;; esac
		for f in ${line/:/}; do
			mkdir -p "$st/lib/modules/$kver/$(dirname "$f")"
			cp "$mods/$f" "$st/lib/modules/$kver/$f"
		done
	done
	cp "$mods"/modules.builtin* "$mods"/modules.order "$st/lib/modules/$kver/" 2>/dev/null || true
	"$BUSYBOX" depmod -b "$st" "$kver" || die "depmod of the initramfs failed"
	printf '%s\n' "${loaded[@]}" > "$st/lane/modules"
	(cd "$st" && find . | "$BUSYBOX" cpio -o -H newc > "$base.tmp" 2>/dev/null) || die "cpio of the base initramfs failed"
	mv "$base.tmp" "$base"
	rm -rf "$st"
fi
say "kernel $kver ready ($(elapsed))"

# -------------------------------------------------------------- binaries
# Static: the guest has no libc but the one the host's programs above
# bring along (or none, without them).
bin=$cache/bin
say "building the test binaries"
gobuild() { (cd "$root" && CGO_ENABLED=0 "$GO" "$@") || die "CGO_ENABLED=0 $GO $*: failed"; }
rm -rf "$bin"
mkdir -p "$bin"
# The runtimes are pure Go; minimal-docker-helper (the container's init,
# the exec constructor, libseccomp) is cgo, linked statically (netgo and
# osusergo keep glibc's NSS out). All sit side by side, as make build
# puts them: the runtimes look for the helper beside themselves.
cgobuild() { (cd "$root" && CGO_ENABLED=1 "$GO" "$@") || die "CGO_ENABLED=1 $GO $*: failed"; }
for b in $BINARIES; do
	name=${b%%:*}
	[ -d "$root/cmd/$name" ] || continue
	tags=
	[ "$name" != minimal-docker ] || tags="-tags lean"
	gobuild build -trimpath $tags -ldflags "${LDFLAGS:--s -w}" -o "$bin/$name" "./cmd/$name"
done
# minimal-docker-image: minimal-docker built whole, which the lean one
# hands pull, load, save and import to (Makefile: build).
gobuild build -trimpath -ldflags "${LDFLAGS:--s -w}" -o "$bin/minimal-docker-image" ./cmd/minimal-docker
cgobuild build -trimpath -tags netgo,osusergo -ldflags "${LDFLAGS:--s -w} -extldflags -static" -o "$bin/minimal-docker-helper" ./cmd/minimal-docker-helper
# The detached containers' monitor (C, static), beside minimal-docker.
(cd "$root" && gcc -static -Os -Wall -Wextra -o "$bin/minimal-docker-monitor" cmd/minimal-docker-monitor/monitor.c) || die "gcc monitor.c: failed"
gobuild build -trimpath -o "$bin/probe" ./tests/probe
# The image tests' registry: docker-registry needs a libc the guest lacks.
gobuild build -trimpath -ldflags "${LDFLAGS:--s -w}" -o "$bin/registry" ./tests/registry
if [ -n "${TEST_BINARY:-}" ]; then
	cp "$TEST_BINARY" "$bin/integration.test" || die "cp $TEST_BINARY failed"
else
	gobuild test -c -trimpath -o "$bin/integration.test" ./tests/integration
	gobuild test -c -trimpath -o "$bin/security.test" ./tests/security
	gobuild test -c -trimpath -o "$bin/rootless.test" ./tests/rootless
fi
for b in "$bin"/*; do
	if head -c 4096 "$b" | grep -aq '/lib64/ld-linux'; then die "$b is dynamically linked; the project's binaries must be static"; fi
done
say "binaries built ($(elapsed))"

# ---------------------------------------------------------------- payload
work=$(mktemp -d "$cache/run.XXXXXX")
tmps+=("$work")

pl=$work/root/lane
mkdir -p "$pl"
cp "$bin"/* "$pl/"
{
	echo -test.v
	echo -test.count=1
	echo "-test.timeout=$TEST_TIMEOUT"
	if [ -n "$RUN" ]; then
		echo -test.run
		echo "$RUN"
	fi
} > "$pl/args"
{
	for b in $BINARIES; do
		[ ! -e "$pl/${b%%:*}" ] || echo "${b#*:}=/lane/${b%%:*}"
	done
	echo MD_PROBE=/lane/probe
	echo MD_REGISTRY=/lane/registry
	echo MD_BUSYBOX=/bin/busybox
	echo TMPDIR=/tmp
	# The guest's CPU is emulated (TCG): tests too long there skip.
	echo MD_EMULATED=1
	[ -z "${MD_TIMEOUT:-}" ] || echo "MD_TIMEOUT=$MD_TIMEOUT"
} > "$pl/env"
(cd "$work/root" && find . | "$BUSYBOX" cpio -o -H newc > "$work/payload.cpio" 2>/dev/null) || die "cpio of the payload failed"
# The payload cpio is appended to the base one; the kernel unpacks both.
initrd=$work/initrd.cpio
cat "$base" "$work/payload.cpio" > "$initrd"
rm -rf "$work/root" "$work/payload.cpio"

# ------------------------------------------------------------------- boot
logs=$cache/last-run
rm -rf "$logs"
mkdir -p "$logs"
console=$logs/console.log
: > "$console"
mkfifo "$work/out"
# Opened read-write, the FIFO never blocks QEMU's open; it is closed once
# QEMU exits so that the reader sees the end.
exec 3<> "$work/out"
tee "$logs/test.log" < "$work/out" 3>&- &
c1=$!
if [ -n "${LANE_CONSOLE:-}" ]; then
	tail -f "$console" >&2 3>&- &
	tp=$!
fi

say "booting the guest (kernel ${kimg##*/}, $VM_MEM MiB, $VM_SMP vCPUs, TCG); tests: ${RUN:-all}"
set +e
timeout -k 5 "$VM_TIMEOUT" qemu-system-x86_64 \
	-nodefaults -no-user-config -display none -monitor none -no-reboot \
	-M pc -accel tcg -cpu max -m "$VM_MEM" -smp "$VM_SMP" \
	-kernel "$kimg" -initrd "$initrd" \
	-append "console=ttyS0 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 panic=-1 quiet loglevel=4 tsc=reliable" \
	-serial "file:$console" -serial "file:$work/out" \
	< /dev/null > "$logs/qemu.log" 2>&1 3>&- &
qpid=$!
wait "$qpid"
qrc=$?
qpid=
set -e
exec 3>&-
wait "$c1" 2>/dev/null || true
c1=
if [ -n "$tp" ]; then
	sleep 0.2
	kill "$tp" 2>/dev/null || true
	wait "$tp" 2>/dev/null || true
	tp=
fi

rc=$(tr -d '\r' < "$console" | sed -n 's/^LANE-EXIT=\([0-9]*\)$/\1/p' | tail -n1)
if [ -z "$rc" ]; then
	if [ "$qrc" = 124 ]; then
		say "the guest did not finish within $VM_TIMEOUT s; QEMU killed"
	else
		say "the guest stopped without an exit status (QEMU status $qrc)"
	fi
	cat "$logs/qemu.log" >&2
	say "console (last 40 lines, all of it in $console):"
	tail -n 40 "$console" | tr -d '\r' >&2
	[ "$qrc" = 124 ] && exit 124
	exit 125
fi
if [ "$rc" = 125 ]; then
	say "console (last 40 lines):"
	tail -n 40 "$console" | tr -d '\r' >&2
fi
# What the kernel said that the tests can't see: OOM kills (the memory
# controller's, for the OOM test) and any warning or oops.
tr -d '\r' < "$console" | grep -E 'out of memory|Killed process|WARNING|BUG|Oops|Call Trace|segfault' |
	sed 's/^/cgroupv2 lane: guest kernel: /' >&2 || true
say "guest exit status $rc, lane took $(elapsed) (logs in $logs)"
# The top-level tests' count, as a closing line.
count() { grep -c "^--- $1: " "$logs/test.log" || true; }
passed=$(count PASS) failed=$(count FAIL) skipped=$(count SKIP)
if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
	say "the test binary exited $rc with no test failed (a panic, its timeout or its setup)"
fi
echo "cgroupv2: $passed passed, $failed failed, $skipped skipped"
exit "$rc"
