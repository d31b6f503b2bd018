package v2

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

const (
	cpuMax = "cpu.max"
	// defaultPeriod is the kernel's default CFS period, in microseconds.
	defaultPeriod = 100000
)

func wantsCPU(r *specs.LinuxResources) bool {
	if r == nil || r.CPU == nil {
		return false
	}
	return positive(r.CPU.Quota) || (r.CPU.Period != nil && *r.CPU.Period > 0)
}

// setCPU writes cpu.max as "QUOTA PERIOD" from CPU.Quota (nil or zero or
// less: "max", no quota) and CPU.Period (nil or zero: 100000). Nothing is
// written when neither is set.
func setCPU(dir string, r *specs.LinuxResources) error {
	if r == nil || r.CPU == nil || (r.CPU.Quota == nil && r.CPU.Period == nil) {
		return nil
	}
	period := uint64(defaultPeriod)
	if p := r.CPU.Period; p != nil && *p > 0 {
		period = *p
	}
	quota := int64(0)
	if r.CPU.Quota != nil {
		quota = *r.CPU.Quota
	}
	return cgfs.WriteFile(dir, cpuMax, fmt.Sprintf("%s %d", maxValue(quota), period))
}
