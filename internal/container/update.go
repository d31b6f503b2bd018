package container

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/spec"
)

// resourcesName is the file in the container's directory of the Store that
// keeps its limits as updated: the config's linux.resources with every
// Update merged in.
const resourcesName = "resources.json"

// Update changes the resource limits of a created, running or paused
// container in its cgroup, and merges them into its saved limits. As in
// runc update, a field that is nil or zero (or empty) leaves a limit as it
// is, and -1 removes it (other negative values are refused). Only memory
// (limit, swap), pids, cpu (quota, period) and cpuset (cpus, mems) can be
// changed; any other limit set is refused before anything is written, but
// for the kernel memory limits, which are ignored with a warning to log
// (as by runc).
func Update(store *Store, id string, r *specs.LinuxResources, log io.Writer) error {
	if err := CheckUpdatable(r); err != nil {
		return fmt.Errorf("update %s: %w", id, err)
	}
	if err := spec.CheckResourceUpdate(r); err != nil {
		return fmt.Errorf("update %s: %w", id, err)
	}
	h, st, err := load(store, id)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := allow(OpUpdate, id, st.Status); err != nil {
		return err
	}
	saved, err := savedResources(h, st)
	if err != nil {
		return fmt.Errorf("update %s: %w", id, err)
	}
	mgr, err := cgroups.Restore(savedOf(st))
	if err != nil {
		return err
	}
	warn(log, cgroups.Ignored(mgr.Mode(), r))
	if err := mgr.Update(r); err != nil {
		return fmt.Errorf("update %s: %w", id, err)
	}
	b, err := json.Marshal(MergeResources(saved, r))
	if err != nil {
		return fmt.Errorf("update %s: %w", id, err)
	}
	if err := writeAtomic(filepath.Join(h.Dir(), resourcesName), b); err != nil {
		return fmt.Errorf("update %s: the limits are in force but not saved: %w", id, err)
	}
	return nil
}

// savedResources returns the container's limits: as last updated, else as
// in the copy of its config taken at create (when the state has one), else
// none known.
func savedResources(h *Handle, st *State) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{}
	b, err := os.ReadFile(filepath.Join(h.Dir(), resourcesName))
	if err == nil {
		return r, json.Unmarshal(b, r)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if st.Config == "" {
		return r, nil
	}
	b, err = os.ReadFile(st.Config)
	if err != nil {
		return nil, err
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", st.Config, err)
	}
	if s.Linux != nil && s.Linux.Resources != nil {
		r = s.Linux.Resources
	}
	return r, nil
}

// MergeResources returns base with the limits that r changes (see Update)
// put in: the memory limit and swap, the pids limit, the cpu quota and
// period, the cpuset CPUs and memory nodes. Removing the memory limit without a word on swap removes the swap
// limit too, as the cgroup drivers do. base is not changed.
func MergeResources(base, r *specs.LinuxResources) *specs.LinuxResources {
	out := &specs.LinuxResources{}
	if base != nil {
		b, _ := json.Marshal(base)
		_ = json.Unmarshal(b, out)
	}
	if r == nil {
		return out
	}
	if m := r.Memory; m != nil {
		limit, swap := givenLimit(m.Limit), givenLimit(m.Swap)
		if limit != nil && *limit < 0 && swap == nil {
			minusOne := int64(-1)
			swap = &minusOne
		}
		if limit != nil || swap != nil {
			if out.Memory == nil {
				out.Memory = &specs.LinuxMemory{}
			}
			out.Memory.Limit = firstSet(limit, out.Memory.Limit)
			out.Memory.Swap = firstSet(swap, out.Memory.Swap)
		}
	}
	if p := r.Pids; p != nil && givenLimit(p.Limit) != nil {
		out.Pids = &specs.LinuxPids{Limit: newValue(*p.Limit)}
	}
	if c := r.CPU; c != nil {
		quota, period := givenLimit(c.Quota), c.Period
		if period != nil && *period == 0 {
			period = nil
		}
		if quota != nil || period != nil || c.Cpus != "" || c.Mems != "" {
			if out.CPU == nil {
				out.CPU = &specs.LinuxCPU{}
			}
			out.CPU.Quota = firstSet(quota, out.CPU.Quota)
			if period != nil {
				out.CPU.Period = newValue(*period)
			}
			out.CPU.Cpus = cmp.Or(c.Cpus, out.CPU.Cpus)
			out.CPU.Mems = cmp.Or(c.Mems, out.CPU.Mems)
		}
	}
	return out
}

// givenLimit is n unless it leaves a limit as it is (nil or zero).
func givenLimit(n *int64) *int64 {
	if n == nil || *n == 0 {
		return nil
	}
	return n
}

// firstSet returns a copy of the first of a and b that is not nil.
func firstSet(a, b *int64) *int64 {
	if a != nil {
		return newValue(*a)
	}
	return b
}

func newValue[T any](v T) *T { return &v }

// CheckUpdatable fails, naming the fields, when r sets a limit that Update
// cannot change: anything but memory limit and swap, pids limit, cpu quota
// and period, and cpuset CPUs and memory nodes; or a value that is bad
// (cgroups.Validate). Zero values are "leave it" (engines send them), not
// a request; the kernel memory limits are ignored (cgroups.Ignored).
func CheckUpdatable(r *specs.LinuxResources) error {
	bad := append(unsupportedResources(r), createOnly(r)...)
	if len(bad) > 0 {
		return fmt.Errorf("cannot update %s: only memory (limit, swap), pids (limit), cpu (quota, period) and cpuset (cpus, mems) can be updated",
			strings.Join(bad, ", "))
	}
	return cgroups.Validate(r)
}

// unsupportedResources names the fields of r that ask for a limit the
// cgroup drivers do not write. (The kernel memory limits are written by
// none either, but ignored with a warning, as runc does: cgroups.Ignored.)
func unsupportedResources(r *specs.LinuxResources) []string {
	if r == nil {
		return nil
	}
	var bad []string
	add := func(set bool, field string) {
		if set {
			bad = append(bad, field)
		}
	}
	if m := r.Memory; m != nil {
		add(m.UseHierarchy != nil && *m.UseHierarchy, "memory.useHierarchy")
		add(m.CheckBeforeUpdate != nil && *m.CheckBeforeUpdate, "memory.checkBeforeUpdate")
	}
	if c := r.CPU; c != nil {
		add(c.Burst != nil && *c.Burst != 0, "cpu.burst")
		add(nonZero(c.RealtimeRuntime), "cpu.realtimeRuntime")
		add(c.RealtimePeriod != nil && *c.RealtimePeriod != 0, "cpu.realtimePeriod")
		add(c.Idle != nil && *c.Idle != 0, "cpu.idle")
	}
	add(r.Network != nil && (r.Network.ClassID != nil && *r.Network.ClassID != 0 || len(r.Network.Priorities) > 0), "network")
	add(len(r.Rdma) > 0, "rdma")
	add(len(r.Unified) > 0, "unified")
	return bad
}

// createOnly names the fields of r that the cgroup drivers write at create
// but cannot change later.
func createOnly(r *specs.LinuxResources) []string {
	if r == nil {
		return nil
	}
	var bad []string
	add := func(set bool, field string) {
		if set {
			bad = append(bad, field)
		}
	}
	// Written at create only (cgroups devices.ErrUpdate).
	add(len(r.Devices) > 0, "devices")
	if m := r.Memory; m != nil {
		add(nonZero(m.Reservation), "memory.reservation")
		add(m.Swappiness != nil && *m.Swappiness != math.MaxUint64, "memory.swappiness")
		add(m.DisableOOMKiller != nil && *m.DisableOOMKiller, "memory.disableOOMKiller")
	}
	add(r.CPU != nil && r.CPU.Shares != nil && *r.CPU.Shares != 0, "cpu.shares")
	if b := r.BlockIO; b != nil {
		add(b.Weight != nil && *b.Weight != 0, "blockIO.weight")
		add(b.LeafWeight != nil && *b.LeafWeight != 0, "blockIO.leafWeight")
		add(len(b.WeightDevice) > 0, "blockIO.weightDevice")
		add(len(b.ThrottleReadBpsDevice)+len(b.ThrottleWriteBpsDevice)+
			len(b.ThrottleReadIOPSDevice)+len(b.ThrottleWriteIOPSDevice) > 0, "blockIO.throttle*")
	}
	add(len(r.HugepageLimits) > 0, "hugepageLimits")
	return bad
}

func nonZero(n *int64) bool { return n != nil && *n != 0 }

// warn writes each warning to log (when there is one), as the runtime's
// warnings read.
func warn(log io.Writer, warnings []string) {
	if log == nil {
		return
	}
	for _, w := range warnings {
		fmt.Fprintf(log, "minimal-docker: warning: %s\n", w)
	}
}
