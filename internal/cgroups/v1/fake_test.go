package v1

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
)

// controlFiles are the files a fake cgroup directory is born with, and
// their content.
var controlFiles = map[string]string{
	"cgroup.procs":                     "",
	memoryLimit:                        "9223372036854771712",
	memswLimit:                         "9223372036854771712",
	"memory.oom_control":               "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
	pidsMax:                            "max",
	cfsPeriod:                          "100000",
	cfsQuota:                           "-1",
	cpuShares:                          "1024",
	devicesAllow:                       "",
	devicesDeny:                        "",
	devicesList:                        "a *:* rwm\n",
	softLimit:                          "9223372036854771712",
	swappiness:                         "60",
	cgfs.CpusetCpus:                    "",
	cgfs.CpusetMems:                    "",
	cpusetEffectiveCpus:                "",
	cpusetEffectiveMems:                "",
	"hugetlb.2MB.limit_in_bytes":       "9223372036854771712",
	"hugetlb.2MB.rsvd.limit_in_bytes":  "9223372036854771712",
	"blkio.throttle.read_bps_device":   "",
	"blkio.throttle.write_bps_device":  "",
	"blkio.throttle.read_iops_device":  "",
	"blkio.throttle.write_iops_device": "",
}

// fake is the test kit's fake cgroup filesystem, with v1's files.
type fake = cgfstest.Fake

// layout is a v1 host in a temporary directory: a mount point per
// controller in names, and the container's directory "parent/ctr" in each.
type layout struct {
	mounts map[string]string
	dirs   map[string]string
}

func newLayout(t *testing.T, names ...string) layout {
	t.Helper()
	root := t.TempDir()
	l := layout{mounts: make(map[string]string), dirs: make(map[string]string)}
	for _, name := range names {
		mount := filepath.Join(root, name)
		if err := os.Mkdir(mount, 0o755); err != nil {
			t.Fatal(err)
		}
		l.mounts[name] = mount
		l.dirs[name] = filepath.Join(mount, "parent", "ctr")
	}
	return l
}

func newTestManager(t *testing.T, f *fake, l layout) *Manager {
	t.Helper()
	f.T, f.Files = t, controlFiles
	m := New(l.dirs)
	m.ops = f.Ops()
	return m
}
