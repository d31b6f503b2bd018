package v2

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

const (
	cpuMax    = "cpu.max"
	cpuWeight = "cpu.weight"
	// defaultPeriod is the kernel's default CFS period, in microseconds.
	defaultPeriod = 100000
)

func wantsCPU(r *specs.LinuxResources) bool {
	if r == nil || r.CPU == nil {
		return false
	}
	return cgfs.Positive(r.CPU.Quota) || (r.CPU.Period != nil && *r.CPU.Period > 0) ||
		(r.CPU.Shares != nil && *r.CPU.Shares > 0)
}

// sharesToWeight maps v1 cpu.shares (2..262144, default 1024) onto v2
// cpu.weight (1..10000, default 100) as runc and crun do.
func sharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	shares = min(max(shares, 2), 262144)
	return 1 + ((shares-2)*9999)/262142
}

// setCPU writes cpu.weight from CPU.Shares (when set and non-zero,
// converted), then cpu.max as "QUOTA PERIOD" from CPU.Quota (nil or zero or
// less: "max", no quota) and CPU.Period (nil or zero: 100000). Nothing is
// written when neither is set.
func setCPU(dir string, r *specs.LinuxResources) error {
	if r == nil || r.CPU == nil {
		return nil
	}
	if sh := r.CPU.Shares; sh != nil && *sh > 0 {
		if err := cgfs.WriteFile(dir, cpuWeight, fmt.Sprint(sharesToWeight(*sh))); err != nil {
			return err
		}
	}
	if r.CPU.Quota == nil && r.CPU.Period == nil {
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
	return cgfs.WriteFile(dir, cpuMax, fmt.Sprintf("%s %d", cgfs.MaxValue(quota), period))
}
