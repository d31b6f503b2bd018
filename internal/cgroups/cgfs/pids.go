package cgfs

import (
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The pids controller is the same in v1 and v2 (one file, pids.max), and
// so are the two helpers for limits below: both drivers use these.

// PidsMax is the pids controller's limit file.
const PidsMax = "pids.max"

// WantsPids reports whether r sets a pids limit.
func WantsPids(r *specs.LinuxResources) bool {
	return r != nil && r.Pids != nil && Positive(r.Pids.Limit)
}

// SetPids writes pids.max in dir from Pids.Limit: nil leaves it, zero or
// less is "max" (unlimited).
func SetPids(dir string, r *specs.LinuxResources) error {
	if r == nil || r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	return WriteFile(dir, PidsMax, MaxValue(*r.Pids.Limit))
}

// Positive reports whether the limit n is set and above zero.
func Positive(n *int64) bool {
	return n != nil && *n > 0
}

// MaxValue is n as pids.max and the v2 limit files take it, "max" meaning
// unlimited (zero or less).
func MaxValue(n int64) string {
	if n <= 0 {
		return "max"
	}
	return strconv.FormatInt(n, 10)
}
