package v2

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

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
	return cgfs.Traced("bpf", m.dir, what, func() error { return m.attach(m.dir, insns) })
}
