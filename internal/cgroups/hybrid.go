package cgroups

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	v1 "github.com/minimal-docker/minimal-docker/internal/cgroups/v1"
	v2 "github.com/minimal-docker/minimal-docker/internal/cgroups/v2"
)

// hybrid is the driver of a hybrid host: the v1 driver, and for the
// hugepage limits, where the host has the hugetlb controller on its v2
// tree rather than as a v1 hierarchy, a cgroup in the v2 tree. That cgroup
// is made only for a container that sets hugepage limits (they cannot be
// updated), at the same place as its v1 ones, and the container's
// processes are moved into it too.
//
// cgroup v2 lets no cgroup with processes of its own give controllers to
// its children, and this process is in the v2 tree too: a relative
// cgroupsPath beneath our own v2 cgroup then fails, unless that is the
// root. Engines pass absolute paths.
type hybrid struct {
	*v1.Manager
	// hugetlbOnV2: the host has hugetlb on its v2 tree only, and
	// unifiedDir is the container's directory there; placeErr says why
	// there is none.
	hugetlbOnV2 bool
	unifiedDir  string
	placeErr    error
	// unified is the cgroup in the v2 tree, nil until Create makes it
	// with newUnified (v2.New when nil).
	unified    *v2.Manager
	newUnified func(dir string) *v2.Manager
}

// newHybrid returns the driver of the container cgroup p (from
// containerPath) on the hybrid host h: the v1 driver v1m, and the place of
// the cgroup in the v2 tree when the host has hugetlb only there.
func newHybrid(v1m *v1.Manager, h *Hierarchies, self map[string]string, p string) *hybrid {
	hy := &hybrid{Manager: v1m}
	if _, ok := h.V1["hugetlb"]; ok {
		return hy
	}
	s, found := self[""]
	hy.hugetlbOnV2 = true
	hy.unifiedDir, hy.placeErr = place(h.Unified, h.Roots[""], s, found, p)
	return hy
}

// Mode is Hybrid.
func (h *hybrid) Mode() Mode { return Hybrid }

// hugetlbOnly is r's hugepage limits alone, the part of r the v2 tree
// takes on a hybrid host.
func hugetlbOnly(r *specs.LinuxResources) *specs.LinuxResources {
	return &specs.LinuxResources{HugepageLimits: r.HugepageLimits}
}

// Create makes the v1 cgroups with every limit of r but the hugepage
// ones, then, when r sets hugepage limits and the host has hugetlb on its
// v2 tree only, the cgroup in the v2 tree with those. On failure it
// removes what it made.
func (h *hybrid) Create(r *specs.LinuxResources) error {
	if !h.hugetlbOnV2 || r == nil || len(r.HugepageLimits) == 0 {
		return h.Manager.Create(r)
	}
	if h.placeErr != nil {
		return fmt.Errorf("cgroup v2 tree of a hybrid host (hugepage limits): %w", h.placeErr)
	}
	v1Part := *r
	v1Part.HugepageLimits = nil
	if err := h.Manager.Create(&v1Part); err != nil {
		return err
	}
	if h.newUnified == nil {
		h.newUnified = v2.New
	}
	h.unified = h.newUnified(h.unifiedDir)
	if err := h.unified.Create(hugetlbOnly(r)); err != nil {
		return errors.Join(fmt.Errorf("cgroup v2 tree of a hybrid host (hugepage limits): %w", err), h.Destroy())
	}
	return nil
}

// Apply moves pid into the v1 cgroups and into the one in the v2 tree.
func (h *hybrid) Apply(pid int) error {
	if err := h.Manager.Apply(pid); err != nil {
		return err
	}
	if h.unified != nil {
		return h.unified.Apply(pid)
	}
	return nil
}

// Destroy removes the v1 cgroups and the one in the v2 tree.
func (h *hybrid) Destroy() error {
	err := h.Manager.Destroy()
	if h.unified != nil {
		err = errors.Join(err, h.unified.Destroy())
	}
	return err
}

// Path is the v1 driver's, but "hugetlb" is the directory in the v2 tree
// once it is made.
func (h *hybrid) Path(controller string) string {
	if controller == "hugetlb" && h.unified != nil {
		return h.unifiedDir
	}
	return h.Manager.Path(controller)
}

// Update is the v1 driver's; hugepage limits on the v2 tree cannot be
// updated.
func (h *hybrid) Update(r *specs.LinuxResources) error {
	if h.hugetlbOnV2 && r != nil && len(r.HugepageLimits) > 0 {
		return errors.New("cgroup: hugepage limits cannot be updated")
	}
	return h.Manager.Update(r)
}

// savedUnified is what Save keeps of the cgroup in the v2 tree: its
// directory and the directories Create made for it.
func (h *hybrid) savedUnified() (string, []string) {
	if h.unified == nil {
		return "", nil
	}
	return h.unifiedDir, h.unified.Made()
}
