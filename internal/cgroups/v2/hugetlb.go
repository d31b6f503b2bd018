package v2

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

// planHugetlb plans the hugepage limits in v2's files, hugetlb.SIZE.max
// (cgfs.PlanHugetlb).
func planHugetlb(dir string, r *specs.LinuxResources) ([]cgfs.Write, error) {
	return cgfs.PlanHugetlb(dir, r, ".max")
}
