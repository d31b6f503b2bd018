package v1

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestOnDemandHierarchies: the container gets a blkio and a hugetlb cgroup
// only when it sets a limit of them; then its process joins them, the
// limits are written, and Destroy removes them.
func TestOnDemandHierarchies(t *testing.T) {
	l := newLayout(t, "memory", "pids", "cpu", "blkio", "hugetlb")
	m := newTestManager(t, &fake{}, l)
	if err := m.Create(limits()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"blkio", "hugetlb"} {
		if m.Path(c) != "" || cgfstest.Exists(filepath.Join(l.mounts[c], "parent")) {
			t.Errorf("%s: a cgroup was made (Path %q) though no limit of it was asked", c, m.Path(c))
		}
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}

	m = newTestManager(t, &fake{}, l)
	r := limits()
	r.HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 8 << 20}}
	r.BlockIO = &specs.LinuxBlockIO{ThrottleReadBpsDevice: throttle(8, 0, 4096)}
	if err := m.Create(r); err != nil {
		t.Fatal(err)
	}
	for c, file := range map[string][2]string{
		"hugetlb": {"hugetlb.2MB.limit_in_bytes", "8388608"},
		"blkio":   {"blkio.throttle.read_bps_device", "8:0 4096"},
	} {
		if m.Path(c) != l.dirs[c] {
			t.Fatalf("Path(%s) = %q, want %q", c, m.Path(c), l.dirs[c])
		}
		if got := cgfstest.ReadFile(t, l.dirs[c], file[0]); got != file[1] {
			t.Errorf("%s = %q, want %q", file[0], got, file[1])
		}
	}
	if got := cgfstest.ReadFile(t, l.dirs["hugetlb"], "hugetlb.2MB.rsvd.limit_in_bytes"); got != "8388608" {
		t.Errorf("the reservation limit = %q, want 8388608", got)
	}
	if err := m.Apply(77); err != nil {
		t.Fatal(err)
	}
	if got := cgfstest.ReadFile(t, l.dirs["hugetlb"], "cgroup.procs"); got != "77" {
		t.Errorf("hugetlb cgroup.procs = %q, want 77", got)
	}
	restored := Restore(map[string]string{"hugetlb": m.Path("hugetlb"), "blkio": m.Path("blkio"), "memory": m.Path("memory"),
		"pids": m.Path("pids"), "cpu": m.Path("cpu")}, m.Made()).WithOps((&fake{T: t, Files: controlFiles}).Ops())
	if got := restored.leaves(); !slices.Contains(got, l.dirs["hugetlb"]) {
		t.Errorf("Restore lost the hugetlb cgroup: leaves %v", got)
	}
	if err := restored.Destroy(); err != nil {
		t.Fatal(err)
	}
	for c, mount := range l.mounts {
		if cgfstest.Exists(filepath.Join(mount, "parent")) {
			t.Errorf("%s: left behind", c)
		}
	}
}

func TestHugetlbNotMounted(t *testing.T) {
	m := newTestManager(t, &fake{}, newLayout(t, "memory"))
	err := m.Create(&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1}}})
	if err == nil || !strings.Contains(err.Error(), "a hugetlb limit is set but no hugetlb hierarchy is mounted") {
		t.Fatalf("Create = %v, want the missing hierarchy named", err)
	}
}

func TestHugetlbBadSize(t *testing.T) {
	l := newLayout(t, "hugetlb")
	m := newTestManager(t, &fake{}, l)
	err := m.Create(&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "3MB", Limit: 1}}})
	if err == nil || !strings.Contains(err.Error(), `page size "3MB" is not supported: no hugetlb.3MB.limit_in_bytes`) ||
		!strings.Contains(err.Error(), "page sizes: 2MB") {
		t.Fatalf("Create = %v, want the size refused, naming the kernel's", err)
	}
	if cgfstest.Exists(filepath.Join(l.mounts["hugetlb"], "parent")) {
		t.Error("a failed Create left its cgroup")
	}
}
