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

// planMemory plans the memory limits (planLimits), then the settings beside
// them (planTuning).
func planMemory(dir string, r *specs.LinuxResources) ([]cgfs.Write, error) {
	if r == nil || r.Memory == nil {
		return nil, nil
	}
	writes, err := planLimits(dir, r.Memory)
	if err != nil {
		return nil, err
	}
	return append(writes, planTuning(r.Memory)...), nil
}

// planLimits plans the writes of memory.limit_in_bytes (Limit) and
// memory.memsw.limit_in_bytes (Swap, memory plus swap; ignored without
// swap accounting): nil or 0 leaves a limit as it is, less than zero is
// -1, unlimited. As runc does, removing the memory limit without a word on
// swap removes the memory+swap limit too. The kernel refuses memsw < limit
// at every moment: memsw goes first when its new value is at least the
// limit in force (raising), else last (lowering); a pair that would end
// with memsw below the limit is refused.
func planLimits(dir string, m *specs.LinuxMemory) ([]cgfs.Write, error) {
	limit, swap := cgfs.Given(m.Limit), cgfs.Given(m.Swap)
	memsw := cgfs.Exists(dir, memswLimit)
	if !memsw {
		swap = nil
	}
	if limit != nil && *limit < 0 && swap == nil && memsw {
		minusOne := int64(-1)
		swap = &minusOne
	}
	if limit == nil && swap == nil {
		return nil, nil
	}
	curLimit, err := readBytes(dir, memoryLimit)
	if err != nil {
		return nil, err
	}
	newLimit := curLimit
	if limit != nil {
		newLimit = limitValue(*limit)
	}
	var writeLimit, writeSwap []cgfs.Write
	if limit != nil {
		writeLimit = []cgfs.Write{{Name: memoryLimit, Value: bytesValue(*limit)}}
	}
	if !memsw {
		return writeLimit, nil
	}
	curSwap, err := readBytes(dir, memswLimit)
	if err != nil {
		return nil, err
	}
	newSwap := curSwap
	if swap != nil {
		newSwap = limitValue(*swap)
		writeSwap = []cgfs.Write{{Name: memswLimit, Value: bytesValue(*swap)}}
	}
	if newSwap < newLimit {
		return nil, fmt.Errorf("cgroup v1 memory in %s: the memory+swap limit %s would be below the memory limit %s; set both",
			dir, formatBytes(newSwap), formatBytes(newLimit))
	}
	if swap != nil && newSwap >= curLimit {
		return append(writeSwap, writeLimit...), nil
	}
	return append(writeLimit, writeSwap...), nil
}

// planTuning plans the memory settings beside the limits, as runc writes
// them: memory.soft_limit_in_bytes from Reservation (nil or 0: leave it;
// less than zero: -1, none), memory.swappiness from Swappiness (0 to 100;
// nil or -1: leave it), and 1 to memory.oom_control from DisableOOMKiller
// (the kernel then pauses the cgroup's processes at the limit instead of
// killing one). Kernel and KernelTCP are ignored, as by runc (package
// cgroups' Ignored).
func planTuning(m *specs.LinuxMemory) []cgfs.Write {
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

// bytesValue is n as v1 limit files take it, -1 meaning unlimited.
func bytesValue(n int64) string {
	if n <= 0 {
		return "-1"
	}
	return strconv.FormatInt(n, 10)
}

// unlimited stands for "no limit" when limits are compared.
const unlimited = math.MaxUint64

// limitValue is a limit of the spec (negative: none) for comparisons.
func limitValue(n int64) uint64 {
	if n < 0 {
		return unlimited
	}
	return uint64(n)
}

// readBytes reads a v1 memory limit file; the kernel shows "no limit" as
// PAGE_COUNTER_MAX pages, a number above 2^62.
func readBytes(dir, name string) (uint64, error) {
	text, err := cgfs.ReadFile(dir, name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s/%s: %w", dir, name, err)
	}
	if n >= 1<<62 {
		return unlimited, nil
	}
	return n, nil
}

func formatBytes(n uint64) string {
	if n == unlimited {
		return "unlimited"
	}
	return strconv.FormatUint(n, 10)
}
