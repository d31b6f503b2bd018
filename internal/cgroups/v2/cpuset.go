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

// setCpuset writes cpuset.cpus and cpuset.mems from CPU.Cpus and CPU.Mems
// (planCpuset); what r leaves empty is the parent's.
func setCpuset(dir string, r *specs.LinuxResources) error {
	writes, err := planCpuset(dir, r)
	if err != nil {
		return err
	}
	return cgfs.WriteAll(dir, writes)
}

// planCpuset plans the writes of CPU.Cpus and CPU.Mems, checked against
// what the parent has in force. (The kernel would take CPUs the parent
// lacks, and silently use the parent's.)
func planCpuset(dir string, r *specs.LinuxResources) ([]write, error) {
	if !cgfs.WantsCpuset(r) {
		return nil, nil
	}
	parent := filepath.Dir(dir)
	cpus, _ := cgfs.ReadFile(parent, cpusEffective)
	mems, _ := cgfs.ReadFile(parent, memsEffective)
	return cgfs.PlanCpuset(r, cpus, mems)
}
