package v2

import (
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

// The CPUs and memory nodes in force in a v2 cpuset cgroup. Unlike v1's, a
// v2 cgroup with empty cpuset.cpus and cpuset.mems takes its parent's.
const (
	cpusEffective = "cpuset.cpus.effective"
	memsEffective = "cpuset.mems.effective"
)

// planCpuset plans the writes of cpuset.cpus and cpuset.mems from CPU.Cpus
// and CPU.Mems, checked against what the parent has in force (the kernel
// would take CPUs the parent lacks, and silently use the parent's); what r
// leaves empty is the parent's.
func planCpuset(dir string, r *specs.LinuxResources) ([]cgfs.Write, error) {
	if !cgfs.WantsCpuset(r) {
		return nil, nil
	}
	parent := filepath.Dir(dir)
	cpus, _ := cgfs.ReadFile(parent, cpusEffective)
	mems, _ := cgfs.ReadFile(parent, memsEffective)
	return cgfs.PlanCpuset(r, cpus, mems)
}
