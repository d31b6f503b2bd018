package cgfs

import specs "github.com/opencontainers/runtime-spec/specs-go"

// Throttle is one of linux.resources.blockIO's four throttles: its field
// name and its devices. Each driver names its own file or key for it, in
// Throttles' order (v1: a blkio.throttle file each, v2: a key of io.max).
type Throttle struct {
	Field   string
	Devices func(b *specs.LinuxBlockIO) []specs.LinuxThrottleDevice
}

// Throttles are the four throttles, in the order the drivers write them.
var Throttles = [4]Throttle{
	{"throttleReadBpsDevice", func(b *specs.LinuxBlockIO) []specs.LinuxThrottleDevice { return b.ThrottleReadBpsDevice }},
	{"throttleWriteBpsDevice", func(b *specs.LinuxBlockIO) []specs.LinuxThrottleDevice { return b.ThrottleWriteBpsDevice }},
	{"throttleReadIOPSDevice", func(b *specs.LinuxBlockIO) []specs.LinuxThrottleDevice { return b.ThrottleReadIOPSDevice }},
	{"throttleWriteIOPSDevice", func(b *specs.LinuxBlockIO) []specs.LinuxThrottleDevice { return b.ThrottleWriteIOPSDevice }},
}

// WantsBlockIO reports whether r sets any block I/O limit (a weight, a
// per-device weight or a throttle): only then does a container get a
// blkio (v1) or io (v2) cgroup.
func WantsBlockIO(r *specs.LinuxResources) bool {
	if r == nil || r.BlockIO == nil {
		return false
	}
	b := r.BlockIO
	if b.Weight != nil && *b.Weight != 0 || b.LeafWeight != nil && *b.LeafWeight != 0 || len(b.WeightDevice) > 0 {
		return true
	}
	for _, t := range Throttles {
		if len(t.Devices(b)) > 0 {
			return true
		}
	}
	return false
}
