package v2

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

// hugetlbSuffix ends v2's hugepage limit files, hugetlb.SIZE.max.
const hugetlbSuffix = ".max"

// setHugetlb writes the hugepage limits (cgfs.PlanHugetlb).
func setHugetlb(dir string, r *specs.LinuxResources) error {
	writes, err := cgfs.PlanHugetlb(dir, r, hugetlbSuffix)
	if err != nil {
		return err
	}
	return cgfs.WriteAll(dir, writes)
}
