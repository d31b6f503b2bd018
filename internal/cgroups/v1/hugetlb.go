package v1

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

// hugetlbSuffix ends v1's hugepage limit files, hugetlb.SIZE.limit_in_bytes.
const hugetlbSuffix = ".limit_in_bytes"

// setHugetlb writes the hugepage limits (cgfs.PlanHugetlb).
func setHugetlb(dir string, r *specs.LinuxResources) error {
	writes, err := cgfs.PlanHugetlb(dir, r, hugetlbSuffix)
	if err != nil {
		return err
	}
	return cgfs.WriteAll(dir, writes)
}
