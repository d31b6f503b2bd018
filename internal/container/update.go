package container

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"

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
//
// A limit that cannot be changed but that r only repeats (equal to the
// container's) is no request, and passed over: containerd sends the whole
// linux.resources of the container's spec, its device rules and cpu
// shares included, to change the memory or cpu limits (runc update reads
// only what it can change).
func Update(store *Store, id string, r *specs.LinuxResources, log io.Writer) error {
	h, st, err := loadFor(store, id, OpUpdate)
	if err != nil {
		return err
	}
	defer h.Close()
	saved, err := savedResources(h, st)
	if err != nil {
		return fmt.Errorf("update %s: %w", id, err)
	}
	r = withoutRepeats(r, saved)
	if err := spec.CheckUpdate(r); err != nil {
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

// withoutRepeats returns r without the limits that update cannot change
// (spec.CheckUpdate's refusals) where they equal the container's current
// ones (cur). r is not changed.
func withoutRepeats(r, cur *specs.LinuxResources) *specs.LinuxResources {
	if r == nil || cur == nil {
		return r
	}
	out := *r
	dropSame(&out.Devices, cur.Devices)
	dropSame(&out.HugepageLimits, cur.HugepageLimits)
	dropSame(&out.BlockIO, cur.BlockIO)
	dropSame(&out.Network, cur.Network)
	dropSame(&out.Rdma, cur.Rdma)
	dropSame(&out.Unified, cur.Unified)
	if out.Memory != nil {
		m, c := *out.Memory, cmp.Or(cur.Memory, &specs.LinuxMemory{})
		dropSame(&m.Reservation, c.Reservation)
		dropSame(&m.Swappiness, c.Swappiness)
		dropSame(&m.DisableOOMKiller, c.DisableOOMKiller)
		out.Memory = &m
	}
	if out.CPU != nil {
		p, c := *out.CPU, cmp.Or(cur.CPU, &specs.LinuxCPU{})
		dropSame(&p.Shares, c.Shares)
		dropSame(&p.RealtimeRuntime, c.RealtimeRuntime)
		dropSame(&p.RealtimePeriod, c.RealtimePeriod)
		out.CPU = &p
	}
	return &out
}

// dropSame clears *v where it equals cur.
func dropSame[T any](v *T, cur T) {
	if reflect.DeepEqual(*v, cur) {
		var zero T
		*v = zero
	}
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

// warn writes each warning to log (when there is one), as the runtime's
// warnings read.
func warn(log io.Writer, warnings []string) {
	if log == nil {
		return
	}
	for _, w := range warnings {
		warnf(log, "%s", w)
	}
}
