package v2

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

const pidsMax = "pids.max"

func wantsPids(r *specs.LinuxResources) bool {
	return r != nil && r.Pids != nil && positive(r.Pids.Limit)
}

// setPids writes pids.max from Pids.Limit: nil leaves it, zero or less is
// "max" (unlimited).
func setPids(dir string, r *specs.LinuxResources) error {
	if r == nil || r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	return cgfs.WriteFile(dir, pidsMax, maxValue(*r.Pids.Limit))
}
