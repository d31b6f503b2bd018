package integration

import (
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestRuncSystemdStyleCgroupsPath: containerd's CRI plugin passes a
// systemd-style cgroupsPath ("SLICE:PREFIX:ID") even with its cgroupfs
// driver. As runc without --systemd-cgroup, each container's cgroup is one
// directory of that name beneath our own cgroup, and deleting the pods
// leaves nothing: no SLICE directory shared by the pods and removed by
// none.
func TestRuncSystemdStyleCgroupsPath(t *testing.T) {
	testenv.RequireRoot(t)
	slice := uniqueName("md-test") + ".slice"
	type pod struct {
		b       *ociBundle
		id, dir string
	}
	var pods []pod
	for range 2 {
		p := pod{b: newBundle(t, "sleep", "1000"), id: uniqueName("cri")}
		path := slice + ":cri-containerd:" + p.id
		p.b.edit(t, func(s *specs.Spec) { s.Linux.CgroupsPath = path })
		runc(t, p.b, "run", "-d", "--bundle", p.b.dir, p.id).wantExit(t, 0)
		t.Cleanup(func() { runc(t, p.b, "delete", "--force", p.id) })
		p.dir = containerCgroupDir(t, "pids", path, "")
		if pid := p.b.state(t, p.id).Pid; !cgroupHasPID(t, p.dir, pid) {
			t.Errorf("cgroupsPath %q: the init %d is not in %s", path, pid, p.dir)
		}
		pods = append(pods, p)
	}
	shared := containerCgroupDir(t, "pids", slice, "")
	if testenv.Exists(shared) {
		t.Errorf("a directory shared by the pods was made beneath our cgroup: %s", shared)
	}
	for _, p := range pods {
		runc(t, p.b, "delete", "--force", p.id).wantExit(t, 0)
		if testenv.Exists(p.dir) {
			t.Errorf("%s is still there after the delete", p.dir)
		}
	}
	if testenv.Exists(shared) {
		t.Errorf("%s is still there after both deletes", shared)
	}
}
