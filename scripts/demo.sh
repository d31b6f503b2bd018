#!/bin/sh
# Runs inside the demo container (make demo): what a container looks like.
echo "hostname: $(hostname)"
echo "my pid:   $$"
echo "-- ps:"
ps
echo "-- cgroup limits (read-only view of the container's own cgroup):"
if [ -f /sys/fs/cgroup/memory.max ]; then
	echo "memory.max: $(cat /sys/fs/cgroup/memory.max)"
	echo "pids.max:   $(cat /sys/fs/cgroup/pids.max)"
	echo "cpu.max:    $(cat /sys/fs/cgroup/cpu.max)"
else
	echo "memory.limit_in_bytes: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
	echo "pids.max:              $(cat /sys/fs/cgroup/pids/pids.max)"
	echo "cpu.cfs_quota_us:      $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) of $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"
fi
