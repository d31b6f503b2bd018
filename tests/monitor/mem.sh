#!/bin/bash
# mem.sh: the memory of an idle container's monitor, issue 15's measure:
# N (100) busybox `sleep` containers under conmon (as Podman 4.3 runs it),
# then under our monitor linked statically, then dynamically; each
# monitor's PSS and RSS from /proc/PID/smaps_rollup; all removed after
# each round and checked gone. Root; run as
#   tools/isolated.sh NAME bash tests/monitor/mem.sh
. "$(dirname "$0")/lib.sh"
N=${N:-100}

# summary NAME FILE: median and total of the "pss rss" lines of FILE
summary() {
	sort -n "$2" | awk -v name="$1" '{ p[NR] = $1; r[NR] = $2; tp += $1; tr += $2 }
		END { m = int((NR + 1) / 2); printf "| %s | %d | %d kB | %.1f MiB | %d kB | %.1f MiB |\n", name, NR, p[m], tp / 1024, r[m], tr / 1024 }'
}
measure() { awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 } END { print p, r }' "/proc/$1/smaps_rollup"; }
leftovers() {
	echo "left: runtime state $(ls "$RROOT" | wc -l), cgroups $(ls -d /sys/fs/cgroup/*/*/mon-* /sys/fs/cgroup/*/*/*/*/mon-* 2>/dev/null | wc -l)," \
		"mounts $(grep -c " $W/" /proc/self/mountinfo), monitors $(pgrep -f "^$W/bin/monitor" | wc -l), conmons $(pgrep -f "^conmon .*$W/" | wc -l)"
}

rows=()
# round NAME START-FUNCTION PID-OF-FUNCTION
round() {
	local name=$1 start=$2 pidof=$3 i
	: > "$W/$name.txt"
	for i in $(seq "$N"); do
		mkbundle "$name-$i" '["sleep","100000"]'
		"$start" "$name-$i" >/dev/null || { echo "start $name-$i failed" >&2; return 1; }
	done
	sleep 2
	for i in $(seq "$N"); do measure "$("$pidof" "$name-$i")" >> "$W/$name.txt"; done
	rows+=("$(summary "$name" "$W/$name.txt")")
	for i in $(seq "$N"); do "$RUNC" --root "$RROOT" kill "$name-$i" KILL; done
	for i in $(seq "$N"); do
		wait_for "exit of $name-$i" test -e "$W/c/$name-$i/exit.json" -o -e "$W/exits/$name-$i"
	done
	for i in $(seq "$N"); do wait_for "monitor of $name-$i to end" test -z "$("$pidof" "$name-$i")"; done
	# conmon leaves the delete to its caller (Podman's exit command)
	for i in $(ls "$RROOT"); do "$RUNC" --root "$RROOT" delete "$i"; done
	echo "$name: $(leftovers)"
}
conmon_pid() { p=$(cat "$W/c/$1/conmon.pid" 2>/dev/null) && kill -0 "$p" 2>/dev/null && echo "$p"; }

round conmon conmon_start conmon_pid
round ours-static mon_start monitor_pid
MON=$W/bin/monitor-dynamic round ours-dynamic mon_start monitor_pid
echo
echo "| monitor | containers | PSS median | PSS total | RSS median | RSS total |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
