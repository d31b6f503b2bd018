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

// planCPU plans cpu.shares from CPU.Shares, the relative weight (engines
// send 1024, the default), then cpu.cfs_period_us from CPU.Period and
// cpu.cfs_quota_us from CPU.Quota (less than zero: -1, no quota); nil or
// zero leaves each as it is. As runc does, if the kernel refuses the new
// period (EINVAL: the quota in force over it exceeds a parent's limit)
// while a quota is written too, the period is written again after the
// quota (cgfs.Write.Again).
func planCPU(_ string, r *specs.LinuxResources) ([]cgfs.Write, error) {
	if r == nil || r.CPU == nil {
		return nil, nil
	}
	var writes []cgfs.Write
	if sh := r.CPU.Shares; sh != nil && *sh > 0 {
		writes = append(writes, cgfs.Write{Name: cpuShares, Value: strconv.FormatUint(*sh, 10)})
	}
	quota := cgfs.Given(r.CPU.Quota)
	if p := r.CPU.Period; p != nil && *p > 0 {
		writes = append(writes, cgfs.Write{Name: cfsPeriod, Value: strconv.FormatUint(*p, 10), Again: quota != nil})
	}
	if quota != nil {
		writes = append(writes, cgfs.Write{Name: cfsQuota, Value: bytesValue(*quota)})
	}
	return writes, nil
}
