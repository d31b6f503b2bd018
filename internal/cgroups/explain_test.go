package cgroups

import (
	"testing"
)

func TestDescribe(t *testing.T) {
	v1 := map[string]string{
		"cpu": "/sys/fs/cgroup/cpu", "cpuacct": "/sys/fs/cgroup/cpuacct",
		"cpuset": "/sys/fs/cgroup/cpuset", "memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/pids",
		"devices": "/sys/fs/cgroup/devices", "freezer": "/sys/fs/cgroup/freezer", "blkio": "/sys/fs/cgroup/blkio",
		"hugetlb": "/sys/fs/cgroup/hugetlb", "name=systemd": "/sys/fs/cgroup/systemd",
	}
	withoutHugetlb := map[string]string{}
	for k, v := range v1 {
		if k != "hugetlb" {
			withoutHugetlb[k] = v
		}
	}
	self := map[string]string{"": "/", "cpu": "/x", "cpuacct": "/x", "cpuset": "/x", "memory": "/x", "pids": "/x", "devices": "/x", "freezer": "/x", "blkio": "/x", "hugetlb": "/x"}
	const v1Dirs = "/sys/fs/cgroup/{cpu,cpuset,devices,freezer,memory,pids}/x/ctr"
	for _, tc := range []struct {
		name string
		h    *Hierarchies
		self map[string]string
		want string
	}{
		{"v2", &Hierarchies{Mode: V2, Unified: "/sys/fs/cgroup"}, map[string]string{"": "/user.slice"}, "cgroup v2 (unified, /sys/fs/cgroup), cgroupfs driver, /sys/fs/cgroup/user.slice/ctr"},
		{"v1", &Hierarchies{Mode: V1, V1: v1}, self, "cgroup v1, cgroupfs driver, " + v1Dirs},
		{"hybrid", &Hierarchies{Mode: Hybrid, V1: v1, Unified: "/sys/fs/cgroup/unified"}, self,
			"cgroup v1 (hybrid: a v2 tree at /sys/fs/cgroup/unified, holding no controller we use), cgroupfs driver, " + v1Dirs},
		{"hybrid, hugetlb on v2", &Hierarchies{Mode: Hybrid, V1: withoutHugetlb, Unified: "/sys/fs/cgroup/unified"}, self,
			"cgroup v1 (hybrid: a v2 tree at /sys/fs/cgroup/unified, where hugetlb is), cgroupfs driver, " + v1Dirs},
		{"v1, co-mounted", &Hierarchies{Mode: V1, V1: map[string]string{"memory": "/c/memory", "cpu": "/c/cpu,cpuacct", "cpuacct": "/c/cpu,cpuacct"}}, self,
			"cgroup v1, cgroupfs driver, /c/memory/x/ctr, /c/cpu,cpuacct/x/ctr"},
		{"v1, not side by side", &Hierarchies{Mode: V1, V1: map[string]string{"memory": "/a/memory", "pids": "/b/pids"}}, self,
			"cgroup v1, cgroupfs driver, /a/memory/x/ctr, /b/pids/x/ctr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewWith(tc.h, tc.self, "ctr")
			if err != nil {
				t.Fatal(err)
			}
			if got := Describe(tc.h, m); got != tc.want {
				t.Errorf("Describe =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
