#!/bin/busybox sh
# /init of the cgroup v2 lane's guest (see README.md beside this file).
#
# The initramfs holds busybox, the kernel modules listed in /lane/modules
# (loaded here) and those the kernel loads when first used (netfilter's:
# it runs /sbin/modprobe), the host's programs the CNI network tests run
# (the CNI plugins in /usr/lib/cni, iptables, ip, nsenter, unshare, with
# their shared libraries), and the payload under /lane: the test binary,
# its arguments (/lane/args, one a line), its environment (/lane/env,
# KEY=VALUE lines) and whatever binaries the tests need.
#
# Serial ports: ttyS0 is the console (kernel messages, this script's
# progress, and the LANE-EXIT=<status> marker the host reads), ttyS1 carries
# the tests' stdout and stderr to the host's stdout.
#
# Exit statuses reported: the test binary's; 125 when the guest could not be
# set up (the message says what failed).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb

say() { echo "cgroupv2 lane(guest): $*" > /dev/ttyS0; }
# fail reports a setup failure and powers off; the host prints the console.
fail() {
	say "setup failed: $*"
	echo "cgroupv2 lane(guest): setup failed: $*" > /dev/ttyS1
	echo "LANE-EXIT=125" > /dev/ttyS0
	poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

if [ ! -e /.stage2 ]; then
	# The initramfs root ("rootfs") is not a mount point, so pivot_root(2)
	# fails beneath it, and containers need pivot_root. Move everything onto
	# a tmpfs and switch_root into it (switch_root frees the old root).
	mkdir -p /newroot
	mount -t tmpfs -o mode=0755 root /newroot || fail "mount tmpfs /newroot"
	for f in /*; do
		case $f in
		/proc | /sys | /dev | /newroot) mkdir -p "/newroot$f" ;;
		*) cp -a "$f" /newroot/ || fail "copy $f to the tmpfs root" ;;
		esac
	done
	: > /newroot/.stage2
	umount /proc /sys /dev
	exec switch_root /newroot /init
	fail "switch_root"
fi

mkdir -p /dev/pts /dev/shm /dev/mqueue /tmp /run
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts || fail "mount devpts"
mount -t tmpfs -o mode=1777 shm /dev/shm || fail "mount /dev/shm"
mount -t tmpfs -o mode=1777 tmp /tmp || fail "mount /tmp"
mount -t tmpfs -o mode=0755 run /run || fail "mount /run"
mount -t mqueue mqueue /dev/mqueue 2>/dev/null
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
stty -F /dev/ttyS1 raw -echo 2>/dev/null # no \n -> \r\n on the output port

# A pure cgroup v2 host, as systemd mounts it. The kernel was booted with
# cgroup_no_v1=all, so every controller is on this hierarchy. Nothing is
# enabled in the root's cgroup.subtree_control: the runtime enables what it
# needs itself, and the tests run in the root cgroup, where the
# no-internal-processes rule does not apply.
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || fail "mount cgroup2 at /sys/fs/cgroup"
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
hostname cgroupv2-guest
ip link set lo up || fail "ip link set lo up"

for m in $(cat /lane/modules); do
	modprobe "$m" || fail "modprobe $m"
done

{
	echo "cgroupv2 lane(guest): kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs, $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB"
	echo "cgroupv2 lane(guest): mounts: $(awk '$3 ~ /^cgroup2?$/ {printf "%s%s at %s (%s)", sep, $3, $2, $4; sep = ", "}' /proc/mounts)"
	echo "cgroupv2 lane(guest): root cgroup.controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
	echo "cgroupv2 lane(guest): root cgroup.subtree_control: [$(cat /sys/fs/cgroup/cgroup.subtree_control)]"
	echo "cgroupv2 lane(guest): test process cgroup: $(cat /proc/self/cgroup)"
	echo "cgroupv2 lane(guest): modules: $(cut -d' ' -f1 /proc/modules | sort | xargs)"
	echo "cgroupv2 lane(guest): up after $(cut -d' ' -f1 /proc/uptime) s"
} > /dev/ttyS1

set --
while IFS= read -r a; do set -- "$@" "$a"; done < /lane/args
set -a
. /lane/env
set +a

# The rootless suite's users (/lane/rootless-users, NAME:UID:START; in
# /etc/passwd and /etc/subuid, /etc/subgid) get the runtime directory a
# login would make.
rootless_uids=
for u in $(cat /lane/rootless-users 2>/dev/null); do
	uid=$(echo "$u" | cut -d: -f2)
	rootless_uids="$rootless_uids $uid"
	mkdir -p "/run/user/$uid" && chown "$uid:$uid" "/run/user/$uid" && chmod 0700 "/run/user/$uid"
done
[ ! -e /dev/net/tun ] || chmod 0666 /dev/net/tun

# While the rootless suite runs, each of its users has the cgroup that
# systemd delegates at login (user@UID.service, Delegate=yes):
#   /sys/fs/cgroup/user.slice/user-UID.slice/user@UID.service
# with memory, pids, cpu (and io) enabled down to it in each ancestor's
# cgroup.subtree_control, and the directory with its cgroup.procs,
# cgroup.subtree_control and cgroup.threads chowned to the user. Nothing
# runs in it: the suite starts each of the user's commands in a leaf of
# its own beneath it (app.slice/NAME.scope, as systemd --user places a
# user's programs; tests/rootless/cgroup_test.go), and the user's
# containers' cgroups go beside that leaf. Afterwards the tree goes
# again, and anything left beneath it fails the run (below).
delegate() {
	ctrls=
	for c in memory pids cpu io; do
		grep -qw "$c" /sys/fs/cgroup/cgroup.controllers && ctrls="$ctrls +$c"
	done
	for uid in $rootless_uids; do
		slice=/sys/fs/cgroup/user.slice/user-$uid.slice
		mkdir -p "$slice/user@$uid.service" || fail "mkdir $slice/user@$uid.service"
		for d in /sys/fs/cgroup /sys/fs/cgroup/user.slice "$slice"; do
			echo "$ctrls" > "$d/cgroup.subtree_control" || fail "enable$ctrls in $d/cgroup.subtree_control"
		done
		svc=$slice/user@$uid.service
		chown "$uid:$uid" "$svc" "$svc/cgroup.procs" "$svc/cgroup.subtree_control" "$svc/cgroup.threads" ||
			fail "chown the delegated cgroup $svc to $uid"
		echo "cgroupv2 lane(guest): delegated to uid $uid: $svc (cgroup.controllers: $(cat "$svc/cgroup.controllers"))" > /dev/ttyS1
	done
}
undelegate() {
	for uid in $rootless_uids; do
		slice=/sys/fs/cgroup/user.slice/user-$uid.slice
		rmdir "$slice/user@$uid.service" "$slice" 2>/dev/null
	done
	rmdir /sys/fs/cgroup/user.slice 2>/dev/null
}

say "start $(cut -d' ' -f1 /proc/uptime)"
cd /tmp
# Each test binary in turn (the integration suite, the security suite),
# with the same arguments; the status is the first failure's.
rc=0
for t in /lane/*.test; do
	echo "cgroupv2 lane(guest): running ${t##*/}" > /dev/ttyS1
	[ "${t##*/}" != rootless.test ] || delegate
	"$t" "$@" < /dev/null > /dev/ttyS1 2>&1
	r=$?
	[ "${t##*/}" != rootless.test ] || undelegate
	[ "$rc" != 0 ] || rc=$r
done
cd /
say "end $(cut -d' ' -f1 /proc/uptime), status $rc"

# The tests check their own leftovers; this is the whole-machine view: no
# cgroup beneath the root and nothing mounted beneath /tmp may remain.
left=$(find /sys/fs/cgroup -mindepth 1 -type d)
mnts=$(awk '$2 ~ "^/tmp/" {print $2}' /proc/mounts)
{
	echo "cgroupv2 lane(guest): root cgroup.subtree_control after the tests: [$(cat /sys/fs/cgroup/cgroup.subtree_control)]"
	echo "cgroupv2 lane(guest): modules after the tests: $(cut -d' ' -f1 /proc/modules | sort | xargs)"
	if [ -n "$left" ]; then
		echo "cgroupv2 lane(guest): FAIL: cgroups left behind:"
		echo "$left"
	else
		echo "cgroupv2 lane(guest): cgroups left behind: none"
	fi
	if [ -n "$mnts" ]; then
		echo "cgroupv2 lane(guest): FAIL: mounts left behind:"
		echo "$mnts"
	else
		echo "cgroupv2 lane(guest): mounts left behind under /tmp: none"
	fi
} > /dev/ttyS1
if [ "$rc" = 0 ] && [ -n "$left$mnts" ]; then rc=1; fi

echo "LANE-EXIT=$rc" > /dev/ttyS0
sync
poweroff -f
