package cgfs

import (
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The pids controller is the same in v1 and v2 (one file, pids.max): both
// drivers use these.

// PidsMax is the pids controller's limit file.
const PidsMax = "pids.max"

// WantsPids reports whether r sets a pids limit.
func WantsPids(r *specs.LinuxResources) bool {
	return r != nil && r.Pids != nil && Positive(r.Pids.Limit)
}

// PlanPids plans the write of pids.max from Pids.Limit: nil or zero leaves
// it, less than zero is "max" (unlimited).
func PlanPids(_ string, r *specs.LinuxResources) ([]Write, error) {
	if r == nil || r.Pids == nil || Given(r.Pids.Limit) == nil {
		return nil, nil
	}
	return []Write{{Name: PidsMax, Value: MaxValue(*r.Pids.Limit)}}, nil
}

// MaxValue is n as pids.max and the v2 limit files take it, "max" meaning
// unlimited (zero or less).
func MaxValue(n int64) string {
	if n <= 0 {
		return "max"
	}
	return strconv.FormatInt(n, 10)
}
