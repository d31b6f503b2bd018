package cgroups

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	v2 "github.com/minimal-docker/minimal-docker/internal/cgroups/v2"
)

// Delegated says whether a rootless runtime may make cgroups on the
// hierarchies h, for a process in the cgroups self (as SelfPaths reads
// them): on v2 alone, where its own cgroup was delegated to the user
// (chowned to it, as systemd's Delegate=yes does). See DelegatedRoot.
func Delegated(h *Hierarchies, self map[string]string) bool {
	_, ok := DelegatedRoot(h, self)
	return ok
}

// DelegatedHere is Delegated for this process, on this host's hierarchies.
func DelegatedHere() bool {
	h, err := FindHierarchies()
	if err != nil {
		return false
	}
	self, err := SelfPaths()
	return err == nil && Delegated(h, self)
}

// DelegatedRoot returns the top of the v2 subtree delegated to a process
// in the cgroups self on the hierarchies h: from its own cgroup up, the
// highest cgroup whose directory, cgroup.procs and cgroup.subtree_control
// it may write (systemd chows user@UID.service and all beneath it to the
// user; the user's processes run in leaves beneath it, such as
// app.slice/NAME.scope). ok is false on v1 and hybrid hosts, and where
// the process's own cgroup is not writable (a login session's
// session-N.scope is root's): then it has no cgroup to make others in.
// The root cgroup is never taken.
func DelegatedRoot(h *Hierarchies, self map[string]string) (dir string, ok bool) {
	return delegatedRoot(h, self, writable)
}

// writable says whether this process may write the cgroup dir's
// directory, cgroup.procs and cgroup.subtree_control (access(2): the
// caller's ids and capabilities, as the kernel checks a write).
func writable(dir string) bool {
	for _, f := range []string{dir, filepath.Join(dir, "cgroup.procs"), filepath.Join(dir, "cgroup.subtree_control")} {
		if unix.Access(f, unix.W_OK) != nil {
			return false
		}
	}
	return true
}

// delegatedRoot is DelegatedRoot with may in place of writable.
func delegatedRoot(h *Hierarchies, self map[string]string, may func(string) bool) (string, bool) {
	if h == nil || h.Mode != V2 {
		return "", false
	}
	s, found := self[""]
	dir, err := place(h.Unified, h.Roots[""], s, found, ".")
	if err != nil || dir == filepath.Clean(h.Unified) || !may(dir) {
		return "", false
	}
	for {
		parent := filepath.Dir(dir)
		if parent == filepath.Clean(h.Unified) || !may(parent) {
			return dir, true
		}
		dir = parent
	}
}

// NewDelegated returns the Manager of a rootless runtime's container
// cgroup cgroupsPath on v2, where the subtree dir (DelegatedRoot) is
// delegated to it. A relative cgroupsPath goes beneath dir, not beneath
// the runtime's own cgroup as NewWith places it: that one holds processes
// (the runtime's, the user's shell), and v2's "no internal processes"
// rule lets such a cgroup give no controller to a child, so the
// container's cgroup goes beside it, in the cgroup that is the user's to
// divide (DELEGATED/ID by default, beside systemd's app.slice and
// init.scope, as Podman's containers go to
// user@UID.service/user.slice/libpod-ID.scope). No cgroup between them is
// made by default: one that containers share would be left behind by the
// one that made it while another is in it. An absolute cgroupsPath is
// from the mount point, as NewWith's.
func NewDelegated(h *Hierarchies, dir, cgroupsPath string) (Manager, error) {
	if h == nil || h.Mode != V2 {
		return nil, errors.New("cgroups: a delegated cgroup is a cgroup v2 one, and the host is not pure v2")
	}
	p, err := containerPath(cgroupsPath)
	if err != nil {
		return nil, err
	}
	if path.IsAbs(p) {
		d, err := place(h.Unified, h.Roots[""], "", false, p)
		if err != nil {
			return nil, err
		}
		return v2.New(d), nil
	}
	d := filepath.Join(dir, p)
	if !strings.HasPrefix(d, filepath.Clean(dir)+"/") {
		return nil, fmt.Errorf("cgroupsPath %q: %s is outside the delegated cgroup %s", p, d, dir)
	}
	return v2.New(d), nil
}
