package v1

import (
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

const (
	cfsPeriod = "cpu.cfs_period_us"
	cfsQuota  = "cpu.cfs_quota_us"
	cpuShares = "cpu.shares"
)

func wantsCPU(r *specs.LinuxResources) bool {
	if r == nil || r.CPU == nil {
		return false
	}
	return cgfs.Positive(r.CPU.Quota) || (r.CPU.Period != nil && *r.CPU.Period > 0) ||
		(r.CPU.Shares != nil && *r.CPU.Shares > 0)
}

// setCPU writes cpu.shares from CPU.Shares (when set and non-zero), then
// cpu.cfs_period_us from CPU.Period (when set and non-zero)
// and then cpu.cfs_quota_us from CPU.Quota (nil or zero or less: -1, no
// quota). Nothing is written when neither is set.
func setCPU(dir string, r *specs.LinuxResources) error {
	if r == nil || r.CPU == nil {
		return nil
	}
	// cpu.shares: the relative weight (engines send 1024, the default).
	if sh := r.CPU.Shares; sh != nil && *sh > 0 {
		if err := cgfs.WriteFile(dir, cpuShares, strconv.FormatUint(*sh, 10)); err != nil {
			return err
		}
	}
	if r.CPU.Quota == nil && r.CPU.Period == nil {
		return nil
	}
	if p := r.CPU.Period; p != nil && *p > 0 {
		if err := cgfs.WriteFile(dir, cfsPeriod, strconv.FormatUint(*p, 10)); err != nil {
			return err
		}
	}
	quota := "-1"
	if cgfs.Positive(r.CPU.Quota) {
		quota = strconv.FormatInt(*r.CPU.Quota, 10)
	}
	return cgfs.WriteFile(dir, cfsQuota, quota)
}
