package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// waitScript prints "ready" and waits for a line on stdin.
var waitScript = []string{"sh", "-c", "echo ready; read x"}

// controllers are the ones whose limits minimal-docker writes.
var controllers = []string{"memory", "pids", "cpu"}

// TestCgroupLimitsVisibleOnHost reads each limit from the host's cgroup
// files while the container runs, finding the container's cgroup by the ID
// from --cidfile beneath this process's own cgroup.
func TestCgroupLimitsVisibleOnHost(t *testing.T) {
	testenv.RequireRoot(t)
	const mib = 1 << 20
	tests := []struct {
		name  string
		flags []string
		want  limits // cpuQuota/cpuPeriod compared as cpus
		cpus  float64
	}{
		{"defaults", nil, limits{memory: 256 * mib, pids: 64}, 0.5},
		{"set", []string{"-m", "48m", "--pids-limit", "20", "--cpus", "0.25"}, limits{memory: 48 * mib, pids: 20}, 0.25},
		{"long names and suffixes", []string{"--memory", "1g", "--pids-limit", "100", "--cpus", "1.5"}, limits{memory: 1 << 30, pids: 100}, 1.5},
		{"kilobytes", []string{"--memory", "65536k"}, limits{memory: 64 * mib, pids: 64}, 0.5},
		{"bytes", []string{"--memory", "104857600b"}, limits{memory: 100 * mib, pids: 64}, 0.5},
		{"unlimited", []string{"-m", "0", "--pids-limit", "-1", "--cpus", "0"}, limits{memory: -1, pids: -1}, 0},
		{"memory -1", []string{"--memory", "-1"}, limits{memory: -1, pids: 64}, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cidfile := filepath.Join(t.TempDir(), "cid")
			p := startWithStdin(t, runArgs(append([]string{"-i", "--cidfile", cidfile}, tt.flags...), waitScript...)...)
			p.waitLine(t, "ready")
			id := readCID(t, cidfile)
			pid := p.containerPID(t)
			dir := func(c string) string { return containerCgroupDir(t, c, "", id) }
			for _, c := range controllers {
				if !cgroupHasPID(t, dir(c), pid) {
					t.Errorf("container PID 1 (host pid %d) is not in %s/cgroup.procs", pid, dir(c))
				}
			}
			got := readLimits(t, dir)
			if got.memory != tt.want.memory {
				t.Errorf("memory limit %d, want %d", got.memory, tt.want.memory)
			}
			if got.pids != tt.want.pids {
				t.Errorf("pids limit %d, want %d", got.pids, tt.want.pids)
			}
			if got.cpus() != tt.cpus {
				t.Errorf("cpu quota %d per %d us = %g CPUs, want %g", got.cpuQuota, got.cpuPeriod, got.cpus(), tt.cpus)
			}
			p.release(t)
			p.wait(t).wantExit(t, 0)
			for _, c := range controllers {
				if _, err := os.Stat(dir(c)); !os.IsNotExist(err) {
					t.Errorf("container cgroup %s still there after the run (stat: %v)", dir(c), err)
				}
			}
		})
	}
}

// TestCgroupParent places the container beneath a --cgroup-parent, relative
// (beneath minimal-docker's own cgroup) and absolute (from the hierarchy
// root), and checks that the parent cgroups minimal-docker made are gone
// afterwards.
func TestCgroupParent(t *testing.T) {
	testenv.RequireRoot(t)
	// An absolute parent beneath the deepest cgroup this process is in, so
	// that the container stays inside every limit this process is under.
	deepest := deepestOwnCgroup()
	tests := []struct {
		name   string
		parent string
	}{
		{"relative", uniqueName("md-test-parent")},
		{"relative nested", uniqueName("md-test-parent") + "/inner"},
		{"absolute", filepath.Join(deepest, uniqueName("md-test-abs"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The first component of the parent that does not exist yet, per
			// controller: what must be gone again afterwards.
			made := map[string]string{}
			for _, c := range controllers {
				made[c] = firstMissing(t, containerCgroupDir(t, c, tt.parent, ""))
			}
			cidfile := filepath.Join(t.TempDir(), "cid")
			p := startWithStdin(t, runArgs([]string{"-i", "--cidfile", cidfile, "--cgroup-parent", tt.parent, "--pids-limit", "33"}, waitScript...)...)
			p.waitLine(t, "ready")
			id := readCID(t, cidfile)
			pid := p.containerPID(t)
			for _, c := range controllers {
				dir := containerCgroupDir(t, c, tt.parent, id)
				if !testenv.Exists(dir) {
					t.Errorf("no container cgroup at %s", dir)
				} else if !cgroupHasPID(t, dir, pid) {
					t.Errorf("container PID 1 (host pid %d) is not in %s/cgroup.procs", pid, dir)
				}
			}
			pidsMax := filepath.Join(containerCgroupDir(t, "pids", tt.parent, id), "pids.max")
			if got := readFile(t, pidsMax); got != "33" {
				t.Errorf("%s = %s, want 33", pidsMax, got)
			}
			p.release(t)
			p.wait(t).wantExit(t, 0)
			for c, dir := range made {
				if dir != "" && testenv.Exists(dir) {
					t.Errorf("%s: cgroup %s that the run made is still there", c, dir)
				}
			}
		})
	}
}

// firstMissing is the shallowest directory on the way to dir that does not
// exist, "" if dir exists.
func firstMissing(t *testing.T, dir string) string {
	t.Helper()
	missing := ""
	for d := filepath.Clean(dir); d != "/" && !testenv.Exists(d); d = filepath.Dir(d) {
		missing = d
	}
	return missing
}

// TestCgroupNamespaceInside checks that the container sees its own cgroup
// as the root of a new cgroup namespace, with its own limits in
// /sys/fs/cgroup. The paths differ between v1 and v2; the script tries both.
func TestCgroupNamespaceInside(t *testing.T) {
	testenv.RequireRoot(t)
	r := run(t, []string{"--pids-limit", "42", "-m", "40m"}, "sh", "-c",
		"cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max; "+
			"cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; "+
			"cat /proc/self/cgroup")
	r.wantExit(t, 0)
	lines := r.lines()
	if len(lines) < 3 {
		t.Fatalf("too little output\n%s", r)
	}
	if lines[0] != "42" {
		t.Errorf("pids.max inside the container = %q, want 42\n%s", lines[0], r)
	}
	if lines[1] != "41943040" {
		t.Errorf("memory limit inside the container = %q, want 41943040\n%s", lines[1], r)
	}
	for _, l := range lines[2:] {
		if !strings.HasSuffix(l, ":/") {
			t.Errorf("/proc/self/cgroup line %q: want the namespace root \"/\"\n%s", l, r)
		}
	}
}

// TestMemoryLimitEnforced: a process that allocates past the limit is
// OOM-killed and minimal-docker says so; one that stays below survives.
func TestMemoryLimitEnforced(t *testing.T) {
	testenv.RequireRoot(t)
	t.Run("over the limit", func(t *testing.T) {
		r := run(t, []string{"-m", "32m"}, "probe", "mem", "200")
		r.wantExit(t, 137)
		r.wantStderr(t, "container was killed: out of memory (limit 32MiB)")
		if strings.Contains(r.stdout, "survived") {
			t.Errorf("the memory hog survived\n%s", r)
		}
	})
	t.Run("under the limit", func(t *testing.T) {
		r := run(t, []string{"-m", "128m"}, "probe", "mem", "16")
		r.wantExit(t, 0)
		if !strings.Contains(r.stdout, "survived 16 MiB") {
			t.Errorf("stdout lacks \"survived 16 MiB\"\n%s", r)
		}
		if strings.Contains(r.stderr, "out of memory") {
			t.Errorf("stderr reports an OOM kill that did not happen\n%s", r)
		}
	})
}

// TestPidsLimitEnforced backgrounds 20 sleeps from a shell (busybox, not
// the Go probe: Go programs need many threads).
func TestPidsLimitEnforced(t *testing.T) {
	testenv.RequireRoot(t)
	script := "i=0; while [ $i -lt 20 ]; do sleep 60 & i=$((i+1)); done; echo all-forked"
	cantFork := regexp.MustCompile(`can't fork|Resource temporarily unavailable`)
	t.Run("limit 10", func(t *testing.T) {
		r := run(t, []string{"--pids-limit", "10"}, "sh", "-c", script)
		if r.code == 0 || strings.Contains(r.stdout, "all-forked") {
			t.Errorf("forked 20 processes under --pids-limit 10\n%s", r)
		}
		if !cantFork.MatchString(r.stderr) {
			t.Errorf("stderr does not say the fork failed\n%s", r)
		}
	})
	t.Run("limit 5, six sleeps", func(t *testing.T) {
		r := run(t, []string{"--pids-limit", "5"}, "sh", "-c", "for i in 1 2 3 4 5 6; do sleep 5 & done; echo all-forked")
		if r.code == 0 || strings.Contains(r.stdout, "all-forked") || !cantFork.MatchString(r.stderr) {
			t.Errorf("six sleeps and a shell ran under --pids-limit 5, or no fork failure was reported\n%s", r)
		}
	})
	t.Run("default limit", func(t *testing.T) {
		r := run(t, nil, "sh", "-c", script)
		r.wantExit(t, 0)
		if !strings.Contains(r.stdout, "all-forked") {
			t.Errorf("stdout lacks all-forked\n%s", r)
		}
	})
}

// depth is the number of components of a cgroup path ("/" has none).
func depth(p string) int {
	p = strings.Trim(filepath.Clean(p), "/")
	if p == "" {
		return 0
	}
	return strings.Count(p, "/") + 1
}

// TestCgroupEventsCountKills reads, from the host's cgroup files while the
// container still runs, the kernel's own count of what the limits did: an
// OOM kill (memory.events oom_kill on v2, memory.oom_control oom_kill on
// v1) and refused forks (pids.events max; v1 has it too).
func TestCgroupEventsCountKills(t *testing.T) {
	testenv.RequireRoot(t)
	cidfile := filepath.Join(t.TempDir(), "cid")
	// PID 1 is a shell: the hog is its child, so the container outlives the
	// kill and the counters can be read before its cgroup goes.
	// A failed fork ends a busybox script: the fork loop runs in a subshell.
	script := `probe mem 200 >/dev/null 2>&1; echo "hog exit $?"
(i=0; while [ $i -lt 30 ]; do sleep 5 & i=$((i+1)); done) 2>/dev/null
echo ready; read x`
	p := startWithStdin(t, runArgs([]string{"-i", "--cidfile", cidfile, "-m", "32m", "--pids-limit", "20"}, "sh", "-c", script)...)
	p.waitLine(t, "ready")
	if !strings.Contains(p.stdout.String(), "hog exit 137") {
		t.Errorf("the memory hog was not killed by SIGKILL:\n%s", p.stdout.String())
	}
	id := readCID(t, cidfile)
	mem := containerCgroupDir(t, "memory", "", id)
	pids := containerCgroupDir(t, "pids", "", id)
	oomFile, oomKey := filepath.Join(mem, "memory.oom_control"), "oom_kill"
	if isV2() {
		oomFile = filepath.Join(mem, "memory.events")
	}
	oom := readKey(t, oomFile, oomKey)
	max := readKey(t, filepath.Join(pids, "pids.events"), "max")
	t.Logf("mode %v: %s %s=%d; %s/pids.events max=%d", env.hier.Mode, oomFile, oomKey, oom, pids, max)
	if oom < 1 {
		t.Errorf("%s: %s = %d, want >= 1", oomFile, oomKey, oom)
	}
	if max < 1 {
		t.Errorf("%s/pids.events: max = %d, want >= 1", pids, max)
	}
	p.release(t)
	r := p.wait(t)
	r.wantExit(t, 0)
	r.wantStderr(t, "out of memory (limit 32MiB)")
}

// readKey reads the number after key in a "key value" per line file.
func readKey(t *testing.T, path, key string) int64 {
	t.Helper()
	for _, line := range strings.Split(readFile(t, path), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == key {
			return parseIntOrMax(t, f[1])
		}
	}
	t.Fatalf("%s has no %q line", path, key)
	return 0
}
