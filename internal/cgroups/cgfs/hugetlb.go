package cgfs

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The hugetlb controller is alike on v1 and v2 but for the suffix of its
// limit files: hugetlb.SIZE.limit_in_bytes on v1, hugetlb.SIZE.max on v2,
// one per page size the kernel has ("2MB", "1GB"). Kernels since 5.7 add
// a limit on reservations too, hugetlb.SIZE.rsvd.SUFFIX.

// WantsHugetlb reports whether r sets hugepage limits.
func WantsHugetlb(r *specs.LinuxResources) bool {
	return r != nil && len(r.HugepageLimits) > 0
}

// PlanHugetlb plans the writes of linux.resources.hugepageLimits in dir
// with the driver's suffix: each limit to hugetlb.SIZE.SUFFIX and, as runc
// does, to hugetlb.SIZE.rsvd.SUFFIX where the kernel has it. A page size
// the kernel lacks (no such file in dir) fails, naming the sizes it has.
func PlanHugetlb(dir string, r *specs.LinuxResources, suffix string) ([]Write, error) {
	if !WantsHugetlb(r) {
		return nil, nil
	}
	var writes []Write
	for i, l := range r.HugepageLimits {
		field := fmt.Sprintf("linux.resources.hugepageLimits[%d]", i)
		name := "hugetlb." + l.Pagesize + suffix
		if strings.Contains(l.Pagesize, "/") || !Exists(dir, name) {
			return nil, fmt.Errorf("%s: page size %q is not supported: no %s in %s (the kernel's page sizes: %s)",
				field, l.Pagesize, name, dir, pageSizes(dir, suffix))
		}
		value := strconv.FormatUint(l.Limit, 10)
		field = fmt.Sprintf("%s (pageSize %q, limit %d)", field, l.Pagesize, l.Limit)
		writes = append(writes, Write{Name: name, Value: value, Field: field})
		if rsvd := "hugetlb." + l.Pagesize + ".rsvd" + suffix; Exists(dir, rsvd) {
			writes = append(writes, Write{Name: rsvd, Value: value, Field: field})
		}
	}
	return writes, nil
}

// pageSizes lists the page sizes that have a limit file in dir.
func pageSizes(dir, suffix string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "unknown"
	}
	var sizes []string
	for _, e := range entries {
		size, ok := strings.CutPrefix(e.Name(), "hugetlb.")
		if !ok {
			continue
		}
		if size, ok = strings.CutSuffix(size, suffix); ok && !strings.Contains(size, ".") {
			sizes = append(sizes, size)
		}
	}
	if len(sizes) == 0 {
		return "none"
	}
	sort.Strings(sizes)
	return strings.Join(sizes, ", ")
}
