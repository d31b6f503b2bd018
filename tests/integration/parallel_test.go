package integration

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// TestParallelRuns starts several containers at once and holds them
// running together: each gets its own ID and cgroup, and all succeed.
func TestParallelRuns(t *testing.T) {
	testenv.RequireRoot(t)
	const n = 5
	procs := make([]*proc, n)
	cidfiles := make([]string, n)
	dir := t.TempDir()
	for i := range procs {
		cidfiles[i] = filepath.Join(dir, fmt.Sprintf("cid%d", i))
		procs[i] = startWithStdin(t, runArgs([]string{"-i", "--cidfile", cidfiles[i], "--hostname", fmt.Sprintf("c%d", i)},
			"sh", "-c", "hostname; echo ready; read x")...)
	}
	ids := map[string]int{}
	for i, p := range procs {
		p.waitLine(t, "ready")
		id := readCID(t, cidfiles[i])
		if j, dup := ids[id]; dup {
			t.Errorf("containers %d and %d share the ID %s", j, i, id)
		}
		ids[id] = i
		pid := p.containerPID(t)
		for _, c := range controllers {
			if d := containerCgroupDir(t, c, "", id); !cgroupHasPID(t, d, pid) {
				t.Errorf("container %d (host pid %d) is not in its cgroup %s", i, pid, d)
			}
		}
	}
	for _, p := range procs {
		p.release(t)
	}
	for i, p := range procs {
		r := p.wait(t)
		r.wantExit(t, 0)
		if l := r.lines(); len(l) == 0 || l[0] != fmt.Sprintf("c%d", i) {
			t.Errorf("container %d: want hostname c%d first\n%s", i, i, r)
		}
	}
}

// TestParallelBurst starts short containers all at once, so that their
// setup and teardown overlap.
func TestParallelBurst(t *testing.T) {
	testenv.RequireRoot(t)
	const n = 10
	procs := make([]*proc, n)
	for i := range procs {
		procs[i] = start(t, runArgs(nil, "sh", "-c", fmt.Sprintf("exit %d", i))...)
	}
	for i, p := range procs {
		p.wait(t).wantExit(t, i)
	}
}
