package v2

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestCpuset: the cpuset controller is enabled for every container (so
// that update can pin it later); the CPUs and nodes asked for are written,
// checked against the parent's, at create and at update.
func TestCpuset(t *testing.T) {
	mount := newMount(t, allControllers)
	cgfstest.WriteFile(t, mount, cpusEffective, "0-1")
	cgfstest.WriteFile(t, mount, memsEffective, "0")
	dir := filepath.Join(mount, "ctr")
	m := newTestManager(t, &fake{}, dir)
	if err := m.Create(&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "1", Mems: "0"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Destroy() })
	if got := cgfstest.ReadFile(t, mount, "cgroup.subtree_control"); !strings.Contains(got, "+cpuset") {
		t.Errorf("subtree_control = %q, want cpuset enabled", got)
	}
	want := func(cpus, mems string) {
		t.Helper()
		if got := cgfstest.ReadFile(t, dir, cgfs.CpusetCpus); got != cpus {
			t.Errorf("cpuset.cpus = %q, want %q", got, cpus)
		}
		if got := cgfstest.ReadFile(t, dir, cgfs.CpusetMems); got != mems {
			t.Errorf("cpuset.mems = %q, want %q", got, mems)
		}
	}
	want("1", "0")
	if err := m.Update(&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-1"}}); err != nil {
		t.Fatal(err)
	}
	want("0-1", "0")
	err := m.Update(&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0", Mems: "0,1"}})
	if err == nil || !strings.Contains(err.Error(), "linux.resources.cpu.mems: requested memory nodes are not available - requested 0,1, available: 0") {
		t.Fatalf("Update to nodes 0,1 = %v, want a refusal", err)
	}
	want("0-1", "0")
}

func TestCpusetNotAvailable(t *testing.T) {
	mount := newMount(t, allControllers)
	cgfstest.WriteFile(t, mount, cpusEffective, "0-3")
	m := newTestManager(t, &fake{}, filepath.Join(mount, "a", "ctr"))
	err := m.Create(&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "2-5"}})
	if err == nil || !strings.Contains(err.Error(), "linux.resources.cpu.cpus: requested CPUs are not available - requested 2-5, available: 0-3") {
		t.Fatalf("Create = %v, want a refusal", err)
	}
	if cgfstest.Exists(filepath.Join(mount, "a")) {
		t.Error("a failed Create left its cgroup")
	}
}
