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

// setMemory writes memory.max from Memory.Limit (nil: leave it; zero or
// less: "max") and memory.swap.max from Memory.Swap. The spec's Swap, like
// v1's memsw, counts memory plus swap, while memory.swap.max counts swap
// alone: so it gets Swap-Limit (nil or 0: leave it; less than zero: "max").
// Reservation goes to memory.low, as runc maps it (nil or 0: leave it;
// less than zero: "max"). v2 has no swappiness and no switch for the OOM
// killer: as runc does, Swappiness and DisableOOMKiller are ignored here,
// and so are Kernel and KernelTCP (package cgroups' Ignored names them).
func setMemory(dir string, r *specs.LinuxResources) error {
	if r == nil || r.Memory == nil {
		return nil
	}
	swap, setSwap, err := swapValue(r.Memory)
	if err != nil {
		return fmt.Errorf("cgroup v2 memory in %s: %w", dir, err)
	}
	if l := r.Memory.Limit; l != nil {
		if err := cgfs.WriteFile(dir, memoryMax, cgfs.MaxValue(*l)); err != nil {
			return err
		}
	}
	if setSwap && cgfs.Exists(dir, swapMax) {
		if err := cgfs.WriteFile(dir, swapMax, swap); err != nil {
			return err
		}
	}
	if n := r.Memory.Reservation; n != nil && *n != 0 {
		// As runc: the soft limit of v1 is v2's best-effort protection.
		return write{Name: memoryLow, Value: cgfs.MaxValue(*n),
			Field: fmt.Sprintf("linux.resources.memory.reservation %d", *n)}.Do(dir)
	}
	return nil
}

// swapValue converts the spec's memory+swap limit to memory.swap.max.
func swapValue(m *specs.LinuxMemory) (value string, set bool, err error) {
	switch {
	case m.Swap == nil || *m.Swap == 0:
		return "", false, nil
	case *m.Swap < 0:
		return "max", true, nil
	case !cgfs.Positive(m.Limit):
		return "", false, fmt.Errorf("swap limit %d needs a memory limit", *m.Swap)
	case *m.Swap < *m.Limit:
		return "", false, fmt.Errorf("memory+swap limit %d is below the memory limit %d", *m.Swap, *m.Limit)
	}
	return strconv.FormatInt(*m.Swap-*m.Limit, 10), true, nil
}
