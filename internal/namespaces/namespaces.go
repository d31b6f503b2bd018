// Package namespaces maps the spec's namespace types to clone flags.
package namespaces

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Flags is the kernel's table: namespace type -> clone flag.
var Flags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

// CloneFlags returns the flags for the namespaces to create at clone time.
// The cgroup namespace is left out: the child unshares it once the parent
// has moved it into its cgroup, so that the namespace's root is the
// container's cgroup. Joining a namespace by path is not supported yet.
func CloneFlags(ns []specs.LinuxNamespace) (uintptr, error) {
	var flags uintptr
	for _, n := range ns {
		f, ok := Flags[n.Type]
		if !ok {
			return 0, fmt.Errorf("namespace %q: unknown type", n.Type)
		}
		if n.Path != "" {
			return 0, fmt.Errorf("namespace %s: joining by path (%s) is not supported yet", n.Type, n.Path)
		}
		if n.Type == specs.CgroupNamespace {
			continue
		}
		if n.Type == specs.UserNamespace || n.Type == specs.TimeNamespace {
			return 0, fmt.Errorf("namespace %s: not supported yet", n.Type)
		}
		flags |= f
	}
	return flags, nil
}

// Has reports whether the spec asks for a new namespace of type t.
func Has(ns []specs.LinuxNamespace, t specs.LinuxNamespaceType) bool {
	for _, n := range ns {
		if n.Type == t && n.Path == "" {
			return true
		}
	}
	return false
}
