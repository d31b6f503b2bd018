// Package namespaces maps the spec's namespace types to clone flags, and
// joins existing namespaces by path (linux.namespaces[].path).
package namespaces

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

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

// Joinable lists, in the order Join joins them, the types that the init
// joins by path: setns on its locked thread, which execve keeps. A
// multi-threaded (Go) process may setns into these, and only these; the
// mount and user namespaces need a single-threaded process, and joining a
// pid namespace moves only the caller's later children, so the init would
// have to be forked after it (the nsenter constructor's way, not done for
// the init yet).
var Joinable = []specs.LinuxNamespaceType{
	specs.IPCNamespace, specs.UTSNamespace, specs.NetworkNamespace, specs.CgroupNamespace,
}

// CloneFlags checks the namespaces and returns the flags for those to
// create at clone time. The cgroup namespace is left out: the child
// unshares it once the parent has moved it into its cgroup, so that the
// namespace's root is the container's cgroup. Those with a path are left
// out too: the child joins them (Join); a path is accepted for the
// Joinable types only.
func CloneFlags(ns []specs.LinuxNamespace) (uintptr, error) {
	var flags uintptr
	seen := map[specs.LinuxNamespaceType]bool{}
	for _, n := range ns {
		f, ok := Flags[n.Type]
		if !ok {
			return 0, fmt.Errorf("namespace %q: unknown type", n.Type)
		}
		if seen[n.Type] {
			return 0, fmt.Errorf("namespace %s: listed twice", n.Type)
		}
		seen[n.Type] = true
		if n.Type == specs.UserNamespace || n.Type == specs.TimeNamespace {
			return 0, fmt.Errorf("namespace %s: not supported yet", n.Type)
		}
		if n.Path != "" {
			if !slices.Contains(Joinable, n.Type) {
				return 0, fmt.Errorf("namespace %s: joining by path (%s) is not supported yet (only %s can be joined)", n.Type, n.Path, joinableNames())
			}
			if !filepath.IsAbs(n.Path) {
				return 0, fmt.Errorf("namespace %s: path %q is not absolute", n.Type, n.Path)
			}
			continue
		}
		if n.Type == specs.CgroupNamespace {
			continue
		}
		flags |= f
	}
	return flags, nil
}

func joinableNames() string {
	names := make([]string, len(Joinable))
	for i, t := range Joinable {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
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

// In reports whether the container has a namespace of type t of its own
// choosing: a new one, or one joined by path.
func In(ns []specs.LinuxNamespace, t specs.LinuxNamespaceType) bool {
	for _, n := range ns {
		if n.Type == t {
			return true
		}
	}
	return false
}

// Joins reports whether any namespace is to be joined by path.
func Joins(ns []specs.LinuxNamespace) bool {
	for _, n := range ns {
		if n.Path != "" {
			return true
		}
	}
	return false
}

// Join joins the namespaces given by path, of the Joinable types (checked
// by CloneFlags), in Joinable's order. setns changes the calling thread
// only: the caller has locked its OS thread and execs on it. It runs
// before the mounts, so that mqueue and sysfs mounts belong to the joined
// ipc and network namespaces.
func Join(ns []specs.LinuxNamespace) error {
	for _, t := range Joinable {
		for _, n := range ns {
			if n.Type != t || n.Path == "" {
				continue
			}
			if err := setns(n.Path, Flags[t]); err != nil {
				return fmt.Errorf("namespace %s: %w", t, err)
			}
		}
	}
	return nil
}

func setns(path string, flag uintptr) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, int(flag)); err != nil {
		if err == unix.EINVAL {
			return &os.PathError{Op: "setns", Path: path, Err: fmt.Errorf("%w (not a namespace file of that type?)", err)}
		}
		return &os.PathError{Op: "setns", Path: path, Err: err}
	}
	return nil
}
