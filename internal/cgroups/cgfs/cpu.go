package cgfs

import specs "github.com/opencontainers/runtime-spec/specs-go"

// WantsCPU reports whether r sets a CPU quota, period or shares: the cpu
// controller's limits (v1: cpu.cfs_quota_us, cpu.cfs_period_us,
// cpu.shares; v2: cpu.max, cpu.weight).
func WantsCPU(r *specs.LinuxResources) bool {
	if r == nil || r.CPU == nil {
		return false
	}
	return Positive(r.CPU.Quota) || (r.CPU.Period != nil && *r.CPU.Period > 0) ||
		(r.CPU.Shares != nil && *r.CPU.Shares > 0)
}
