package v2

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
	"github.com/minimal-docker/minimal-docker/internal/cgroups/devices"
)

// write is one write of an update, planned before any is made.
type write = cgfs.Write

// updaters plan, per controller, the writes of an update; in table order.
var updaters = []func(dir string, r *specs.LinuxResources) ([]write, error){
	planMemory, planPids, planCPU, planCpuset,
}

// Update rewrites the limits that r sets in the container's cgroup, made by
// Create: memory (memory.max, and memory.swap.max where swap is accounted),
// pids, cpu (quota, period) and cpuset (CPUs, memory nodes, each checked
// against what the parent has). A nil field, or zero as in runc update,
// leaves a limit as it is; a negative one removes it. Every write is
// planned, and checked against the values in force, before the first is
// made. Device rules are refused (devices.ErrUpdate).
func (m *Manager) Update(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if len(r.Devices) > 0 {
		return fmt.Errorf("cgroup v2: %w", devices.ErrUpdate)
	}
	if err := checkEnabled(m.dir, r); err != nil {
		return err
	}
	var writes []write
	for _, plan := range updaters {
		w, err := plan(m.dir, r)
		if err != nil {
			return err
		}
		writes = append(writes, w...)
	}
	return cgfs.WriteAll(m.dir, writes)
}

// checkEnabled fails when r asks for a limit of a controller that the
// container's cgroup does not have (its cgroup.controllers).
func checkEnabled(dir string, r *specs.LinuxResources) error {
	text, err := cgfs.ReadFile(dir, "cgroup.controllers")
	if err != nil {
		return err
	}
	for _, c := range controllers {
		if c.wants(r) && !slices.Contains(strings.Fields(text), c.name) {
			return fmt.Errorf("cgroup v2: a %s limit is set but the %s controller is not enabled in %s (cgroup.controllers: %q)",
				c.name, c.name, dir, text)
		}
	}
	return nil
}

// given is n unless it leaves the limit as it is (nil or zero).
func given(n *int64) *int64 {
	if n == nil || *n == 0 {
		return nil
	}
	return n
}

// planMemory plans memory.max from Memory.Limit and memory.swap.max from
// Memory.Swap. The spec's Swap, like v1's memsw, counts memory plus swap,
// and so does this driver, on both sides: swap.max gets Swap minus the
// memory limit (the new one, else the one in force), and a new memory limit
// alone keeps memory plus swap as it was, as on v1 (swap.max gets the old
// total minus the new limit; a limit above that total is refused). As runc
// does, removing the memory limit without a word on swap removes the swap
// limit too. Swap is ignored without swap accounting, as at Create.
func planMemory(dir string, r *specs.LinuxResources) ([]write, error) {
	if r.Memory == nil {
		return nil, nil
	}
	limit, swap := given(r.Memory.Limit), given(r.Memory.Swap)
	if limit != nil && *limit < 0 && swap == nil {
		minusOne := int64(-1)
		swap = &minusOne
	}
	hasSwap := cgfs.Exists(dir, swapMax)
	if !hasSwap {
		swap = nil
	}
	if limit == nil && swap == nil {
		return nil, nil
	}
	var writes []write
	if limit != nil {
		writes = append(writes, write{Name: memoryMax, Value: cgfs.MaxValue(*limit)})
	}
	if !hasSwap {
		return writes, nil
	}
	if swap != nil && *swap < 0 {
		return append(writes, write{Name: swapMax, Value: "max"}), nil
	}
	curLimit, err := readMax(dir, memoryMax)
	if err != nil {
		return nil, err
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
	value, _, err := swapValue(&specs.LinuxMemory{Limit: &newLimit, Swap: total})
	if err != nil {
		return nil, fmt.Errorf("cgroup v2 memory in %s: %w", dir, err)
	}
	return append(writes, write{Name: swapMax, Value: value}), nil
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

// planPids plans pids.max ("max" for a negative limit).
func planPids(_ string, r *specs.LinuxResources) ([]write, error) {
	if r.Pids == nil || given(r.Pids.Limit) == nil {
		return nil, nil
	}
	return []write{{Name: pidsMax, Value: cgfs.MaxValue(*r.Pids.Limit)}}, nil
}

// planCPU plans cpu.max, "QUOTA PERIOD": what r does not set is kept from
// the value in force.
func planCPU(dir string, r *specs.LinuxResources) ([]write, error) {
	if r.CPU == nil {
		return nil, nil
	}
	quota, period := given(r.CPU.Quota), r.CPU.Period
	if period != nil && *period == 0 {
		period = nil
	}
	if quota == nil && period == nil {
		return nil, nil
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
	return []write{{Name: cpuMax, Value: f[0] + " " + f[1]}}, nil
}
