package v1

import (
	"fmt"
	"math"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

// Memory control files. memsw exists only with swap accounting.
const (
	memoryLimit = "memory.limit_in_bytes"
	memswLimit  = "memory.memsw.limit_in_bytes"
	softLimit   = "memory.soft_limit_in_bytes"
	swappiness  = "memory.swappiness"
	oomControl  = "memory.oom_control"
)

func wantsMemory(r *specs.LinuxResources) bool {
	if r == nil || r.Memory == nil {
		return false
	}
	m := r.Memory
	return cgfs.Positive(m.Limit) || cgfs.Positive(m.Swap) || cgfs.Positive(m.Reservation) ||
		swappinessSet(m) || (m.DisableOOMKiller != nil && *m.DisableOOMKiller)
}

// swappinessSet reports whether m sets a swappiness: -1, as a uint64, is
// "unset" to runc.
func swappinessSet(m *specs.LinuxMemory) bool {
	return m.Swappiness != nil && *m.Swappiness != math.MaxUint64
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
	return cgfs.WriteAll(dir, planMemoryTuning(r.Memory))
}

// planMemoryTuning plans the memory settings beside the limits, as runc
// writes them: memory.soft_limit_in_bytes from Reservation (nil or 0:
// leave it; less than zero: -1, none), memory.swappiness from Swappiness
// (0 to 100; nil or -1: leave it), and 1 to memory.oom_control from
// DisableOOMKiller (the kernel then pauses the cgroup's processes at the
// limit instead of killing one). Kernel and KernelTCP are ignored, as by
// runc (package cgroups' Ignored).
func planMemoryTuning(m *specs.LinuxMemory) []cgfs.Write {
	var writes []cgfs.Write
	if n := m.Reservation; n != nil && *n != 0 {
		writes = append(writes, cgfs.Write{Name: softLimit, Value: bytesValue(*n),
			Field: fmt.Sprintf("linux.resources.memory.reservation %d", *n)})
	}
	if swappinessSet(m) {
		writes = append(writes, cgfs.Write{Name: swappiness, Value: strconv.FormatUint(*m.Swappiness, 10),
			Field: fmt.Sprintf("linux.resources.memory.swappiness %d", *m.Swappiness)})
	}
	if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
		writes = append(writes, cgfs.Write{Name: oomControl, Value: "1",
			Field: "linux.resources.memory.disableOOMKiller"})
	}
	return writes
}

// bytesValue is n as v1 memory files take it, -1 meaning unlimited.
func bytesValue(n int64) string {
	if n <= 0 {
		return "-1"
	}
	return strconv.FormatInt(n, 10)
}
