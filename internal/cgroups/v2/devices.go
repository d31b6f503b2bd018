package v2

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
	"github.com/minimal-docker/minimal-docker/internal/cgroups/devices"
)

// setDevices enforces the rules of linux.resources.devices (their meaning
// is in package devices) in the container's cgroup: they are compiled into
// a device program (devicefilter.go) that m.attach attaches to m.dir.
// Rules that deny nothing (none, or an allow-all) need no program. It is no
// controller of the table: cgroup v2 has none for devices, and nothing is
// enabled in cgroup.subtree_control for it.
func (m *Manager) setDevices(r *specs.LinuxResources) error {
	if r == nil || len(r.Devices) == 0 {
		return nil
	}
	rules, err := devices.Parse(r.Devices)
	if err != nil || !devices.Restricts(rules) {
		return err
	}
	insns, err := deviceFilter(rules)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("BPF_CGROUP_DEVICE program of %d instructions (%d device rules)", len(insns), len(rules))
	err = cgfs.Traced("bpf", m.dir, what, func() error { return m.attach(m.dir, insns) })
	if unprivilegedBPF(err) && m.inUserNS() {
		// A rootless runtime in its delegated cgroup: the kernel loads
		// device programs for CAP_SYS_ADMIN of the host's user namespace
		// alone. runc ignores the failure there too: in a user namespace
		// no device node can be made (mknod is refused), so the container
		// reaches only the host's nodes bound into it, which their owners
		// and modes guard on the host as for the user itself.
		return nil
	}
	return err
}

// unprivilegedBPF says whether err is the kernel's refusal of bpf(2) to a
// caller without the privilege (EPERM, or EACCES where a security module
// refuses it).
func unprivilegedBPF(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)
}
