package v1

import (
	"strconv"

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
	value := "max"
	if n := *r.Pids.Limit; n > 0 {
		value = strconv.FormatInt(n, 10)
	}
	return cgfs.WriteFile(dir, pidsMax, value)
}
