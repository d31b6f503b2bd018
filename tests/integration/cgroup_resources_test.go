package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The limits beside memory, pids and cpu quota: cpuset, the memory
// settings, hugepages, block I/O; and the pids limit that must not break
// the runtime's own setup.

// availableCPUs is the list of CPUs this process may use, from its own
// cpuset cgroup (as the kernel has it in force), e.g. "0-1".
func availableCPUs(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(hierarchyRoot(t, "cpuset"), ownCgroup(t, "cpuset"))
	for _, name := range []string{"cpuset.effective_cpus", "cpuset.cpus.effective"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	// The v2 root shows it, a cgroup without cpuset enabled does not.
	return readFile(t, filepath.Join(env.hier.Unified, "cpuset.cpus.effective"))
}

// lastCPU is the highest CPU number of a cpuset list such as "0-3,8".
func lastCPU(t *testing.T, list string) int {
	t.Helper()
	parts := strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == '-' })
	n, err := strconv.Atoi(parts[len(parts)-1])
	if err != nil {
		t.Fatalf("cpuset list %q: %v", list, err)
	}
	return n
}

// TestCpuset: --cpuset-cpus and --cpuset-mems pin the container, as its
// cgroup's cpuset files on the host and its own affinity show; CPUs or
// nodes the host lacks, and lists that do not parse, are refused (125).
func TestCpuset(t *testing.T) {
	last := lastCPU(t, availableCPUs(t))
	cpu := strconv.Itoa(last)
	cidfile := filepath.Join(t.TempDir(), "cid")
	p := startWithStdin(t, runArgs([]string{"-i", "--cidfile", cidfile, "--cpuset-cpus", cpu, "--cpuset-mems", "0"},
		"sh", "-c", "grep -E '^(Cpus|Mems)_allowed_list' /proc/self/status; echo ready; read x")...)
	p.waitLine(t, "ready")
	dir := containerCgroupDir(t, "cpuset", "", readCID(t, cidfile))
	if got := readFile(t, filepath.Join(dir, "cpuset.cpus")); got != cpu {
		t.Errorf("%s/cpuset.cpus = %q, want %s", dir, got, cpu)
	}
	if got := readFile(t, filepath.Join(dir, "cpuset.mems")); got != "0" {
		t.Errorf("%s/cpuset.mems = %q, want 0", dir, got)
	}
	p.release(t)
	r := p.wait(t)
	r.wantExit(t, 0)
	if !strings.Contains(r.stdout, "Cpus_allowed_list:\t"+cpu+"\n") || !strings.Contains(r.stdout, "Mems_allowed_list:\t0\n") {
		t.Errorf("the container's affinity is not CPU %s, node 0\n%s", cpu, r)
	}

	for _, tc := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"a CPU the host lacks", []string{"--cpuset-cpus", fmt.Sprintf("0-%d", last+1)},
			fmt.Sprintf("linux.resources.cpu.cpus: requested CPUs are not available - requested 0-%d, available:", last+1)},
		{"a node the host lacks", []string{"--cpuset-mems", "0-63"},
			"linux.resources.cpu.mems: requested memory nodes are not available - requested 0-63"},
		{"not a list", []string{"--cpuset-cpus", "1-x"}, `invalid --cpuset-cpus "1-x"`},
		{"backwards", []string{"--cpuset-mems", "3-1"}, `invalid --cpuset-mems "3-1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.flags, "true")
			r.wantExit(t, 125)
			r.wantStderr(t, tc.want)
		})
	}
}

// TestRuncCpuset: cpu.cpus and cpu.mems of a config are in force after
// create, and update changes them by flag and by --resources; a list
// beyond the host's CPUs is refused and changes nothing.
func TestRuncCpuset(t *testing.T) {
	avail := availableCPUs(t)
	last := lastCPU(t, avail)
	b := newBundle(t, "sleep", "1000")
	b.edit(t, func(s *specs.Spec) {
		s.Linux.Resources = &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0", Mems: "0"}}
	})
	id := uniqueName("cpuset")
	runc(t, b, "create", "--bundle", b.dir, id).wantExit(t, 0)
	dir := containerCgroupDir(t, "cpuset", "", id)
	want := func(t *testing.T, cpus, mems string) {
		t.Helper()
		if got := readFile(t, filepath.Join(dir, "cpuset.cpus")); got != cpus {
			t.Errorf("%s/cpuset.cpus = %q, want %q", dir, got, cpus)
		}
		if got := readFile(t, filepath.Join(dir, "cpuset.mems")); got != mems {
			t.Errorf("%s/cpuset.mems = %q, want %q", dir, got, mems)
		}
	}
	want(t, "0", "0")
	runc(t, b, "start", id).wantExit(t, 0)

	cpu := strconv.Itoa(last)
	runc(t, b, "update", "--cpuset-cpus", cpu, id).wantExit(t, 0)
	want(t, cpu, "0")
	file := filepath.Join(b.dir, "resources.json")
	if err := os.WriteFile(file, []byte(`{"cpu":{"cpus":"`+avail+`","mems":"0"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	runc(t, b, "update", "-r", file, id).wantExit(t, 0)
	want(t, avail, "0")

	r := runc(t, b, "update", "--cpuset-cpus", fmt.Sprintf("%d", last+1), id)
	if r.code != 1 || !strings.Contains(r.stderr, "linux.resources.cpu.cpus: requested CPUs are not available") {
		t.Errorf("update to a CPU the host lacks: want exit 1 naming cpu.cpus\n%s", r)
	}
	r = runc(t, b, "update", "--cpuset-mems", "zero", id)
	if r.code != 1 || !strings.Contains(r.stderr, `linux.resources.cpu.mems "zero"`) {
		t.Errorf("update with a bad list: want exit 1 naming cpu.mems\n%s", r)
	}
	want(t, avail, "0")
	runc(t, b, "delete", "--force", id).wantExit(t, 0)
}

// TestRuncMemoryTuning: memory reservation, swappiness and
// disableOOMKiller are written where the kernel has them (v1: all three;
// v2: the reservation as memory.low, the other two ignored with a
// warning, as runc does); the kernel memory limits are ignored with a
// warning and the container runs.
func TestRuncMemoryTuning(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	limit, reservation, kmem := int64(64<<20), int64(32<<20), int64(16<<20)
	swappiness, noOOM := uint64(10), true
	b.edit(t, func(s *specs.Spec) {
		s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{
			Limit: &limit, Reservation: &reservation, Swappiness: &swappiness, DisableOOMKiller: &noOOM,
			Kernel: &kmem, KernelTCP: &kmem,
		}}
	})
	id := uniqueName("memtune")
	r := runc(t, b, "run", "-d", "--bundle", b.dir, id)
	r.wantExit(t, 0)
	r.wantStderr(t, "warning: linux.resources.memory.kernel is ignored", "warning: linux.resources.memory.kernelTCP is ignored")
	dir := containerCgroupDir(t, "memory", "", id)
	if isV2() {
		r.wantStderr(t, "warning: linux.resources.memory.swappiness is ignored", "warning: linux.resources.memory.disableOOMKiller is ignored")
		if got := readFile(t, filepath.Join(dir, "memory.low")); got != fmt.Sprint(reservation) {
			t.Errorf("%s/memory.low = %s, want %d", dir, got, reservation)
		}
	} else {
		if got := readFile(t, filepath.Join(dir, "memory.soft_limit_in_bytes")); got != fmt.Sprint(reservation) {
			t.Errorf("%s/memory.soft_limit_in_bytes = %s, want %d", dir, got, reservation)
		}
		if got := readFile(t, filepath.Join(dir, "memory.swappiness")); got != "10" {
			t.Errorf("%s/memory.swappiness = %s, want 10", dir, got)
		}
		if got := readKey(t, filepath.Join(dir, "memory.oom_control"), "oom_kill_disable"); got != 1 {
			t.Errorf("%s/memory.oom_control: oom_kill_disable %d, want 1", dir, got)
		}
	}
	runc(t, b, "delete", "--force", id).wantExit(t, 0)

	b.edit(t, func(s *specs.Spec) {
		bad := uint64(101)
		s.Linux.Resources.Memory = &specs.LinuxMemory{Swappiness: &bad}
	})
	r = runc(t, b, "run", "--bundle", b.dir, uniqueName("memtune"))
	if r.code != 1 || !strings.Contains(r.stderr, "linux.resources.memory.swappiness 101: the range is 0-100") {
		t.Errorf("swappiness 101: want exit 1 naming the field\n%s", r)
	}
}

// hugePageSize is the smallest hugepage size of the kernel as the cgroup
// files name it ("2MB"), "" if it has none.
func hugePageSize(t *testing.T) string {
	t.Helper()
	entries, _ := os.ReadDir("/sys/kernel/mm/hugepages")
	best := 0
	for _, e := range entries {
		kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(e.Name(), "hugepages-"), "kB"))
		if err == nil && (best == 0 || kb < best) {
			best = kb
		}
	}
	switch {
	case best == 0:
		return ""
	case best >= 1<<20:
		return fmt.Sprintf("%dGB", best>>20)
	case best >= 1<<10:
		return fmt.Sprintf("%dMB", best>>10)
	}
	return fmt.Sprintf("%dKB", best)
}

// hugetlbRoot is the root of the hierarchy that has the hugetlb
// controller: its v1 hierarchy, else the v2 tree if that offers it; "" if
// neither.
func hugetlbRoot(t *testing.T) string {
	t.Helper()
	if mnt, ok := env.hier.V1["hugetlb"]; ok {
		return mnt
	}
	if env.hier.Unified != "" {
		if b, err := os.ReadFile(filepath.Join(env.hier.Unified, "cgroup.controllers")); err == nil &&
			slices.Contains(strings.Fields(string(b)), "hugetlb") {
			return env.hier.Unified
		}
	}
	return ""
}

// restoreSubtreeControl puts controller back out of cgroup.subtree_control
// of each cgroup from the v2 root down to parent where it was not enabled
// when the test began: the runtime enables it along the way (as runc
// does) and leaves it, and the host must be left as the test found it.
// Registered before the containers' own clean-up, it runs after it.
func restoreSubtreeControl(t *testing.T, root, parent, controller string) {
	t.Helper()
	var off []string
	dir := root
	for _, part := range append([]string{""}, strings.Split(strings.Trim(parent, "/"), "/")...) {
		dir = filepath.Join(dir, part)
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
		if err != nil {
			break // not made yet: its parent is the last that exists
		}
		if !slices.Contains(strings.Fields(string(b)), controller) {
			off = append(off, dir)
		}
	}
	t.Cleanup(func() {
		for i := len(off) - 1; i >= 0; i-- {
			f := filepath.Join(off[i], "cgroup.subtree_control")
			if err := os.WriteFile(f, []byte("-"+controller), 0o644); err != nil && !os.IsNotExist(err) {
				t.Errorf("put %s back out of %s: %v", controller, f, err)
			}
		}
	})
}

// deepestOwnCgroup is the deepest of the cgroups this process is in (over
// all hierarchies): an absolute cgroupsPath beneath it stays inside every
// limit this process is under.
func deepestOwnCgroup() string {
	deepest := "/"
	for _, p := range env.self {
		if depth(p) > depth(deepest) {
			deepest = p
		}
	}
	return deepest
}

// TestRuncHugepageLimits: a hugepage limit is in force in the container's
// hugetlb cgroup (v1 hugetlb.SIZE.limit_in_bytes, v2 hugetlb.SIZE.max, and
// the reservation limit beside it where the kernel has one), also where
// the host has hugetlb only on its v2 tree beside v1 controllers (a hybrid
// host), and every cgroup made for it goes with the container; a page
// size the kernel lacks is refused, naming it.
func TestRuncHugepageLimits(t *testing.T) {
	size := hugePageSize(t)
	root := hugetlbRoot(t)
	if size == "" || root == "" {
		t.Skipf("no hugepage sizes (%q) or no hugetlb controller (%q) on this host", size, root)
	}
	suffix := ".max"
	if root != env.hier.Unified {
		suffix = ".limit_in_bytes"
	}
	// On a hybrid host our own v2 cgroup has processes (this one), and
	// cgroup v2 lets such a cgroup give its children no controller: the
	// container goes beneath a new cgroup at an absolute path.
	parent := filepath.Join(deepestOwnCgroup(), uniqueName("md-test-huge"))
	if root == env.hier.Unified {
		restoreSubtreeControl(t, root, parent, "hugetlb")
	}
	made := []string{firstMissing(t, filepath.Join(root, parent))}
	for _, c := range controllers {
		made = append(made, firstMissing(t, containerCgroupDir(t, c, parent, "")))
	}
	gone := func(t *testing.T) {
		t.Helper()
		for _, dir := range made {
			if dir != "" && testenv.Exists(dir) {
				t.Errorf("cgroup %s, made for the container, is still there", dir)
			}
		}
	}
	limit := uint64(4 << 30)
	b := newBundle(t, "sleep", "1000")
	id := uniqueName("huge")
	b.edit(t, func(s *specs.Spec) {
		s.Linux.CgroupsPath = filepath.Join(parent, id)
		s.Linux.Resources = &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: size, Limit: limit}}}
	})
	runc(t, b, "run", "-d", "--bundle", b.dir, id).wantExit(t, 0)
	dir := filepath.Join(root, parent, id)
	st := b.state(t, id)
	if !cgroupHasPID(t, dir, st.Pid) {
		t.Errorf("the container's init %d is not in %s", st.Pid, dir)
	}
	for _, name := range []string{"hugetlb." + size + suffix, "hugetlb." + size + ".rsvd" + suffix} {
		if name != "hugetlb."+size+suffix && !testenv.Exists(filepath.Join(dir, name)) {
			continue // no reservation accounting (before 5.7)
		}
		if got := readFile(t, filepath.Join(dir, name)); got != fmt.Sprint(limit) {
			t.Errorf("%s/%s = %s, want %d", dir, name, got, limit)
		}
	}
	runc(t, b, "delete", "--force", id).wantExit(t, 0)
	gone(t)

	b.edit(t, func(s *specs.Spec) {
		s.Linux.Resources.HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: "3MB", Limit: 3 << 20}}
	})
	r := runc(t, b, "run", "--bundle", b.dir, uniqueName("huge"))
	if r.code != 1 || !strings.Contains(r.stderr, `linux.resources.hugepageLimits[0]: page size "3MB" is not supported`) {
		t.Errorf("page size 3MB: want exit 1 naming it\n%s", r)
	}
	gone(t)
}

// TestRuncHugepageHybridRelative: on a hybrid host, hugepage limits for a
// container beneath our own v2 cgroup, which has processes (so that it can
// give its children no controller), fail with an error that says where,
// and leave nothing behind.
func TestRuncHugepageHybridRelative(t *testing.T) {
	_, v1Hugetlb := env.hier.V1["hugetlb"]
	if env.hier.Mode.String() != "hybrid" || v1Hugetlb || hugetlbRoot(t) == "" || env.self[""] == "/" || hugePageSize(t) == "" {
		t.Skip("needs a hybrid host with hugetlb only on its v2 tree, and this process in a v2 cgroup below the root")
	}
	b := newBundle(t, "true")
	b.edit(t, func(s *specs.Spec) {
		s.Linux.Resources = &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: hugePageSize(t), Limit: 1 << 30}}}
	})
	r := runc(t, b, "run", "--bundle", b.dir, uniqueName("huge"))
	if r.code != 1 || !strings.Contains(r.stderr, "cgroup v2 tree of a hybrid host (hugepage limits)") ||
		!strings.Contains(r.stderr, filepath.Join(env.hier.Unified, env.self[""])) {
		t.Errorf("want exit 1 naming the v2 tree and our own v2 cgroup\n%s", r)
	}
}

// blockDevice is a whole disk of the host, "MAJOR:MINOR", "" if none: the
// block throttles take whole disks (not loop, ram or zram devices, which
// some kernels do not throttle).
func blockDevice() string {
	entries, _ := os.ReadDir("/sys/block")
	virtual := regexp.MustCompile(`^(loop|ram|zram|nbd)`)
	for _, e := range entries {
		if virtual.MatchString(e.Name()) {
			continue
		}
		if b, err := os.ReadFile(filepath.Join("/sys/block", e.Name(), "dev")); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	return ""
}

// TestRuncBlockIO: the block I/O throttles are in force in the container's
// cgroup (v1 blkio.throttle.*, v2 io.max); a weight is written where the
// kernel has the files for it, and refused naming the field where not.
func TestRuncBlockIO(t *testing.T) {
	t.Run("throttle", func(t *testing.T) {
		dev := blockDevice()
		if dev == "" {
			t.Skip("no whole-disk block device on this host")
		}
		var major, minor int64
		if _, err := fmt.Sscanf(dev, "%d:%d", &major, &minor); err != nil {
			t.Fatal(err)
		}
		b := newBundle(t, "sleep", "1000")
		b.edit(t, func(s *specs.Spec) {
			d := func(rate uint64) []specs.LinuxThrottleDevice {
				return []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: major, Minor: minor}, Rate: rate}}
			}
			s.Linux.Resources = &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
				ThrottleReadBpsDevice: d(1 << 20), ThrottleWriteBpsDevice: d(2 << 20),
				ThrottleReadIOPSDevice: d(100), ThrottleWriteIOPSDevice: d(200),
			}}
		})
		id := uniqueName("blkio")
		runc(t, b, "run", "-d", "--bundle", b.dir, id).wantExit(t, 0)
		if isV2() {
			dir := containerCgroupDir(t, "io", "", id)
			want := dev + " rbps=1048576 wbps=2097152 riops=100 wiops=200"
			if got := readFile(t, filepath.Join(dir, "io.max")); got != want {
				t.Errorf("%s/io.max = %q, want %q", dir, got, want)
			}
		} else {
			dir := containerCgroupDir(t, "blkio", "", id)
			for name, rate := range map[string]string{"read_bps_device": "1048576", "write_bps_device": "2097152",
				"read_iops_device": "100", "write_iops_device": "200"} {
				if got := readFile(t, filepath.Join(dir, "blkio.throttle."+name)); got != dev+" "+rate {
					t.Errorf("%s/blkio.throttle.%s = %q, want %q", dir, name, got, dev+" "+rate)
				}
			}
		}
		runc(t, b, "delete", "--force", id).wantExit(t, 0)
	})
	t.Run("weight", func(t *testing.T) {
		b := newBundle(t, "sleep", "1000")
		weight := uint16(500)
		b.edit(t, func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: &weight}}
		})
		id := uniqueName("blkio")
		r := runc(t, b, "run", "-d", "--bundle", b.dir, id)
		// The weights come with an I/O scheduler that has them; the
		// container's cgroup has the files its parent, ours, has.
		files := []string{"blkio.weight", "blkio.bfq.weight"}
		own := filepath.Join(hierarchyRoot(t, "blkio"), ownCgroup(t, "blkio"))
		if isV2() {
			files = []string{"io.bfq.weight", "io.weight"}
		}
		for _, f := range files {
			if r.code == 0 {
				break
			}
			if testenv.Exists(filepath.Join(own, f)) {
				t.Fatalf("%s has %s, but the weight was refused\n%s", own, f, r)
			}
		}
		if r.code != 0 {
			if r.code != 1 || !strings.Contains(r.stderr, "linux.resources.blockIO.weight: not supported here") {
				t.Errorf("want exit 1 naming blockIO.weight\n%s", r)
			}
			return
		}
		dir := containerCgroupDir(t, "blkio", "", id)
		got := map[string]string{}
		for _, f := range files {
			if testenv.Exists(filepath.Join(dir, f)) {
				got[f] = readFile(t, filepath.Join(dir, f))
			}
		}
		t.Logf("weight files: %v", got)
		if !slices.ContainsFunc([]string{got[files[0]], got[files[1]]}, func(v string) bool {
			return strings.Contains(v, "500") || strings.Contains(v, "4950") // io.weight: 1 + (500-10)*9999/990
		}) {
			t.Errorf("the weight 500 is in none of %v", got)
		}
		runc(t, b, "delete", "--force", id).wantExit(t, 0)
	})
}

// TestPidsLimitSmall: a pids limit of 1 applies to the user's process, not
// to the runtime's own setup (the init's Go runtime starts threads): a
// container that only runs `true` starts every time, through
// minimal-docker run, minimal-runc run, and create and start, where the
// limit is in force once create returns.
func TestPidsLimitSmall(t *testing.T) {
	const runs = 20
	t.Run("minimal-docker --pids-limit 1", func(t *testing.T) {
		for i := range runs {
			if r := run(t, []string{"--pids-limit", "1"}, "true"); r.code != 0 {
				t.Fatalf("run %d of %d: exit %d\n%s", i+1, runs, r.code, r)
			}
		}
	})
	one := int64(1)
	t.Run("minimal-runc run, pids.limit 1", func(t *testing.T) {
		b := newBundle(t, "true")
		b.edit(t, func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &one}}
		})
		for i := range runs {
			if r := runc(t, b, "run", "--bundle", b.dir, uniqueName("pids1")); r.code != 0 {
				t.Fatalf("run %d of %d: exit %d\n%s", i+1, runs, r.code, r)
			}
		}
	})
	t.Run("minimal-runc create and start, pids.limit 1", func(t *testing.T) {
		b := newBundle(t, "sh", "-c", "sleep 1 & echo forked")
		b.edit(t, func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &one}}
		})
		// The limit is the user's program's: the init writes it right
		// before execve (its own runtime may start threads up to then).
		id := uniqueName("pids1")
		runc(t, b, "create", "--bundle", b.dir, id).wantExit(t, 0)
		runc(t, b, "start", id).wantExit(t, 0)
		b.waitStatus(t, id, specs.StateStopped)
		pidsMax := filepath.Join(containerCgroupDir(t, "pids", "", id), "pids.max")
		if got := readFile(t, pidsMax); got != "1" {
			t.Errorf("%s = %s once the program ran, want 1", pidsMax, got)
		}
		runc(t, b, "delete", id).wantExit(t, 0)
		out, _ := os.ReadFile(b.out)
		if strings.Contains(string(out), "forked") || !strings.Contains(string(out), "can't fork") {
			t.Errorf("the shell forked under pids.limit 1, or did not say it could not:\n%s", out)
		}
	})
	t.Run("an update between create and start stands", func(t *testing.T) {
		b := newBundle(t, "true")
		b.edit(t, func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &one}}
		})
		id := uniqueName("pids1")
		runc(t, b, "create", "--bundle", b.dir, id).wantExit(t, 0)
		t.Cleanup(func() { runc(t, b, "delete", "--force", id) })
		runc(t, b, "update", "--pids-limit", "7", id).wantExit(t, 0)
		runc(t, b, "start", id).wantExit(t, 0)
		b.waitStatus(t, id, specs.StateStopped)
		pidsMax := filepath.Join(containerCgroupDir(t, "pids", "", id), "pids.max")
		if got := readFile(t, pidsMax); got != "7" {
			t.Errorf("%s = %s after update --pids-limit 7 in created and start, want 7", pidsMax, got)
		}
	})
}
