package v2

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

const (
	cpuMax    = "cpu.max"
	cpuWeight = "cpu.weight"
)

// sharesToWeight maps v1 cpu.shares (2..262144, default 1024) onto v2
// cpu.weight (1..10000, default 100) as runc and crun do.
func sharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	shares = min(max(shares, 2), 262144)
	return 1 + ((shares-2)*9999)/262142
}

// planCPU plans cpu.weight from CPU.Shares (when set and non-zero,
// converted), then cpu.max, "QUOTA PERIOD", from CPU.Quota (less than
// zero: "max", no quota) and CPU.Period: what r does not set (nil or zero)
// is kept from the value in force, in a new cgroup "max 100000".
func planCPU(dir string, r *specs.LinuxResources) ([]cgfs.Write, error) {
	if r == nil || r.CPU == nil {
		return nil, nil
	}
	var writes []cgfs.Write
	if sh := r.CPU.Shares; sh != nil && *sh > 0 {
		writes = append(writes, cgfs.Write{Name: cpuWeight, Value: fmt.Sprint(sharesToWeight(*sh))})
	}
	quota, period := cgfs.Given(r.CPU.Quota), r.CPU.Period
	if period != nil && *period == 0 {
		period = nil
	}
	if quota == nil && period == nil {
		return writes, nil
	}
	text, err := cgfs.ReadFile(dir, cpuMax)
	if err != nil {
		return nil, err
	}
	f := strings.Fields(text)
	if len(f) != 2 {
		return nil, fmt.Errorf("parse %s/%s: want \"QUOTA PERIOD\", got %q", dir, cpuMax, text)
	}
	if quota != nil {
		f[0] = cgfs.MaxValue(*quota)
	}
	if period != nil {
		f[1] = strconv.FormatUint(*period, 10)
	}
	return append(writes, cgfs.Write{Name: cpuMax, Value: f[0] + " " + f[1]}), nil
}
