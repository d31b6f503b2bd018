package v1

import (
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
)

// The CPUs and memory nodes in force in a v1 cpuset cgroup.
const (
	cpusetEffectiveCpus = "cpuset.effective_cpus"
	cpusetEffectiveMems = "cpuset.effective_mems"
)

// fillCpuset gives the cpuset cgroup dir, where it has none, its parent's
// CPUs and memory nodes. A v1 cpuset cgroup is born with both empty
// (unless its parent has cgroup.clone_children), and the kernel moves no
// process into it before both are set; a child can have only what its
// parent has. So, as runc does, Create fills the parents first (those it
// made, and any empty one up the hierarchy), from the nearest that has
// CPUs and nodes, before r's are written (planCpuset, checked against
// them), and then the container's cgroup, for what r leaves empty.
func fillCpuset(dir string) error {
	for _, name := range []string{cgfs.CpusetCpus, cgfs.CpusetMems} {
		if _, err := inherit(dir, name); err != nil {
			return err
		}
	}
	return nil
}

// planCpuset plans the writes of cpuset.cpus and cpuset.mems from CPU.Cpus
// and CPU.Mems, checked against what the parent has in force.
func planCpuset(dir string, r *specs.LinuxResources) ([]cgfs.Write, error) {
	if !cgfs.WantsCpuset(r) {
		return nil, nil
	}
	parent := filepath.Dir(dir)
	return cgfs.PlanCpuset(r, inForce(parent, cpusetEffectiveCpus, cgfs.CpusetCpus),
		inForce(parent, cpusetEffectiveMems, cgfs.CpusetMems))
}

// inForce reads the effective file of dir, or the configured one on a
// kernel without it (or where it is empty); "" if neither can be read.
func inForce(dir, effective, configured string) string {
	if v, err := cgfs.ReadFile(dir, effective); err == nil && v != "" {
		return v
	}
	v, _ := cgfs.ReadFile(dir, configured)
	return v
}

// inherit returns dir's value of the cpuset file name after copying its
// parent's into it when it is empty, which first fills the parent the same
// way.
func inherit(dir, name string) (string, error) {
	v, err := cgfs.ReadFile(dir, name)
	if err != nil || v != "" {
		return v, err
	}
	parent := filepath.Dir(dir)
	if parent == dir {
		return "", fmt.Errorf("cgroup v1 cpuset: %s is empty up to the root", name)
	}
	v, err = inherit(parent, name)
	if err != nil {
		return "", err
	}
	return v, cgfs.WriteFile(dir, name, v)
}
