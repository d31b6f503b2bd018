package v1

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
	"github.com/minimal-docker/minimal-docker/internal/cgroups/devices"
)

// step is one write of an update, planned before any is made.
type step func() error

func writeStep(dir, name, value string) step {
	return func() error { return cgfs.WriteFile(dir, name, value) }
}

// writeSteps are the steps of planned writes in dir.
func writeSteps(dir string, writes []cgfs.Write) []step {
	steps := make([]step, len(writes))
	for i, w := range writes {
		steps[i] = func() error { return w.Do(dir) }
	}
	return steps
}

// updaters plan, per controller, the writes of an update; in table order.
var updaters = []struct {
	name string
	plan func(dir string, r *specs.LinuxResources) ([]step, error)
}{
	{"memory", planMemory},
	{"pids", planPids},
	{"cpu", planCPU},
	{"cpuset", func(dir string, r *specs.LinuxResources) ([]step, error) {
		writes, err := planCpuset(dir, r)
		return writeSteps(dir, writes), err
	}},
}

// Update rewrites the limits that r sets in the container's cgroup, made by
// Create: memory (limit, and memory+swap where swap is accounted), pids,
// cpu (quota, period) and cpuset (CPUs, memory nodes, each checked against
// what the parent has). A nil field, or zero as in runc update, leaves a
// limit as it is; a negative one removes it. Every write is planned, and
// checked against the values in force, before the first is made; the
// memory and memory+swap limits are written in the order that keeps
// memory+swap >= memory at every step, raising or lowering. Device rules
// are refused (devices.ErrUpdate).
func (m *Manager) Update(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if len(r.Devices) > 0 {
		return fmt.Errorf("cgroup v1: %w", devices.ErrUpdate)
	}
	if err := m.checkHierarchies(r); err != nil {
		return err
	}
	var steps []step
	for _, u := range updaters {
		dir, ok := m.dirs[u.name]
		if !ok {
			continue
		}
		s, err := u.plan(dir, r)
		if err != nil {
			return err
		}
		steps = append(steps, s...)
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
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

// planMemory plans the writes of memory.limit_in_bytes (Memory.Limit) and
// memory.memsw.limit_in_bytes (Memory.Swap, memory plus swap; ignored
// without swap accounting, as at Create). As runc does, removing the memory
// limit without a word on swap removes the memory+swap limit too. The
// kernel refuses memsw < limit at every moment: memsw goes first when its
// new value is at least the limit in force (raising), else last (lowering).
func planMemory(dir string, r *specs.LinuxResources) ([]step, error) {
	if r.Memory == nil {
		return nil, nil
	}
	limit, swap := given(r.Memory.Limit), given(r.Memory.Swap)
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
	var writeLimit, writeSwap []step
	if limit != nil {
		writeLimit = []step{writeStep(dir, memoryLimit, bytesValue(*limit))}
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
		writeSwap = []step{writeStep(dir, memswLimit, bytesValue(*swap))}
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

// planPids plans the write of pids.max ("max" for a negative limit).
func planPids(dir string, r *specs.LinuxResources) ([]step, error) {
	if r.Pids == nil || given(r.Pids.Limit) == nil {
		return nil, nil
	}
	return []step{func() error { return cgfs.SetPids(dir, r) }}, nil
}

// planCPU plans the writes of cpu.cfs_period_us and cpu.cfs_quota_us (-1
// for a negative quota). The period goes first; as runc does, if the kernel
// refuses it (EINVAL: the old quota over the new period exceeds a parent's
// limit) and a quota is set too, it is written again after the quota.
func planCPU(dir string, r *specs.LinuxResources) ([]step, error) {
	if r.CPU == nil {
		return nil, nil
	}
	var period string
	if p := r.CPU.Period; p != nil && *p > 0 {
		period = strconv.FormatUint(*p, 10)
	}
	var quota string
	if q := given(r.CPU.Quota); q != nil {
		quota = bytesValue(*q)
	}
	switch {
	case period == "" && quota == "":
		return nil, nil
	case quota == "":
		return []step{writeStep(dir, cfsPeriod, period)}, nil
	case period == "":
		return []step{writeStep(dir, cfsQuota, quota)}, nil
	}
	return []step{func() error {
		err := cgfs.WriteFile(dir, cfsPeriod, period)
		if err != nil && !errors.Is(err, unix.EINVAL) {
			return err
		}
		if qerr := cgfs.WriteFile(dir, cfsQuota, quota); qerr != nil {
			return qerr
		}
		if err != nil {
			return cgfs.WriteFile(dir, cfsPeriod, period)
		}
		return nil
	}}, nil
}
