package v2

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const allControllers = "cpuset cpu io memory hugetlb pids rdma misc"

func limits() *specs.LinuxResources {
	return &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: cgfstest.I64(32 << 20)},
		Pids:   &specs.LinuxPids{Limit: cgfstest.I64(10)},
		CPU:    &specs.LinuxCPU{Quota: cgfstest.I64(50000), Period: cgfstest.U64(100000)},
	}
}

func TestCreateApplyDestroy(t *testing.T) {
	mount := newMount(t, allControllers)
	dir := filepath.Join(mount, "parent", "ctr")
	f := &fake{}
	m := newTestManager(t, f, dir)
	if err := m.Create(limits()); err != nil {
		t.Fatal(err)
	}
	if m.Path("memory") != dir || m.Path("pids") != dir {
		t.Errorf("Path = %q, want %q", m.Path("memory"), dir)
	}
	for _, d := range []string{mount, filepath.Join(mount, "parent")} {
		if got := cgfstest.ReadFile(t, d, "cgroup.subtree_control"); got != "+memory +pids +cpu +cpuset" {
			t.Errorf("%s/cgroup.subtree_control = %q, want the four controllers", d, got)
		}
	}
	if got := cgfstest.ReadFile(t, dir, "cgroup.subtree_control"); got != "" {
		t.Errorf("the container's own subtree_control = %q, want it untouched", got)
	}
	for name, want := range map[string]string{memoryMax: "33554432", pidsMax: "10", cpuMax: "50000 100000"} {
		if got := cgfstest.ReadFile(t, dir, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if err := m.Apply(4242); err != nil {
		t.Fatal(err)
	}
	if got := cgfstest.ReadFile(t, dir, "cgroup.procs"); got != "4242" {
		t.Errorf("cgroup.procs = %q, want 4242", got)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if len(f.Killed()) != 0 {
		t.Errorf("killed %v one by one although cgroup.kill exists", f.Killed())
	}
	if cgfstest.Exists(filepath.Join(mount, "parent")) {
		t.Error("directories left behind")
	}
	if got := cgfstest.ReadFile(t, mount, "cgroup.subtree_control"); got == "" {
		t.Error("Destroy undid the controllers of a parent it did not make")
	}
}

func TestDestroyWithoutCgroupKill(t *testing.T) {
	mount := newMount(t, allControllers)
	f := &fake{Omit: []string{"cgroup.kill"}}
	m := newTestManager(t, f, filepath.Join(mount, "ctr"))
	if err := m.Create(nil); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(4242); err != nil {
		t.Fatal(err)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if len(f.Killed()) != 1 || f.Killed()[0] != 4242 {
		t.Errorf("killed %v, want [4242]", f.Killed())
	}
}

func TestDestroyIdempotent(t *testing.T) {
	m := newTestManager(t, &fake{}, filepath.Join(newMount(t, allControllers), "a", "b"))
	if err := m.Destroy(); err != nil {
		t.Fatalf("Destroy before Create: %v", err)
	}
	if err := m.Create(limits()); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := m.Destroy(); err != nil {
			t.Fatalf("Destroy #%d: %v", i+1, err)
		}
	}
}

func TestCreateFailureRemovesWhatItMade(t *testing.T) {
	mount := newMount(t, allControllers)
	dir := filepath.Join(mount, "parent", "ctr")
	m := newTestManager(t, &fake{AsDir: pidsMax}, dir)
	err := m.Create(limits())
	want := "write " + filepath.Join(dir, pidsMax) + ": is a directory"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Create = %v, want an error containing %q", err, want)
	}
	if cgfstest.Exists(filepath.Join(mount, "parent")) {
		t.Error("directories left behind after failed Create")
	}
}

func TestCreateRefusesExistingCgroup(t *testing.T) {
	mount := newMount(t, allControllers)
	dir := filepath.Join(mount, "ctr")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	m := newTestManager(t, &fake{}, dir)
	if err := m.Create(nil); !errors.Is(err, unix.EEXIST) {
		t.Fatalf("Create = %v, want EEXIST", err)
	}
	if err := m.Destroy(); err != nil || !cgfstest.Exists(dir) {
		t.Fatalf("Destroy = %v; an existing cgroup must stay", err)
	}
}

func TestControllersOffered(t *testing.T) {
	tests := []struct {
		name        string
		offered     string
		r           *specs.LinuxResources
		wantSubtree string
		wantErr     string
	}{
		{"all offered", allControllers, limits(), "+memory +pids +cpu +cpuset", ""},
		{"cpu not offered, no cpu limit", "memory pids", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: cgfstest.I64(5)}},
			"+memory +pids", ""},
		{"cpu not offered, cpu limit", "memory pids", limits(), "", "the cpu controller is not available"},
		{"io and hugetlb on demand", allControllers, &specs.LinuxResources{
			BlockIO:        &specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{Rate: 1}}},
			HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1 << 21}},
		}, "+memory +pids +cpu +cpuset +io +hugetlb", ""},
		{"cpuset not offered, cpus asked", "memory pids cpu", &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0"}},
			"", "the cpuset controller is not available"},
		{"hugetlb not offered, limit asked", "memory pids cpu cpuset", &specs.LinuxResources{
			HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1 << 21}}},
			"", "the hugetlb controller is not available"},
		{"none offered, no limits", "", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mount := newMount(t, tt.offered)
			m := newTestManager(t, &fake{}, filepath.Join(mount, "ctr"))
			err := m.Create(tt.r)
			t.Cleanup(func() { _ = m.Destroy() })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Create = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cgfstest.ReadFile(t, mount, "cgroup.subtree_control"); got != tt.wantSubtree {
				t.Errorf("subtree_control = %q, want %q", got, tt.wantSubtree)
			}
		})
	}
}

func TestEnableOnlyMissing(t *testing.T) {
	mount := newMount(t, allControllers)
	cgfstest.WriteFile(t, mount, "cgroup.subtree_control", "cpu memory pids io cpuset")
	m := newTestManager(t, &fake{}, filepath.Join(mount, "ctr"))
	if err := m.Create(limits()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Destroy() })
	if got := cgfstest.ReadFile(t, mount, "cgroup.subtree_control"); got != "cpu memory pids io cpuset" {
		t.Errorf("subtree_control rewritten to %q", got)
	}
}

func TestExplainBusy(t *testing.T) {
	busy := &os.PathError{Op: "write", Path: "/sys/fs/cgroup/user.slice/cgroup.subtree_control", Err: unix.EBUSY}
	err := explainBusy("/sys/fs/cgroup/user.slice", busy)
	if !errors.Is(err, unix.EBUSY) {
		t.Errorf("explainBusy lost the EBUSY: %v", err)
	}
	for _, want := range []string{"no internal processes", "--cgroup-parent", busy.Path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("explainBusy = %q, want it to mention %q", err, want)
		}
	}
	other := errors.New("other")
	if explainBusy("/x", other) != other {
		t.Error("explainBusy changed an error other than EBUSY")
	}
}

func TestOOMKillCount(t *testing.T) {
	mount := newMount(t, allControllers)
	m := newTestManager(t, &fake{}, filepath.Join(mount, "ctr"))
	if err := m.Create(nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Destroy() })
	cgfstest.WriteFile(t, m.Path(""), "memory.events", "low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\n")
	n, err := m.OOMKillCount()
	if err != nil || n != 2 {
		t.Fatalf("OOMKillCount = %d, %v, want 2", n, err)
	}
}
