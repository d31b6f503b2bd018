package main

import (
	"slices"
	"testing"
	"time"
)

func TestSteps(t *testing.T) {
	stderr := "minimal-docker: debug: step preflight                0.551ms\n" +
		"minimal-docker: debug: step init pivot_root          4.358ms\n" +
		"explain:    1.000ms parent    0.250ms  clone(CLONE_NEWNS|CLONE_NEWPID): the init, pid 7\n" +
		"explain:    2.000ms init      0.100ms  mount proc on /proc\n" +
		"explain:    2.500ms init      0.200ms  mount tmpfs on /dev\n" +
		"something else\n"
	order, d := steps(stderr)
	want := []string{"preflight", "init pivot_root", "parent clone", "init mount"}
	if !slices.Equal(order, want) {
		t.Fatalf("order %q, want %q", order, want)
	}
	for name, v := range map[string]time.Duration{
		"preflight": 551 * time.Microsecond, "parent clone": 250 * time.Microsecond, "init mount": 300 * time.Microsecond,
	} {
		if (d[name] - v).Abs() > time.Microsecond {
			t.Errorf("%s: %v, want %v", name, d[name], v)
		}
	}
}

func TestOpName(t *testing.T) {
	for op, want := range map[string]string{
		"mount proc on /proc (proc) [mkdir]":                  "mount",
		"bind /a on /a (bind|rec) [host path]":                "bind",
		"sent the plan: 68 ops, 3564 bytes":                   "sent the plan",
		"sent the go-ahead; saved the state":                  "sent the go-ahead",
		"prctl(PR_SET_DUMPABLE, 0)":                           "prctl",
		"clone(CLONE_NEWNS|CLONE_NEWPID): the init, pid 1":    "clone",
		"cgroup write /sys/fs/cgroup/pids/x/pids.max \"64\"":  "cgroup write",
		"moved pid 15937 into cgroup /sys/fs/cgroup/memory/x": "moved pid",
		"wait for the parent's go-ahead (cgroup placed)":      "wait for the parent's go-ahead",
		"pivot_root into the root (the old root made rslave)": "pivot_root into the root",
		"bring lo up": "bring lo up",
		"namespace mount: new (CLONE_NEWNS: clone(2) of the init)": "namespace mount",
		"umask 0000": "umask",
		"cgroup v1, cgroupfs driver, /sys/fs/cgroup/memory/x": "cgroup v1",
		"capset effective CAP_KILL,CAP_AUDIT_WRITE":           "capset effective",
		"setrlimit RLIMIT_NOFILE soft 1024 hard 1024":         "setrlimit",
		"mknod /dev/null c 1:3 0666 uid 0 gid 0":              "mknod",
	} {
		if got := opName(op); got != want {
			t.Errorf("opName(%q) = %q, want %q", op, got, want)
		}
	}
}
