package v1

import (
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

// Memory control files. memsw exists only with swap accounting.
const (
	memoryLimit = "memory.limit_in_bytes"
	memswLimit  = "memory.memsw.limit_in_bytes"
)

func wantsMemory(r *specs.LinuxResources) bool {
	return r != nil && r.Memory != nil && (cgfs.Positive(r.Memory.Limit) || cgfs.Positive(r.Memory.Swap))
}

// setMemory writes memory.limit_in_bytes from Memory.Limit (nil: leave it;
// zero or less: -1, unlimited) and then memory.memsw.limit_in_bytes from
// Memory.Swap, which like memsw counts memory plus swap (nil or 0: leave
// it; less than zero: unlimited). The limit goes first because the kernel
// keeps memsw >= limit, and a new cgroup starts with both unlimited.
func setMemory(dir string, r *specs.LinuxResources) error {
	if r == nil || r.Memory == nil {
		return nil
	}
	if l := r.Memory.Limit; l != nil {
		if err := cgfs.WriteFile(dir, memoryLimit, bytesValue(*l)); err != nil {
			return err
		}
	}
	if s := r.Memory.Swap; s != nil && *s != 0 && cgfs.Exists(dir, memswLimit) {
		if err := cgfs.WriteFile(dir, memswLimit, bytesValue(*s)); err != nil {
			return err
		}
	}
	return nil
}

// bytesValue is n as v1 memory files take it, -1 meaning unlimited.
func bytesValue(n int64) string {
	if n <= 0 {
		return "-1"
	}
	return strconv.FormatInt(n, 10)
}
