package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
	v1 "github.com/minimal-docker/minimal-docker/internal/cgroups/v1"
	v2 "github.com/minimal-docker/minimal-docker/internal/cgroups/v2"
)

// TestNewWithHybridHugetlb: on a hybrid host without a v1 hugetlb
// hierarchy the driver keeps a place in the v2 tree for the hugepage
// limits; with one it keeps none.
func TestNewWithHybridHugetlb(t *testing.T) {
	m, err := NewWith(hybridHierarchies(), hybridSelf, "/docker/abc")
	if err != nil {
		t.Fatal(err)
	}
	h, ok := m.(*hybrid)
	if !ok || !h.hugetlbOnV2 || h.unifiedDir != "/sys/fs/cgroup/unified/docker/abc" || h.placeErr != nil {
		t.Fatalf("driver = %#v, want the hybrid one placed at /sys/fs/cgroup/unified/docker/abc", m)
	}
	withV1 := hybridHierarchies()
	withV1.V1["hugetlb"] = "/sys/fs/cgroup/hugetlb"
	m, err = NewWith(withV1, hybridSelf, "/docker/abc")
	if err != nil {
		t.Fatal(err)
	}
	if h, ok := m.(*hybrid); !ok || h.hugetlbOnV2 || h.unifiedDir != "" || m.Mode() != Hybrid {
		t.Errorf("driver = %#v (%v), want the hybrid one without a place in the v2 tree", m, m.Mode())
	}
}

// fakeHybrid is a hybrid host in temporary directories: v1 hierarchies
// for memory and pids, and a v2 tree that offers hugetlb.
func fakeHybrid(t *testing.T) (h *hybrid, v1Mounts map[string]string, unified string) {
	t.Helper()
	root := t.TempDir()
	v1Mounts = map[string]string{}
	dirs := map[string]string{}
	for _, c := range []string{"memory", "pids"} {
		v1Mounts[c] = filepath.Join(root, c)
		dirs[c] = filepath.Join(root, c, "p", "ctr")
		if err := os.Mkdir(v1Mounts[c], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	unified = filepath.Join(root, "unified")
	if err := os.Mkdir(unified, 0o755); err != nil {
		t.Fatal(err)
	}
	cgfstest.WriteFile(t, unified, "cgroup.controllers", "hugetlb")
	cgfstest.WriteFile(t, unified, "cgroup.subtree_control", "")
	v1Fake := &cgfstest.Fake{T: t, Files: map[string]string{"cgroup.procs": "", "pids.max": "max", "memory.limit_in_bytes": "max"}}
	v2Fake := &cgfstest.Fake{T: t, Files: map[string]string{
		"cgroup.procs": "", "cgroup.subtree_control": "", "cgroup.kill": "", "hugetlb.2MB.max": "max", "hugetlb.2MB.rsvd.max": "max",
	}, Inherit: func(t *testing.T, dir string) {
		sub := cgfstest.ReadFile(t, filepath.Dir(dir), "cgroup.subtree_control")
		cgfstest.WriteFile(t, dir, "cgroup.controllers", strings.ReplaceAll(sub, "+", ""))
	}}
	h = &hybrid{
		Manager:     v1.New(dirs).WithOps(v1Fake.Ops()),
		hugetlbOnV2: true,
		unifiedDir:  filepath.Join(unified, "p", "ctr"),
		newUnified:  func(dir string) *v2.Manager { return v2.New(dir).WithOps(v2Fake.Ops()) },
	}
	return h, v1Mounts, unified
}

// TestHybridHugetlb: the hugepage limits go to a cgroup in the v2 tree
// that Create makes only for them; the process joins it, Save and Restore
// keep it, Destroy removes it.
func TestHybridHugetlb(t *testing.T) {
	h, v1Mounts, unified := fakeHybrid(t)
	pids := int64(10)
	r := &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &pids},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}}
	if err := h.Create(r); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(unified, "p", "ctr")
	if got := cgfstest.ReadFile(t, dir, "hugetlb.2MB.max"); got != "4194304" {
		t.Errorf("hugetlb.2MB.max = %q, want 4194304", got)
	}
	if got := cgfstest.ReadFile(t, filepath.Join(v1Mounts["pids"], "p", "ctr"), "pids.max"); got != "10" {
		t.Errorf("pids.max = %q, want 10", got)
	}
	if got := cgfstest.ReadFile(t, unified, "cgroup.subtree_control"); got != "+hugetlb" {
		t.Errorf("the v2 root's subtree_control = %q, want +hugetlb", got)
	}
	if err := h.Apply(42); err != nil {
		t.Fatal(err)
	}
	if got := cgfstest.ReadFile(t, dir, "cgroup.procs"); got != "42" {
		t.Errorf("the v2 cgroup's cgroup.procs = %q, want 42", got)
	}
	if h.Path("hugetlb") != dir || h.Path("memory") != filepath.Join(v1Mounts["memory"], "p", "ctr") {
		t.Errorf("Path(hugetlb) = %q, Path(memory) = %q", h.Path("hugetlb"), h.Path("memory"))
	}
	saved := Save(h)
	if saved.Unified != dir || len(saved.UnifiedMade) != 2 || saved.Paths["hugetlb"] != "" {
		t.Errorf("Save = %+v, want the v2 cgroup apart from the v1 paths", saved)
	}
	if err := h.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Join(unified, "p"), filepath.Join(v1Mounts["memory"], "p")} {
		if cgfstest.Exists(d) {
			t.Errorf("%s left behind", d)
		}
	}
}

// TestHybridWithoutHugetlb: without hugepage limits nothing is made in the
// v2 tree; a failure there undoes the v1 cgroups too.
func TestHybridWithoutHugetlb(t *testing.T) {
	h, v1Mounts, unified := fakeHybrid(t)
	if err := h.Create(nil); err != nil {
		t.Fatal(err)
	}
	if cgfstest.Exists(filepath.Join(unified, "p")) || h.Path("hugetlb") != "" {
		t.Error("a cgroup was made in the v2 tree without hugepage limits")
	}
	if err := h.Destroy(); err != nil {
		t.Fatal(err)
	}

	h, v1Mounts, unified = fakeHybrid(t)
	err := h.Create(&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "1GB", Limit: 1 << 30}}})
	if err == nil || !strings.Contains(err.Error(), `cgroup v2 tree of a hybrid host (hugepage limits): linux.resources.hugepageLimits[0]: page size "1GB"`) {
		t.Fatalf("Create = %v, want the page size refused", err)
	}
	for _, d := range []string{filepath.Join(unified, "p"), filepath.Join(v1Mounts["memory"], "p")} {
		if cgfstest.Exists(d) {
			t.Errorf("%s left behind by a failed Create", d)
		}
	}
}

// TestHybridUnplaced: a v2 tree where this process's cgroup is unknown
// fails only a container that sets hugepage limits.
func TestHybridUnplaced(t *testing.T) {
	self := map[string]string{"memory": "/", "pids": "/", "cpu": "/", "cpuacct": "/"}
	m, err := NewWith(hybridHierarchies(), self, "abc")
	if err != nil {
		t.Fatalf("NewWith without a v2 cgroup: %v", err)
	}
	err = m.Create(&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1}}})
	if err == nil || !strings.Contains(err.Error(), "this process's own cgroup under /sys/fs/cgroup/unified is unknown") {
		t.Fatalf("Create = %v, want the unknown v2 cgroup named", err)
	}
}
