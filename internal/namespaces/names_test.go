package namespaces

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestCloneFlagNames(t *testing.T) {
	for _, tc := range []struct {
		flags uintptr
		want  string
	}{
		{0, "0"},
		{unix.CLONE_NEWNS, "CLONE_NEWNS"},
		{unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS,
			"CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET"},
		{unix.CLONE_NEWUSER | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME, "CLONE_NEWCGROUP|CLONE_NEWUSER|CLONE_NEWTIME"},
		{unix.CLONE_NEWNET | uintptr(unix.SIGCHLD), "CLONE_NEWNET|0x11"},
	} {
		if got := CloneFlagNames(tc.flags); got != tc.want {
			t.Errorf("CloneFlagNames(%#x) = %q, want %q", tc.flags, got, tc.want)
		}
	}
}

// TestNamesCoverFlags: every namespace type of the kernel's table has a
// name, and each name is the one its flag has.
func TestNamesCoverFlags(t *testing.T) {
	if len(order) != len(Flags) {
		t.Fatalf("order has %d types, Flags %d", len(order), len(Flags))
	}
	for _, o := range order {
		if got := CloneFlagNames(Flags[o.t]); got != o.flag {
			t.Errorf("%s: CloneFlagNames = %q, want %q", o.t, got, o.flag)
		}
	}
}

func TestDescribe(t *testing.T) {
	ns := []specs.LinuxNamespace{
		{Type: specs.PIDNamespace, Path: "/proc/7/ns/pid"},
		{Type: specs.NetworkNamespace, Path: "/proc/7/ns/net"},
		{Type: specs.MountNamespace},
		{Type: specs.UTSNamespace},
		{Type: specs.CgroupNamespace},
	}
	want := []string{
		"mount: new (CLONE_NEWNS: clone(2) of the init, by the runtime)",
		"uts: new (CLONE_NEWUTS: clone(2) of the init, by the runtime)",
		"ipc: the runtime's own (not in linux.namespaces)",
		"pid: joined /proc/7/ns/pid (the init is forked inside it, by the runtime)",
		"network: joined /proc/7/ns/net (setns(2) by the init)",
		"cgroup: new (unshare(CLONE_NEWCGROUP) by the init, once it is in its cgroup)",
		"user: the runtime's own (not in linux.namespaces)",
		"time: the runtime's own (not in linux.namespaces)",
	}
	if got := Describe(ns); !slices.Equal(got, want) {
		t.Errorf("Describe =\n%q\nwant\n%q", got, want)
	}
}

// TestDescribeJoinedUser: with a user namespace by path, the helper's
// constructor joins it and makes the new namespaces (unshare), and joins
// the pid namespace given by path; the init still joins the others.
func TestDescribeJoinedUser(t *testing.T) {
	ns := []specs.LinuxNamespace{
		{Type: specs.UserNamespace, Path: "/nonexistent/ns/user"}, // not this process's: joined
		{Type: specs.PIDNamespace, Path: "/proc/7/ns/pid"},
		{Type: specs.NetworkNamespace, Path: "/proc/7/ns/net"},
		{Type: specs.MountNamespace},
		{Type: specs.CgroupNamespace},
	}
	want := []string{
		"mount: new (CLONE_NEWNS: unshare(2) by the helper's constructor, in the joined user namespace, which owns it)",
		"uts: the runtime's own (not in linux.namespaces)",
		"ipc: the runtime's own (not in linux.namespaces)",
		"pid: joined /proc/7/ns/pid (setns(2) by the helper's constructor, the init forked inside it)",
		"network: joined /proc/7/ns/net (setns(2) by the init)",
		"cgroup: new (unshare(CLONE_NEWCGROUP) by the init, once it is in its cgroup)",
		"user: joined /nonexistent/ns/user (setns(2) by the helper's constructor, which becomes its root (uid 0) and forks the init)",
		"time: the runtime's own (not in linux.namespaces)",
	}
	if got := Describe(ns); !slices.Equal(got, want) {
		t.Errorf("Describe =\n%q\nwant\n%q", got, want)
	}
	ns[1] = specs.LinuxNamespace{Type: specs.PIDNamespace}
	if got := Describe(ns)[3]; got != "pid: new (CLONE_NEWPID: unshare(2) by the helper's constructor, in the joined user namespace, which owns it; the init forked inside it)" {
		t.Errorf("a new pid namespace: %q", got)
	}
	// This process's own user namespace by path: nothing to join, the
	// clone makes the others.
	ns[0].Path = "/proc/self/ns/user"
	got := Describe(ns)
	if got[6] != "user: the runtime's own, named by path (/proc/self/ns/user: nothing to join)" || got[0] != "mount: new (CLONE_NEWNS: clone(2) of the init, by the runtime)" {
		t.Errorf("the runtime's own user namespace by path: %q", got)
	}
}
