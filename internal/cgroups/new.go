package cgroups

import (
	"errors"
	"fmt"

	v1 "github.com/minimal-docker/minimal-docker/internal/cgroups/v1"
	v2 "github.com/minimal-docker/minimal-docker/internal/cgroups/v2"
)

// The drivers, one per Mode.
var (
	_ Manager = (*v1.Manager)(nil)
	_ Manager = (*hybrid)(nil)
	_ Manager = (*v2.Manager)(nil)
)

// New returns the Manager of the container cgroup cgroupsPath (see
// NewWith), with the hierarchies and this process's cgroups read from /proc.
func New(cgroupsPath string) (Manager, error) {
	h, err := FindHierarchies()
	if err != nil {
		return nil, err
	}
	self, err := SelfPaths()
	if err != nil {
		return nil, err
	}
	return NewWith(h, self, cgroupsPath)
}

// NewWith returns the Manager of the container cgroup cgroupsPath on the
// hierarchies h, for a process that runs in the cgroups self (as from
// ParseProcCgroup). A relative cgroupsPath ("abc", "tests/abc") goes
// beneath self's cgroup in each hierarchy, an absolute one ("/tests/abc")
// beneath the hierarchy's mount point; the systemd form is described at
// containerPath. Paths with ".." or that name no cgroup beneath the mount
// point are refused. The layout h.Mode picks the driver: on V1 the v1
// driver manages the v1 hierarchies of its controllers; on Hybrid the
// hybrid one, which is the v1 driver and, where the host has the hugetlb
// controller only on its v2 tree, a cgroup there for the hugepage limits
// (see hybrid); on V2 the v2 driver manages the unified tree.
func NewWith(h *Hierarchies, self map[string]string, cgroupsPath string) (Manager, error) {
	if h == nil {
		return nil, errors.New("cgroups: no hierarchies")
	}
	p, err := containerPath(cgroupsPath)
	if err != nil {
		return nil, err
	}
	switch h.Mode {
	case V1, Hybrid:
		dirs, err := v1Dirs(h, self, p)
		if err != nil {
			return nil, err
		}
		if h.Mode == V1 {
			return v1.New(dirs), nil
		}
		return newHybrid(v1.New(dirs), h, self, p), nil
	case V2:
		s, found := self[""]
		dir, err := place(h.Unified, h.Roots[""], s, found, p)
		if err != nil {
			return nil, err
		}
		return v2.New(dir), nil
	}
	return nil, fmt.Errorf("cgroups: unknown mode %v", h.Mode)
}

// v1Dirs places the container's cgroup p in each mounted hierarchy of the
// controllers the v1 driver manages.
func v1Dirs(h *Hierarchies, self map[string]string, p string) (map[string]string, error) {
	dirs := make(map[string]string)
	for _, c := range v1.Controllers() {
		mount, ok := h.V1[c]
		if !ok {
			continue
		}
		s, found := self[c]
		dir, err := place(mount, h.Roots[c], s, found, p)
		if err != nil {
			return nil, err
		}
		dirs[c] = dir
	}
	return dirs, nil
}
