package namespaces

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// order is the namespace types in the order --explain lists them, with
// each one's clone flag name.
var order = []struct {
	t    specs.LinuxNamespaceType
	flag string
}{
	{specs.MountNamespace, "CLONE_NEWNS"},
	{specs.UTSNamespace, "CLONE_NEWUTS"},
	{specs.IPCNamespace, "CLONE_NEWIPC"},
	{specs.PIDNamespace, "CLONE_NEWPID"},
	{specs.NetworkNamespace, "CLONE_NEWNET"},
	{specs.CgroupNamespace, "CLONE_NEWCGROUP"},
	{specs.UserNamespace, "CLONE_NEWUSER"},
	{specs.TimeNamespace, "CLONE_NEWTIME"},
}

// CloneFlagNames names the namespace flags set in flags, joined by "|" in
// a fixed order ("CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET");
// bits that are no namespace flag follow in hex ("0x11"); no flag at all is
// "0".
func CloneFlagNames(flags uintptr) string {
	var names []string
	for _, o := range order {
		if f := Flags[o.t]; flags&f != 0 {
			names = append(names, o.flag)
			flags &^= f
		}
	}
	if flags != 0 {
		names = append(names, fmt.Sprintf("%#x", flags))
	}
	if len(names) == 0 {
		return "0"
	}
	return strings.Join(names, "|")
}

// Describe says, for each namespace type, where the container's comes
// from and which process made or joined it, one line each in a fixed
// order (mount, uts, ipc, pid, network, cgroup, user, time), for
// --explain:
//
//	mount: new (CLONE_NEWNS: clone(2) of the init, by the runtime)
//	network: joined /proc/123/ns/net (setns(2) by the init)
//	pid: joined /proc/123/ns/pid (the init is forked inside it, by the runtime)
//	cgroup: new (unshare(CLONE_NEWCGROUP) by the init, once it is in its cgroup)
//	user: the runtime's own (not in linux.namespaces)
//
// It follows CloneFlags (what is cloned), Joinable (what the init joins) and
// ForkInPID; it checks nothing (CloneFlags does).
//
// With a user namespace joined by path (JoinsUser), the helper's
// constructor joins it (and the pid namespace given by path), becomes its
// root and makes the new namespaces with unshare(2), so that it owns them:
//
//	user: joined /proc/123/ns/user (setns(2) by the helper's constructor, which becomes its root (uid 0) and forks the init)
//	mount: new (CLONE_NEWNS: unshare(2) by the helper's constructor, in the joined user namespace, which owns it)
func Describe(ns []specs.LinuxNamespace) []string {
	out := make([]string, 0, len(order))
	viaHelper := JoinsUser(ns)
	for _, o := range order {
		var line string
		switch n, ok := lookup(ns, o.t); {
		case !ok:
			line = "the runtime's own (not in linux.namespaces)"
		case n.Path != "" && o.t == specs.UserNamespace && !viaHelper:
			line = fmt.Sprintf("the runtime's own, named by path (%s: nothing to join)", n.Path)
		case viaHelper && o.t == specs.UserNamespace:
			line = fmt.Sprintf("joined %s (setns(2) by the helper's constructor, which becomes its root (uid 0) and forks the init)", n.Path)
		case viaHelper && n.Path != "" && o.t == specs.PIDNamespace:
			line = fmt.Sprintf("joined %s (setns(2) by the helper's constructor, the init forked inside it)", n.Path)
		case viaHelper && n.Path == "" && o.t == specs.PIDNamespace:
			line = fmt.Sprintf("new (%s: unshare(2) by the helper's constructor, in the joined user namespace, which owns it; the init forked inside it)", o.flag)
		case viaHelper && n.Path == "" && o.t != specs.CgroupNamespace:
			line = fmt.Sprintf("new (%s: unshare(2) by the helper's constructor, in the joined user namespace, which owns it)", o.flag)
		case n.Path != "" && o.t == specs.PIDNamespace:
			line = fmt.Sprintf("joined %s (the init is forked inside it, by the runtime)", n.Path)
		case n.Path != "":
			line = fmt.Sprintf("joined %s (setns(2) by the init)", n.Path)
		case o.t == specs.CgroupNamespace:
			line = fmt.Sprintf("new (unshare(%s) by the init, once it is in its cgroup)", o.flag)
		default:
			line = fmt.Sprintf("new (%s: clone(2) of the init, by the runtime)", o.flag)
		}
		out = append(out, string(o.t)+": "+line)
	}
	return out
}

// lookup finds the namespace of type t in ns.
func lookup(ns []specs.LinuxNamespace, t specs.LinuxNamespaceType) (specs.LinuxNamespace, bool) {
	for _, n := range ns {
		if n.Type == t {
			return n, true
		}
	}
	return specs.LinuxNamespace{}, false
}
