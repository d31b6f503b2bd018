package v1

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// cpusetLayout is a v1 host with a cpuset hierarchy whose root has CPUs
// 0-3 and node 0, as the kernel's has.
func cpusetLayout(t *testing.T) layout {
	t.Helper()
	l := newLayout(t, "memory", "cpuset")
	cgfstest.WriteFile(t, l.mounts["cpuset"], cgfs.CpusetCpus, "0-3")
	cgfstest.WriteFile(t, l.mounts["cpuset"], cgfs.CpusetMems, "0")
	cgfstest.WriteFile(t, l.mounts["cpuset"], cpusetEffectiveCpus, "0-3")
	cgfstest.WriteFile(t, l.mounts["cpuset"], cpusetEffectiveMems, "0")
	return l
}

// TestCreateCpuset: every container gets a cpuset cgroup whose CPUs and
// nodes are set before a process can join it: those asked for, else its
// parent's, which is filled first when Create made it.
func TestCreateCpuset(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		cpu                  *specs.LinuxCPU
		wantCpus, wantMems   string
		wantParentCpus       string
		wantErr              string
		parentHasCpusAlready bool
	}{
		{name: "inherited", wantCpus: "0-3", wantMems: "0", wantParentCpus: "0-3"},
		{name: "cpus asked", cpu: &specs.LinuxCPU{Cpus: "1-2"}, wantCpus: "1-2", wantMems: "0", wantParentCpus: "0-3"},
		{name: "both asked", cpu: &specs.LinuxCPU{Cpus: "3", Mems: "0"}, wantCpus: "3", wantMems: "0", wantParentCpus: "0-3"},
		{name: "existing parent with fewer CPUs", cpu: &specs.LinuxCPU{Cpus: "1"}, parentHasCpusAlready: true,
			wantCpus: "1", wantMems: "0", wantParentCpus: "1-2"},
		{name: "CPU the parent lacks", cpu: &specs.LinuxCPU{Cpus: "3"}, parentHasCpusAlready: true,
			wantErr: "linux.resources.cpu.cpus: requested CPUs are not available - requested 3, available: 1-2"},
		{name: "node the host lacks", cpu: &specs.LinuxCPU{Mems: "0-1"},
			wantErr: "linux.resources.cpu.mems: requested memory nodes are not available - requested 0-1, available: 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := cpusetLayout(t)
			parent := filepath.Dir(l.dirs["cpuset"])
			if tc.parentHasCpusAlready {
				f := &fake{}
				f.T, f.Files = t, controlFiles
				if err := f.Ops().Mkdir(parent); err != nil {
					t.Fatal(err)
				}
				cgfstest.WriteFile(t, parent, cgfs.CpusetCpus, "1-2")
				cgfstest.WriteFile(t, parent, cpusetEffectiveCpus, "1-2")
			}
			m := newTestManager(t, &fake{}, l)
			err := m.Create(&specs.LinuxResources{CPU: tc.cpu})
			t.Cleanup(func() { _ = m.Destroy() })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Create = %v, want %q", err, tc.wantErr)
				}
				if cgfstest.Exists(l.dirs["cpuset"]) {
					t.Error("a failed Create left the container's cpuset cgroup")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			dir := m.Path("cpuset")
			if dir != l.dirs["cpuset"] {
				t.Fatalf("Path(cpuset) = %q, want %q", dir, l.dirs["cpuset"])
			}
			for name, want := range map[string]string{cgfs.CpusetCpus: tc.wantCpus, cgfs.CpusetMems: tc.wantMems} {
				if got := cgfstest.ReadFile(t, dir, name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if got := cgfstest.ReadFile(t, parent, cgfs.CpusetCpus); got != tc.wantParentCpus {
				t.Errorf("parent's %s = %q, want %q", cgfs.CpusetCpus, got, tc.wantParentCpus)
			}
			if got := cgfstest.ReadFile(t, parent, cgfs.CpusetMems); got != "0" {
				t.Errorf("parent's %s = %q, want the root's 0", cgfs.CpusetMems, got)
			}
		})
	}
}

// TestInheritEmptyToTheRoot: a cpuset hierarchy empty up to the
// filesystem root is an error, not a loop.
func TestInheritEmptyToTheRoot(t *testing.T) {
	dir := cgfstest.ControlDir(t, map[string]string{cgfs.CpusetCpus: ""})
	if _, err := inherit(dir, cgfs.CpusetCpus); err == nil {
		t.Fatal("inherit of an empty cpuset.cpus with no parent to take from: want an error")
	}
}

// TestUpdateCpuset: update writes the CPUs and nodes asked, checked
// against the parent's, and nothing when one is refused.
func TestUpdateCpuset(t *testing.T) {
	l := cpusetLayout(t)
	m := newTestManager(t, &fake{}, l)
	if err := m.Create(nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Destroy() })
	dir := l.dirs["cpuset"]
	if err := m.Update(&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "2", Mems: "0"}}); err != nil {
		t.Fatal(err)
	}
	if got := cgfstest.ReadFile(t, dir, cgfs.CpusetCpus); got != "2" {
		t.Errorf("cpuset.cpus = %q, want 2", got)
	}
	err := m.Update(&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "1", Mems: "5"}})
	if err == nil || !strings.Contains(err.Error(), "linux.resources.cpu.mems: requested memory nodes are not available") {
		t.Fatalf("Update to node 5 = %v, want a refusal naming cpu.mems", err)
	}
	if got := cgfstest.ReadFile(t, dir, cgfs.CpusetCpus); got != "2" {
		t.Errorf("cpuset.cpus = %q after a refused update, want 2 still", got)
	}
}

// TestCpusetHierarchyMissing: CPUs asked for without a cpuset hierarchy
// fail, naming the controller.
func TestCpusetHierarchyMissing(t *testing.T) {
	m := newTestManager(t, &fake{}, newLayout(t, "memory"))
	err := m.Create(&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0"}})
	if err == nil || !strings.Contains(err.Error(), "no cpuset hierarchy is mounted") {
		t.Fatalf("Create = %v, want the missing cpuset hierarchy named", err)
	}
}
