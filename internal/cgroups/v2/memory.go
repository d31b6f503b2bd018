package v2

import (
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

// Memory control files. memory.swap.max exists only with swap accounting.
const (
	memoryMax = "memory.max"
	swapMax   = "memory.swap.max"
	memoryLow = "memory.low"
)

func wantsMemory(r *specs.LinuxResources) bool {
	return r != nil && r.Memory != nil &&
		(cgfs.Positive(r.Memory.Limit) || cgfs.Positive(r.Memory.Swap) || cgfs.Positive(r.Memory.Reservation))
}

// planMemory plans memory.max and memory.swap.max (planLimits), then
// memory.low from Reservation, as runc maps it: the soft limit of v1 is
// v2's best-effort protection (nil or 0: leave it; less than zero: "max").
// v2 has no swappiness and no switch for the OOM killer: as runc does,
// Swappiness and DisableOOMKiller are ignored here, and so are Kernel and
// KernelTCP (package cgroups' Ignored names them).
func planMemory(dir string, r *specs.LinuxResources) ([]cgfs.Write, error) {
	if r == nil || r.Memory == nil {
		return nil, nil
	}
	writes, err := planLimits(dir, r.Memory)
	if err != nil {
		return nil, err
	}
	if n := r.Memory.Reservation; n != nil && *n != 0 {
		writes = append(writes, cgfs.Write{Name: memoryLow, Value: cgfs.MaxValue(*n),
			Field: fmt.Sprintf("linux.resources.memory.reservation %d", *n)})
	}
	return writes, nil
}

// planLimits plans memory.max from Limit (nil or 0: leave it; less than
// zero: "max") and memory.swap.max from Swap. The spec's Swap, like v1's
// memsw, counts memory plus swap, and so does this driver, while
// memory.swap.max counts swap alone: it gets Swap minus the memory limit
// (the new one, else the one in force), which must be set and not above
// Swap. A new memory limit alone keeps memory plus swap as it was, as on
// v1 (swap.max gets the old total minus the new limit; a limit above that
// total is refused). As runc does, removing the memory limit without a
// word on swap removes the swap limit too. Without swap accounting Swap is
// checked but not written.
func planLimits(dir string, m *specs.LinuxMemory) ([]cgfs.Write, error) {
	limit, swap := cgfs.Given(m.Limit), cgfs.Given(m.Swap)
	if limit != nil && *limit < 0 && swap == nil {
		minusOne := int64(-1)
		swap = &minusOne
	}
	if limit == nil && swap == nil {
		return nil, nil
	}
	var writes []cgfs.Write
	if limit != nil {
		writes = append(writes, cgfs.Write{Name: memoryMax, Value: cgfs.MaxValue(*limit)})
	}
	hasSwap := cgfs.Exists(dir, swapMax)
	if swap != nil && *swap < 0 {
		if hasSwap {
			writes = append(writes, cgfs.Write{Name: swapMax, Value: "max"})
		}
		return writes, nil
	}
	if swap == nil && !hasSwap {
		return writes, nil
	}
	curLimit := int64(-1)
	if limit == nil || swap == nil {
		var err error
		if curLimit, err = readMax(dir, memoryMax); err != nil {
			return nil, err
		}
	}
	newLimit := curLimit
	if limit != nil {
		newLimit = *limit
	}
	total := swap
	if total == nil {
		curSwap, err := readMax(dir, swapMax)
		if err != nil {
			return nil, err
		}
		if curSwap < 0 || curLimit < 0 {
			return writes, nil // memory plus swap has no limit to keep
		}
		t := curLimit + curSwap
		total = &t
	}
	value, err := swapValue(newLimit, *total)
	if err != nil {
		return nil, fmt.Errorf("cgroup v2 memory in %s: %w", dir, err)
	}
	if hasSwap {
		writes = append(writes, cgfs.Write{Name: swapMax, Value: value})
	}
	return writes, nil
}

// swapValue converts the spec's memory+swap limit total, above zero, to
// memory.swap.max for the memory limit limit (less than zero: none).
func swapValue(limit, total int64) (string, error) {
	switch {
	case limit <= 0:
		return "", fmt.Errorf("swap limit %d needs a memory limit", total)
	case total < limit:
		return "", fmt.Errorf("memory+swap limit %d is below the memory limit %d", total, limit)
	}
	return strconv.FormatInt(total-limit, 10), nil
}

// readMax reads a v2 limit file: a number, or "max" (-1).
func readMax(dir, name string) (int64, error) {
	text, err := cgfs.ReadFile(dir, name)
	if err != nil {
		return 0, err
	}
	if text == "max" {
		return -1, nil
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s/%s: %w", dir, name, err)
	}
	return n, nil
}
