package cgroups

import (
	"fmt"
	"math"
	"regexp"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

// Validate checks the values of r that can be judged without the host, and
// fails naming the first bad field: the CPU and memory node lists, the
// swappiness (0-100), the hugepage sizes ("2MB", "1GB"), and the block I/O
// weights (10-1000). What needs the host (CPUs that exist, page sizes the
// kernel has, files that exist) the drivers check when they write.
func Validate(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if c := r.CPU; c != nil {
		for _, l := range []struct{ field, value string }{
			{"cpu.cpus", c.Cpus}, {"cpu.mems", c.Mems},
		} {
			if l.value == "" {
				continue
			}
			if err := ValidateList(l.value); err != nil {
				return fmt.Errorf("linux.resources.%s %q: %w", l.field, l.value, err)
			}
		}
	}
	if m := r.Memory; m != nil && m.Swappiness != nil && *m.Swappiness > 100 && *m.Swappiness != math.MaxUint64 {
		return fmt.Errorf("linux.resources.memory.swappiness %d: the range is 0-100", *m.Swappiness)
	}
	for i, l := range r.HugepageLimits {
		if !pageSize().MatchString(l.Pagesize) {
			return fmt.Errorf("linux.resources.hugepageLimits[%d].pageSize %q: want a size such as 2MB or 1GB", i, l.Pagesize)
		}
	}
	if b := r.BlockIO; b != nil {
		if err := checkWeight("weight", b.Weight); err != nil {
			return err
		}
		if err := checkWeight("leafWeight", b.LeafWeight); err != nil {
			return err
		}
		for i, d := range b.WeightDevice {
			if err := checkWeight(fmt.Sprintf("weightDevice[%d].weight", i), d.Weight); err != nil {
				return err
			}
			if err := checkWeight(fmt.Sprintf("weightDevice[%d].leafWeight", i), d.LeafWeight); err != nil {
				return err
			}
		}
	}
	return nil
}

// ValidateList checks the syntax of a cpuset list, the kernel's "list
// format": CPU or memory node numbers and ranges separated by commas
// ("0-3,8").
func ValidateList(s string) error {
	_, err := cgfs.ParseList(s)
	if err != nil {
		return fmt.Errorf("want numbers and ranges such as 0-3,8: %w", err)
	}
	return nil
}

// pageSize is a hugepage size as the hugetlb files name it. Compiled on
// first use: every command would pay for it at start-up.
var pageSize = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[1-9][0-9]*[KMG]B$`)
})

// checkWeight fails for a block I/O weight outside 10-1000; 0 is unset.
func checkWeight(field string, w *uint16) error {
	if w != nil && *w != 0 && (*w < 10 || *w > 1000) {
		return fmt.Errorf("linux.resources.blockIO.%s %d: the range is 10-1000", field, *w)
	}
	return nil
}

// Ignored names the fields of r that the cgroup drivers in mode leave
// unwritten, as runc does, with why: the kernel memory limits everywhere
// (kernels since 6.1 ignore memory.kmem.limit_in_bytes, and runc ignores
// both), and on v2, which has no such files, the swappiness and the switch
// of the OOM killer. The runtime warns of them and goes on.
func Ignored(mode Mode, r *specs.LinuxResources) []string {
	if r == nil || r.Memory == nil {
		return nil
	}
	m := r.Memory
	var ignored []string
	if m.Kernel != nil && *m.Kernel != 0 {
		ignored = append(ignored, "linux.resources.memory.kernel is ignored: kernel memory limits are obsolete (as in runc)")
	}
	if m.KernelTCP != nil && *m.KernelTCP != 0 {
		ignored = append(ignored, "linux.resources.memory.kernelTCP is ignored: kernel memory limits are obsolete (as in runc)")
	}
	if mode == V2 {
		if m.Swappiness != nil && *m.Swappiness != math.MaxUint64 {
			ignored = append(ignored, "linux.resources.memory.swappiness is ignored: cgroup v2 has no swappiness (as in runc)")
		}
		if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
			ignored = append(ignored, "linux.resources.memory.disableOOMKiller is ignored: cgroup v2 cannot turn the OOM killer off (as in runc)")
		}
	}
	return ignored
}

// SplitAtReady splits the limits r into those Create writes and those
// written later, right before the init executes the user's program (nil
// when none; the init writes them itself: handshake.Settings.PidsMax). A
// limit meant for the user's process must not break the runtime's own
// setup: a small pids limit would refuse the processes the init's setup
// forks up to its execve (the createContainer and startContainer hooks it
// runs), even after it has reported ready. So the pids limit comes last; the
// cgroup, and the move of the init into it, still come before the init
// may run anything. r is not changed.
func SplitAtReady(r *specs.LinuxResources) (atCreate, atReady *specs.LinuxResources) {
	if r == nil || r.Pids == nil || !cgfs.Positive(r.Pids.Limit) {
		return r, nil
	}
	create := *r
	create.Pids = nil
	return &create, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: r.Pids.Limit}}
}
