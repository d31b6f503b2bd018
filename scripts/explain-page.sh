#!/bin/bash
# explain-page.sh BIN OUT: writes OUT (docs/how-a-container-starts.md), the
# page "How a container starts", from real `minimal-docker run --explain`
# runs of a busybox rootfs made as the tests make it (tests/mkrootfs), so
# that the page cannot drift from the code. `make explain-page` runs it
# (root: it runs containers). The prose around the output is fixed, here;
# the output is whatever this build printed.
#
# Runs, with --network none (no change to the host's firewall):
#   1. a warm-up run (fills the seccomp cache, as on any host after the
#      first container);
#   2. the run shown: `run --explain ROOTFS sh -c 'echo hello from $(hostname)'`;
#   3. an out-of-memory kill (-m 16m, a shell string that doubles until
#      the limit stops it), whose end is shown.
#
# Fails, writing nothing, when BIN/minimal-docker has no --explain, when a
# run does not end as it should, or when it prints no explain line.
set -euo pipefail

BIN=${1:-bin}
OUT=${2:-docs/how-a-container-starts.md}
GO=${GO:-go}
MD=$BIN/minimal-docker

fail() {
	echo "explain-page: $*" >&2
	exit 1
}

[ -x "$MD" ] || fail "no $MD: run make build first"
[ "$(id -u)" = 0 ] || fail "must run as root (it runs containers)"
help=$("$MD" run --help 2>&1 || true)
if ! grep -q -- '--explain' <<<"$help"; then
	fail "$MD run has no --explain flag (issue 17's --explain is not in this build): build one that has it (make build) and run make explain-page again"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rootfs=$tmp/rootfs
if [ -n "${BUSYBOX:-}" ]; then
	"$GO" run ./tests/mkrootfs --busybox "$BUSYBOX" "$rootfs" >/dev/null
else
	"$GO" run ./tests/mkrootfs "$rootfs" >/dev/null
fi

# run EXPECTED_STATUS NAME ARGS...: runs minimal-docker with ARGS, its
# stdout to $tmp/NAME.out and its stderr to $tmp/NAME.err, and fails
# unless it exits with EXPECTED_STATUS.
run() {
	local want=$1 name=$2 rc=0
	shift 2
	"$MD" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null || rc=$?
	if [ "$rc" != "$want" ]; then
		echo "explain-page: $MD $* exited $rc, want $want; its stderr:" >&2
		sed 's/^/  /' "$tmp/$name.err" >&2
		exit 1
	fi
}

# explained NAME: the run's stderr, the rootfs's temporary path shown as
# ROOTFS; fails when it holds no explain line.
explained() {
	grep -q '^explain: ' "$tmp/$1.err" || fail "the $1 run printed no explain line; its stderr: $(cat "$tmp/$1.err")"
	sed "s|$rootfs|ROOTFS|g" "$tmp/$1.err"
}

# A memory hog in busybox's shell: a string that doubles until the cgroup's
# limit stops it.
hog='x=a; while :; do x=$x$x; done'

run 0 warmup run --network none "$rootfs" true
run 0 hello run --explain --network none "$rootfs" sh -c 'echo hello from $(hostname)'
run 137 oom run --explain --network none -m 16m "$rootfs" sh -c "$hog"

hello=$(explained hello)
# The end of the out-of-memory run: from its exit line on.
oom=$(explained oom | sed -n '/^explain: .*  exit status /,$p')
[ -n "$oom" ] || fail "the out-of-memory run printed no exit line; its stderr: $(cat "$tmp/oom.err")"

version=$(git describe --tags --always --dirty 2>/dev/null || echo unknown)
mode=$(if grep -q ' - cgroup2 ' /proc/self/mountinfo && ! grep -q ' - cgroup ' /proc/self/mountinfo; then echo "cgroup v2"; elif grep -q ' - cgroup2 ' /proc/self/mountinfo; then echo "cgroup v1 (hybrid)"; else echo "cgroup v1"; fi)

mkdir -p "$(dirname "$OUT")"
cat >"$OUT.tmp" <<EOF
# How a container starts

<!-- Made by \`make explain-page\` (scripts/explain-page.sh) from real runs:
do not edit the output blocks by hand, run it again. -->

This page is the output of \`minimal-docker run --explain\`, made by
\`make explain-page\` on $(date -u +%Y-%m-%d) with minimal-docker $version
on Linux $(uname -r), $mode, from this command (a busybox root
filesystem as the tests make it; \`--network none\`, so that the run
changes nothing on the host's network):

    minimal-docker run --explain --network none ROOTFS sh -c 'echo hello from \$(hostname)'

\`--explain\` prints, to stderr, every step of the container's start as it
is carried out — from the same plan that runs, so it cannot describe a
start other than the one that happened. Run it yourself on any container:
\`minimal-docker run --explain ...\`, or \`minimal-runc --explain
run|create|exec ...\`.

## How to read it

Each line is

    explain: <time since the command started> <who> <how long it took>  <what>

- **who**: \`parent\` is the runtime (minimal-docker, in Go: it decides
  everything, makes the cgroup, the network and the state); \`init\` is
  the container's first process (C, in minimal-docker-helper), which
  carries out the parent's plan one operation at a time and reports each
  one. The init's lines are printed by the parent as the reports arrive.
- **the order** is the order of the start: the parent checks the spec,
  compiles the plan, clones the init with the namespace flags by name
  (\`CLONE_NEWNS|...\`, and which process made or joined each namespace);
  then the cgroup (the layout and driver, each directory made and each
  file written, with its value: these are the files' contents, which the
  tests check); the init's move into its cgroup (\`cgroup.procs\`, before
  the init may exec anything); the go-ahead; then the init's operations:
  hostname, mounts (source, target, type, flags by name, data), device
  nodes (made, or bound from the host), \`pivot_root\` and the old root's
  fate, masked paths (\`mask\`: /dev/null or an empty read-only tmpfs over
  them) and read-only paths (\`mount_setattr\` with \`ro\`), rlimits, the
  bounding set (what it keeps), the user and groups, the capability sets
  by name, \`no_new_privs\`, the seccomp filter (compiled now or read from
  the cache file; its default action, rules, instructions, and the
  syscalls the library did not know), and the command found and exec'd.
- **the end**: the exit line (\`exit status N\`, the signal that killed the
  process if one did, and the cgroup's OOM kill counter), then each thing
  cleaned up (the cgroup's directories removed, the state).

## The run

\`\`\`
$hello
\`\`\`

## Signals, and an out-of-memory kill

A foreground \`run\` forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and
SIGUSR2 to the container's PID 1. PID 1 of a pid namespace gets only the
signals it has a handler for: a shell or a program without a SIGTERM
handler ignores it, so run such a command with \`--init\` (a tiny init as
PID 1 that forwards the signal to the command and reaps orphans), or stop
it with SIGKILL (\`minimal-docker stop\` does after its timeout). When PID 1
ends, the kernel kills every other process of the container, the runtime
removes the cgroup, and \`run\` exits with the command's status: its exit
code, or 128+N when signal N killed it.

When the container's memory is used up, the kernel's OOM killer kills a
process of its cgroup. This is the end of the same start with \`-m 16m\`
and \`sh -c '$hog'\` (a string that doubles until the limit stops it): the
exit line shows the SIGKILL and the cgroup's OOM kill counter, and
minimal-docker says why the container died (exit status 137):

\`\`\`
$oom
\`\`\`
EOF
mv "$OUT.tmp" "$OUT"
echo "explain-page: wrote $OUT"
