# Sourced by tests/monitor/*.sh: a busybox bundle per container (shared
# rootfs, cgroup "mon-ID" beneath the caller's own), and the two monitors
# started the same way. Needs root, bin/minimal-runc (make build), gcc, jq;
# run through a private mount namespace and cgroup of its own
# (tools/isolated.sh or unshare -m).
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNC=$REPO/bin/minimal-runc
W=$(mktemp -d /tmp/monitor-test.XXXXXX)
RROOT=$W/runc-root
mkdir -p "$RROOT" "$W/bin" "$W/exits" "$W/sock"
[ -x "$RUNC" ] || { echo "no $RUNC: run make build" >&2; exit 2; }
(cd "$REPO" && go run ./tests/mkrootfs "$W/rootfs") || exit 2
"$RUNC" spec --bundle "$W" || exit 2
gcc -static -Os -Wall -o "$W/bin/monitor" "$REPO/cmd/minimal-docker-monitor/monitor.c" || exit 2
gcc -Os -Wall -o "$W/bin/monitor-dynamic" "$REPO/cmd/minimal-docker-monitor/monitor.c" || exit 2
MON=${MON:-$W/bin/monitor}

# mkbundle ID ARGS-JSON [JQ-EDIT]: the bundle $W/c/ID
mkbundle() {
	local id=$1 args=$2 edit=${3:-.}
	mkdir -p "$W/c/$id"
	jq --arg cg "mon-$id" --arg root "$W/rootfs" --argjson a "$args" \
		".process.args=\$a | .process.terminal=false | .linux.cgroupsPath=\$cg | .root.path=\$root | $edit" \
		"$W/config.json" > "$W/c/$id/config.json"
}

# mon_start ID [FLAGS...]: our monitor creates and starts the container;
# prints the container's pid.
mon_start() {
	local id=$1; shift
	"$MON" --runtime "$RUNC" --runtime-arg --root --runtime-arg "$RROOT" --id "$id" \
		--bundle "$W/c/$id" --pid-file "$W/c/$id/pidfile" --log "${LOGDIR:-$W/c/$id}/json.log" \
		--exit-file "$W/c/$id/exit.json" "$@"
}

# conmon_start ID [FLAGS...]: conmon creates the container as Podman 4.3
# has it do (without Podman's sync pipe: we wait for the pid file), then
# we start it.
conmon_start() {
	local id=$1; shift
	conmon --api-version 1 -c "$id" -u "$id" -r "$RUNC" --runtime-arg --root --runtime-arg "$RROOT" \
		-b "$W/c/$id" -p "$W/c/$id/pidfile" -n "$id" -l "k8s-file:$W/c/$id/ctr.log" \
		--exit-dir "$W/exits" --socket-dir-path "$W/sock" --conmon-pidfile "$W/c/$id/conmon.pid" \
		--log-level warning "$@" || return 1
	wait_for "pid file of $id" test -s "$W/c/$id/pidfile" || return 1
	"$RUNC" --root "$RROOT" start "$id"
}

# monitor_pid ID: the pid of our monitor of ID
monitor_pid() { pgrep -f "^$MON .*--id $1 " | head -1; }

# wait_for WHAT CMD...: until CMD succeeds (generous: 30 s)
wait_for() {
	local what=$1; shift
	for _ in $(seq 300); do "$@" && return 0; sleep 0.1; done
	echo "timed out waiting for $what" >&2
	return 1
}

state() { "$RUNC" --root "$RROOT" state "$1" 2>/dev/null | jq -r .status; }

FAILED=0
check() { # check DESCRIPTION CMD...
	local what=$1; shift
	if "$@"; then echo "ok   $what"; else echo "FAIL $what"; FAILED=$((FAILED + 1)); fi
}

# cleanup: every container of ours killed and deleted, every monitor and
# conmon we started ended (by pid), the temp dir removed.
cleanup() {
	local id p
	for id in $(ls "$RROOT" 2>/dev/null); do "$RUNC" --root "$RROOT" delete --force "$id" >/dev/null 2>&1; done
	for p in $(pgrep -f "^$W/bin/monitor") $(pgrep -f "^conmon .*$W/"); do kill -9 "$p" 2>/dev/null; done
	grep -q " $W/" /proc/self/mountinfo && awk -v w="$W/" '$5 ~ "^"w {print $5}' /proc/self/mountinfo | xargs -r umount
	rm -rf "$W"
}
trap cleanup EXIT
