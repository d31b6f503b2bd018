#!/bin/bash
# robustness.sh: the faults of issue 15 against the prototype monitor
# (cmd/minimal-docker-monitor) driving bin/minimal-runc. Root; run as
#   tools/isolated.sh NAME bash tests/monitor/robustness.sh
# Exits 1 if a check fails. No timing assertions: waits are generous.
. "$(dirname "$0")/lib.sh"

gone() { ! kill -0 "$1" 2>/dev/null; }
no_state() { [ -z "$(ls "$RROOT")" ]; }
no_cgroup() { ! ls -d /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/memory/*/*/"$1" /sys/fs/cgroup/*/*/"$1" 2>/dev/null | grep -q .; }
exit_code() { jq -r .exit_code "$W/c/$1/exit.json" 2>/dev/null; }

echo "# create fails: the CLI hears the runtime's error, nothing is left"
mkbundle bad '["no-such-command"]'
out=$(mon_start bad 2>&1); rc=$?
check "monitor exits 1 when create fails" [ "$rc" = 1 ]
check "the error names the command: $out" grep -q no-such-command <<<"$out"
check "no monitor left" [ -z "$(monitor_pid bad)" ]
check "no runtime state left" no_state

echo "# kill -9 of the container's PID 1"
mkbundle k1 '["sleep","100000"]'
cpid=$(mon_start k1)
check "monitor reports the container's pid" kill -0 "$cpid"
mpid=$(monitor_pid k1)
kill -9 "$cpid"
wait_for "exit record of k1" test -e "$W/c/k1/exit.json"
check "exit code 137 recorded" [ "$(exit_code k1)" = 137 ]
check "oom_killed false" [ "$(jq -r .oom_killed "$W/c/k1/exit.json")" = false ]
wait_for "monitor of k1 to exit" gone "$mpid"
check "monitor exited after delete" gone "$mpid"
check "runtime state deleted" no_state
check "cgroup removed" no_cgroup mon-k1

echo "# OOM kill (memory limit 16 MiB, tail /dev/zero)"
mkbundle oom '["tail","/dev/zero"]' '.linux.resources.memory={"limit":16777216,"swap":16777216}'
mon_start oom >/dev/null
wait_for "exit record of oom" test -e "$W/c/oom/exit.json"
check "exit code 137 recorded" [ "$(exit_code oom)" = 137 ]
check "oom_killed true" [ "$(jq -r .oom_killed "$W/c/oom/exit.json")" = true ]
wait_for "runtime state of oom deleted" no_state

echo "# kill -9 of the monitor"
mkbundle km '["sleep","100000"]'
cpid=$(mon_start km)
mpid=$(monitor_pid km)
kill -9 "$mpid"
wait_for "monitor gone" gone "$mpid"
check "container keeps running" [ "$(state km)" = running ]
check "container's parent is now $(ps -o ppid= -p "$cpid" | tr -d ' ') (not the monitor)" [ "$(ps -o ppid= -p "$cpid" | tr -d ' ')" != "$mpid" ]
kill -9 "$cpid"
wait_for "container km stopped" test "$(state km)" = stopped
check "no exit record: the status went to whoever reaped it" [ ! -e "$W/c/km/exit.json" ]
"$RUNC" --root "$RROOT" delete km

echo "# kill -9 of the monitor while the container writes to stdout"
mkbundle kw '["sh","-c","while true; do echo tick; sleep 0.05; done"]'
cpid=$(mon_start kw)
mpid=$(monitor_pid kw)
kill -9 "$mpid"
wait_for "monitor gone" gone "$mpid"
sleep 1
echo "     (after the monitor's death the container is: $(state kw))"
"$RUNC" --root "$RROOT" delete --force kw

echo "# log rotation: max-size=1k, max-file=3, a container printing fast"
mkbundle rot '["sh","-c","i=0; while [ $i -lt 3000 ]; do echo line-$i; i=$((i+1)); done"]'
mon_start rot --log-max-size 1024 --log-max-file 3 >/dev/null
wait_for "exit record of rot" test -e "$W/c/rot/exit.json"
files=$(cd "$W/c/rot" && ls json.log* | tr '\n' ' ')
check "exactly 3 files: $files" [ "$files" = "json.log json.log.1 json.log.2 " ]
longest=$(cat "$W/c/rot"/json.log* | awk '{ if (length($0) + 1 > m) m = length($0) + 1 } END { print m }')
for f in "$W/c/rot"/json.log*; do
	check "$(basename "$f") $(stat -c %s "$f") bytes <= 1024 + one line ($longest)" [ "$(stat -c %s "$f")" -le $((1024 + longest)) ]
done
records_ok() { jq -e 'select((.log|type)=="string" and .stream=="stdout" and (.time|test("^[0-9-]+T[0-9:.]+Z$")))' "$@" >/dev/null; }
check "every line is a json-file record" records_ok "$W/c/rot/json.log" "$W/c/rot/json.log.1" "$W/c/rot/json.log.2"
seq_ok() { cat "$W/c/rot/json.log.2" "$W/c/rot/json.log.1" "$W/c/rot/json.log" | jq -j .log | sed 's/line-//' |
	awk 'NR > 1 && $1 != prev + 1 { bad = 1 } { prev = $1 } END { exit bad || prev != 2999 }'; }
check "the kept lines are the last ones, in order, none lost" seq_ok

echo "# a full disk while writing logs (a 64 KiB tmpfs)"
mkdir -p "$W/small"
mount -t tmpfs -o size=64k tmpfs "$W/small"
mkbundle full '["sh","-c","i=0; while true; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); sleep 0.002; done"]'
cpid=$(LOGDIR=$W/small mon_start full)
mpid=$(monitor_pid full)
disk_full() { [ "$(df --output=avail "$W/small" | tail -1)" -lt 8 ]; }
wait_for "the tmpfs to fill" disk_full
sleep 1
check "container keeps running on a full disk" [ "$(state full)" = running ]
check "monitor keeps running" kill -0 "$mpid"
: > "$W/small/json.log" # space again (the monitor appends: it goes on at offset 0)
noted() { grep -q 'bytes of log lost: No space left on device' "$W/small/json.log"; }
wait_for "the loss noted in the log" noted
check "the log says what was lost" noted
kill -9 "$cpid"
wait_for "exit record of full" test -e "$W/c/full/exit.json"
check "exit record counts the lost bytes ($(jq .log_lost_bytes "$W/c/full/exit.json"))" [ "$(jq .log_lost_bytes "$W/c/full/exit.json")" -gt 0 ]
whole_json() { jq -e . "$1" >/dev/null; }
check "every line of the log is whole json" whole_json "$W/small/json.log"
wait_for "monitor of full to exit" gone "$mpid"
umount "$W/small"

wait_for "runtime state all deleted" no_state
check "nothing left: no runtime state" no_state
check "nothing left: no monitor" [ -z "$(pgrep -f "^$W/bin/monitor")" ]
echo "$FAILED failed"
[ "$FAILED" = 0 ]
