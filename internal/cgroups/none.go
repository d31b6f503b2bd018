package cgroups

import (
	"errors"
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

// None is the Manager of a container without a cgroup of its own: a
// rootless runtime's where the user has no delegated cgroup (v2) to make
// one in. It makes, moves and removes nothing, and refuses every limit
// (Limits): a container never runs without a limit that was asked for.
// Its processes stay in the caller's cgroup; its pid namespace's end
// (the init's death) is what kills what is left of it.
type None struct {
	// HostMode is the host's layout (what the init mounts at
	// /sys/fs/cgroup follows it).
	HostMode Mode
}

var _ Manager = (*None)(nil)

// ErrNoCgroup is None's answer to what needs a cgroup.
var ErrNoCgroup = errors.New("the container has no cgroup of its own (rootless, without a delegated cgroup v2)")

// Limits names the limits r asks for, each by its OCI field: those that
// need a cgroup. Device rules are not among them: a container without a
// cgroup reaches only the devices it is given.
func Limits(r *specs.LinuxResources) []string {
	if r == nil {
		return nil
	}
	var l []string
	if m := r.Memory; m != nil && (cgfs.Positive(m.Limit) || cgfs.Positive(m.Swap) || cgfs.Positive(m.Reservation)) {
		l = append(l, "memory")
	}
	if cgfs.WantsPids(r) {
		l = append(l, "pids")
	}
	if cgfs.WantsCPU(r) {
		l = append(l, "cpu")
	}
	if cgfs.WantsCpuset(r) {
		l = append(l, "cpuset")
	}
	if cgfs.WantsBlockIO(r) {
		l = append(l, "blockIO")
	}
	if cgfs.WantsHugetlb(r) {
		l = append(l, "hugepageLimits")
	}
	if len(r.Unified) > 0 {
		l = append(l, "unified")
	}
	return l
}

// Mode is the host's.
func (n *None) Mode() Mode { return n.HostMode }

// Create refuses any limit.
func (n *None) Create(r *specs.LinuxResources) error {
	if l := Limits(r); len(l) > 0 {
		return fmt.Errorf("linux.resources (%s): %w: the limits can't be applied", strings.Join(l, ", "), ErrNoCgroup)
	}
	return nil
}

// Apply leaves pid where it is.
func (n *None) Apply(int) error { return nil }

// OOMKillCount is 0: there is no cgroup to count in.
func (n *None) OOMKillCount() (uint64, error) { return 0, nil }

// Destroy has nothing to remove.
func (n *None) Destroy() error { return nil }

// Path is "" for every controller.
func (n *None) Path(string) string { return "" }

// Pids can't list the container's processes.
func (n *None) Pids() ([]int, error) { return nil, ErrNoCgroup }

// Freeze can't: no freezer.
func (n *None) Freeze() error { return fmt.Errorf("freeze: %w", ErrNoCgroup) }

// Thaw can't: no freezer.
func (n *None) Thaw() error { return fmt.Errorf("thaw: %w", ErrNoCgroup) }

// Update refuses any limit.
func (n *None) Update(r *specs.LinuxResources) error { return n.Create(r) }
