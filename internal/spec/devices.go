package spec

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/rootfs"
)

// DefaultDevices are the device cgroup rules of Default (and of
// `minimal-runc spec`): deny every device, then allow the standard nodes
// and the ptys, from rootfs's tables of the nodes every /dev holds.
// WithPrivileged replaces them with an allow-all.
func DefaultDevices() []specs.LinuxDeviceCgroup {
	return rootfs.DeviceRules()
}
