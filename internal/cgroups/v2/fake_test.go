package v2

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
)

// controlFiles are the files a fake cgroup directory is born with, and
// their content; cgroup.controllers is added from the parent.
var controlFiles = map[string]string{
	"cgroup.procs":           "",
	"cgroup.subtree_control": "",
	"cgroup.kill":            "",
	memoryMax:                "max",
	swapMax:                  "max",
	"memory.events":          "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
	pidsMax:                  "max",
	cpuMax:                   "max 100000",
	memoryLow:                "0",
	cgfs.CpusetCpus:          "",
	cgfs.CpusetMems:          "",
	cpusEffective:            "0-3",
	memsEffective:            "0",
	ioMax:                    "",
	ioWeight:                 "default 100",
	"hugetlb.2MB.max":        "max",
	"hugetlb.2MB.rsvd.max":   "max",
	"hugetlb.1GB.max":        "max",
	"hugetlb.1GB.rsvd.max":   "max",
}

// fake is the test kit's fake cgroup filesystem, with v2's files.
type fake = cgfstest.Fake

// inherit gives a new cgroup the controllers its parent enables for it.
func inherit(t *testing.T, dir string) {
	subtree := cgfstest.ReadFile(t, filepath.Dir(dir), "cgroup.subtree_control")
	cgfstest.WriteFile(t, dir, "cgroup.controllers", strings.ReplaceAll(subtree, "+", ""))
}

// newMount is a fake cgroup2 mount whose root offers controllers.
func newMount(t *testing.T, controllers string) string {
	t.Helper()
	mount := t.TempDir()
	cgfstest.WriteFile(t, mount, "cgroup.controllers", controllers)
	cgfstest.WriteFile(t, mount, "cgroup.subtree_control", "")
	cgfstest.WriteFile(t, mount, "cgroup.procs", "1\n")
	return mount
}

func newTestManager(t *testing.T, f *fake, dir string) *Manager {
	t.Helper()
	f.T, f.Files, f.Inherit = t, controlFiles, inherit
	m := New(dir)
	m.ops = f.Ops()
	return m
}
