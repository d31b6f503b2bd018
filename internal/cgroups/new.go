package cgroups

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	v1 "github.com/minimal-docker/minimal-docker/internal/cgroups/v1"
	v2 "github.com/minimal-docker/minimal-docker/internal/cgroups/v2"
)

// driver is a Manager without Mode: what the v1 and v2 packages provide
// (they cannot name Mode without importing this package).
type driver interface {
	Create(r *specs.LinuxResources) error
	Apply(pid int) error
	OOMKillCount() (uint64, error)
	Destroy() error
	Path(controller string) string
	Made() []string
	Pids() ([]int, error)
	Freeze() error
	Thaw() error
	Update(r *specs.LinuxResources) error
}

// manager adds the Mode to a driver.
type manager struct {
	driver
	mode Mode
}

func (m manager) Mode() Mode { return m.mode }

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
// point are refused. On V1 and Hybrid hosts the v1 driver manages the v1
// hierarchies of its controllers (the v2 tree of a hybrid host holds no
// controller we use, but for hugetlb where the host has it only there: see
// hybrid); on V2 the v2 driver manages the unified tree.
func NewWith(h *Hierarchies, self map[string]string, cgroupsPath string) (Manager, error) {
	if h == nil {
		return nil, errors.New("cgroups: no hierarchies")
	}
	p, err := containerPath(cgroupsPath)
	if err != nil {
		return nil, err
	}
	switch h.Mode {
	case V2:
		s, found := self[""]
		dir, err := place(h.Unified, h.Roots[""], s, found, p)
		if err != nil {
			return nil, err
		}
		return manager{v2.New(dir), V2}, nil
	case V1, Hybrid:
		dirs, err := v1Dirs(h, self, p)
		if err != nil {
			return nil, err
		}
		_, v1Hugetlb := h.V1["hugetlb"]
		if h.Mode == V1 || v1Hugetlb {
			return manager{v1.New(dirs), h.Mode}, nil
		}
		// The hugetlb controller can only be on the v2 tree.
		s, found := self[""]
		dir, err := place(h.Unified, h.Roots[""], s, found, p)
		return manager{&hybrid{Manager: v1.New(dirs), unifiedDir: dir, placeErr: err}, Hybrid}, nil
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
