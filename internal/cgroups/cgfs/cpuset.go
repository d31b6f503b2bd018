package cgfs

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The cpuset controller's files are named alike on v1 and v2; v1 shows the
// CPUs and memory nodes in force as cpuset.effective_cpus and
// cpuset.effective_mems, v2 as cpuset.cpus.effective and
// cpuset.mems.effective.
const (
	CpusetCpus = "cpuset.cpus"
	CpusetMems = "cpuset.mems"
)

// maxListNumber bounds the numbers of a cpuset list: the kernel's largest
// NR_CPUS is 8192, and a bound keeps "0-4000000000" from filling memory.
const maxListNumber = 1 << 16

// ParseList parses a cpuset list, the kernel's "list format" of CPU or
// memory node numbers: numbers and ranges separated by commas ("0-3,8",
// "1", "0-1,4-5"). It returns the numbers, sorted, without repeats.
func ParseList(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty list")
	}
	seen := make(map[int]bool)
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		from, err := listNumber(lo)
		if err != nil {
			return nil, err
		}
		to := from
		if isRange {
			if to, err = listNumber(hi); err != nil {
				return nil, err
			}
			if to < from {
				return nil, fmt.Errorf("range %q runs backwards", part)
			}
		}
		for n := from; n <= to; n++ {
			seen[n] = true
		}
	}
	nums := make([]int, 0, len(seen))
	for n := range seen {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	return nums, nil
}

func listNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("%q is not a number >= 0", s)
	}
	if n >= maxListNumber {
		return 0, fmt.Errorf("%d is too large (the largest is %d)", n, maxListNumber-1)
	}
	return n, nil
}

// WantsCpuset reports whether r asks for CPUs or memory nodes.
func WantsCpuset(r *specs.LinuxResources) bool {
	return r != nil && r.CPU != nil && (r.CPU.Cpus != "" || r.CPU.Mems != "")
}

// PlanCpuset plans the writes of cpuset.cpus and cpuset.mems from CPU.Cpus
// and CPU.Mems, each checked first against what the cgroup's parent has
// (parentCpus and parentMems, "" when unknown: the kernel then judges), as
// Docker checks them against the host's: "requested CPUs are not
// available".
func PlanCpuset(r *specs.LinuxResources, parentCpus, parentMems string) ([]Write, error) {
	if !WantsCpuset(r) {
		return nil, nil
	}
	var writes []Write
	for _, c := range []struct {
		file, field, value, available, what string
	}{
		{CpusetCpus, "linux.resources.cpu.cpus", r.CPU.Cpus, parentCpus, "CPUs"},
		{CpusetMems, "linux.resources.cpu.mems", r.CPU.Mems, parentMems, "memory nodes"},
	} {
		if c.value == "" {
			continue
		}
		want, err := ParseList(c.value)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", c.field, c.value, err)
		}
		if !available(want, c.available) {
			return nil, fmt.Errorf("%s: requested %s are not available - requested %s, available: %s",
				c.field, c.what, c.value, c.available)
		}
		writes = append(writes, Write{Name: c.file, Value: c.value, Field: fmt.Sprintf("%s %q", c.field, c.value)})
	}
	return writes, nil
}

// available reports whether every number of want is in the list have; a
// list have that is empty or does not parse is not checked against.
func available(want []int, have string) bool {
	nums, err := ParseList(have)
	if err != nil {
		return true
	}
	for _, n := range want {
		if _, found := slices.BinarySearch(nums, n); !found {
			return false
		}
	}
	return true
}
