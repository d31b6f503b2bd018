package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"golang.org/x/sys/unix"
)

// statePaused is the status runc reports for a paused container (the
// spec's states end at stopped).
const statePaused specs.ContainerState = "paused"

// ticker writes a line to its stdout every tenth of a second, forever.
var ticker = []string{"sh", "-c", "while true; do echo tick; sleep 0.1; done"}

// runDetached starts the bundle's container as id with run -d, and makes
// sure that, whatever happens to the test, it is resumed before the
// bundle's cleanup deletes it (frozen processes do not die).
func runDetached(t *testing.T, b *ociBundle, id string) specs.State {
	t.Helper()
	runc(t, b, "run", "-d", "--bundle", b.dir, id).wantExit(t, 0)
	t.Cleanup(func() {
		var st specs.State
		if r := runc(t, b, "state", id); r.code == 0 && json.Unmarshal([]byte(r.stdout), &st) == nil && st.Status == statePaused {
			runc(t, b, "resume", id)
		}
	})
	return b.waitStatus(t, id, specs.StateRunning)
}

// ticks counts the ticks the container has written so far.
func ticks(t *testing.T, b *ociBundle) int {
	t.Helper()
	data, err := os.ReadFile(b.out)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "tick\n")
}

// waitTicks waits (bounded by env.timeout) until the container has written
// more than n ticks.
func waitTicks(t *testing.T, b *ociBundle, n int) {
	t.Helper()
	waitFile(t, b.out, strings.Repeat("tick\n", n+1))
}

// freezerDir is the host directory that holds the container's freezer
// state: its freezer cgroup on v1, its one cgroup on v2.
func freezerDir(t *testing.T, id string) string {
	t.Helper()
	return containerCgroupDir(t, "freezer", "", id)
}

// frozen reports whether the host says the container's cgroup is frozen:
// freezer.state on v1, the "frozen" key of cgroup.events on v2.
func frozen(t *testing.T, id string) bool {
	t.Helper()
	dir := freezerDir(t, id)
	if isV2() {
		for _, line := range strings.Split(readFile(t, filepath.Join(dir, "cgroup.events")), "\n") {
			if line == "frozen 1" {
				return true
			}
		}
		return false
	}
	switch s := readFile(t, filepath.Join(dir, "freezer.state")); s {
	case "FROZEN":
		return true
	case "THAWED":
		return false
	default:
		t.Fatalf("%s/freezer.state = %q, want FROZEN or THAWED", dir, s)
		return false
	}
}

// procState is field 3 of /proc/PID/stat (R, S, D, T, Z, ...).
func procState(t *testing.T, pid int) string {
	t.Helper()
	s := readFile(t, fmt.Sprintf("/proc/%d/stat", pid))
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return f[0]
}

// psJSON returns the pids `ps --format json` lists.
func psJSON(t *testing.T, b *ociBundle, id string) []int {
	t.Helper()
	r := runc(t, b, "ps", "--format", "json", id)
	r.wantExit(t, 0)
	var pids []int
	if err := json.Unmarshal([]byte(r.stdout), &pids); err != nil {
		t.Fatalf("ps --format json is not a JSON array of pids: %v\n%s", err, r)
	}
	return pids
}

// TestRuncPauseResume pauses a container that keeps writing, and checks
// the host's view: the state, the freezer, every process of the container
// frozen, and no output while paused; after resume, all of it undone and
// the output growing again.
func TestRuncPauseResume(t *testing.T) {
	b := newBundle(t, ticker...)
	id := uniqueName("pz")
	st := runDetached(t, b, id)
	waitTicks(t, b, 1)
	if frozen(t, id) {
		t.Fatal("the freezer reads frozen before pause")
	}

	runc(t, b, "pause", id).wantExit(t, 0)
	if got := b.state(t, id); got.Status != statePaused || got.Pid != st.Pid {
		t.Fatalf("state after pause = %s pid %d, want paused pid %d", got.Status, got.Pid, st.Pid)
	}
	if !frozen(t, id) {
		t.Fatalf("the host's freezer does not read frozen after pause (%s)", freezerDir(t, id))
	}
	pids := psJSON(t, b, id)
	if len(pids) == 0 {
		t.Fatal("ps lists no process in a paused container")
	}
	if !isV2() {
		// A task frozen by the v1 freezer sleeps uninterruptibly.
		for _, pid := range pids {
			if s := procState(t, pid); s != "D" {
				t.Errorf("process %d of the paused container is in state %s, want D (frozen)", pid, s)
			}
		}
	}
	// Frozen means no task runs: once the kernel reports the cgroup frozen,
	// no tick can follow, however long the commands below take.
	n := ticks(t, b)
	if l := runc(t, b, "list"); !strings.Contains(l.stdout, "paused") {
		t.Errorf("list does not show the container paused:\n%s", l)
	}
	if r := runc(t, b, "pause", id); r.code == 0 {
		t.Errorf("a second pause succeeded\n%s", r)
	}
	if got := ticks(t, b); got != n {
		t.Errorf("the paused container wrote %d more ticks", got-n)
	}

	runc(t, b, "resume", id).wantExit(t, 0)
	if got := b.state(t, id); got.Status != specs.StateRunning {
		t.Fatalf("state after resume = %s, want running", got.Status)
	}
	if frozen(t, id) {
		t.Error("the host's freezer still reads frozen after resume")
	}
	waitTicks(t, b, n)
	if r := runc(t, b, "resume", id); r.code == 0 || !strings.Contains(r.stderr, "not paused") {
		t.Errorf("resume of a running container: want a refusal naming 'not paused'\n%s", r)
	}

	runc(t, b, "delete", "--force", id).wantExit(t, 0)
}

// TestRuncDeleteForcePaused: delete --force of a paused container kills
// its init (thawing it, or it could not die), waits until it is gone and
// removes the container.
func TestRuncDeleteForcePaused(t *testing.T) {
	b := newBundle(t, ticker...)
	id := uniqueName("pzd")
	st := runDetached(t, b, id)
	runc(t, b, "pause", id).wantExit(t, 0)
	runc(t, b, "delete", "--force", id).wantExit(t, 0)
	if r := runc(t, b, "state", id); r.code == 0 {
		t.Errorf("state after delete --force: the container is still there\n%s", r)
	}
	if err := unix.Kill(st.Pid, 0); !errors.Is(err, unix.ESRCH) {
		if z, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", st.Pid)); !strings.Contains(string(z), ") Z ") {
			t.Errorf("init %d after delete --force: kill(0) = %v, want it gone", st.Pid, err)
		}
	}
}

// TestRuncPauseRefused: only a running container can be paused, only a
// paused one resumed.
func TestRuncPauseRefused(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	id := uniqueName("cr")
	runc(t, b, "create", "--bundle", b.dir, id).wantExit(t, 0)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"pause", id}, "created -> paused"},
		{[]string{"resume", id}, "not paused"},
		{[]string{"pause", "nope"}, "does not exist"},
		{[]string{"resume", "nope"}, "does not exist"},
	} {
		if r := runc(t, b, tc.args...); r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: want a failure naming %q\n%s", tc.args, tc.want, r)
		}
	}
	if st := b.state(t, id); st.Status != specs.StateCreated {
		t.Errorf("state after the refused commands = %s, want created", st.Status)
	}
	runc(t, b, "delete", id).wantExit(t, 0)
}

// memoryFiles are the host files of the container's memory limit and of
// memory+swap (v1) or swap alone (v2).
func memoryFiles(t *testing.T, id string) (limit, swap string) {
	t.Helper()
	dir := containerCgroupDir(t, "memory", "", id)
	if isV2() {
		return filepath.Join(dir, "memory.max"), filepath.Join(dir, "memory.swap.max")
	}
	return filepath.Join(dir, "memory.limit_in_bytes"), filepath.Join(dir, "memory.memsw.limit_in_bytes")
}

// wantMemory checks the container's memory limit and memory+swap limit in
// the host's files (bytes; -1 unlimited). Without swap accounting only the
// memory limit is checked.
func wantMemory(t *testing.T, id string, limit, memsw int64) {
	t.Helper()
	lf, sf := memoryFiles(t, id)
	norm := func(n int64) int64 {
		if n >= unlimitedMemoryV1 {
			return -1
		}
		return n
	}
	if got := norm(readIntOrMax(t, lf)); got != limit {
		t.Errorf("%s = %d, want %d", lf, got, limit)
	}
	if !testenv.Exists(sf) {
		t.Logf("no swap accounting (%s): memory+swap not checked", sf)
		return
	}
	got := norm(readIntOrMax(t, sf))
	if isV2() && got != -1 && limit != -1 {
		got += limit // memory.swap.max counts swap alone
	}
	if got != memsw {
		t.Errorf("memory+swap limit from %s = %d, want %d", sf, got, memsw)
	}
}

// TestRuncUpdate changes the limits of a running container with each way
// update takes them, and reads the new limits from the host's cgroup
// files. Raising and lowering memory together with memory+swap needs the
// two writes in opposite orders on v1.
func TestRuncUpdate(t *testing.T) {
	const mib = 1 << 20
	b := newBundle(t, "sleep", "1000")
	id := uniqueName("up")
	mem, pids, quota, period := int64(64*mib), int64(50), int64(50000), uint64(100000)
	setResources(t, b, &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &mem, Swap: &mem},
		Pids:   &specs.LinuxPids{Limit: &pids},
		CPU:    &specs.LinuxCPU{Quota: &quota, Period: &period},
	})
	runDetached(t, b, id)
	wantMemory(t, id, 64*mib, 64*mib)

	dir := func(c string) string { return containerCgroupDir(t, c, "", id) }
	cpu := func() (int64, int64) {
		if isV2() {
			f := strings.Fields(readFile(t, filepath.Join(dir("cpu"), "cpu.max")))
			return parseIntOrMax(t, f[0]), parseIntOrMax(t, f[1])
		}
		return readIntOrMax(t, filepath.Join(dir("cpu"), "cpu.cfs_quota_us")),
			readIntOrMax(t, filepath.Join(dir("cpu"), "cpu.cfs_period_us"))
	}

	steps := []struct {
		name  string
		args  []string
		check func(t *testing.T)
	}{
		{"raise memory and memory+swap", []string{"--memory", "128m", "--memory-swap", "256m"},
			func(t *testing.T) { wantMemory(t, id, 128*mib, 256*mib) }},
		{"lower both", []string{"--memory", "32m", "--memory-swap", "48m"},
			func(t *testing.T) { wantMemory(t, id, 32*mib, 48*mib) }},
		{"memory alone, within memory+swap", []string{"--memory", "40m"},
			func(t *testing.T) { wantMemory(t, id, 40*mib, 48*mib) }},
		{"bytes", []string{"--memory", "50331648", "--memory-swap", "50331648"},
			func(t *testing.T) { wantMemory(t, id, 48*mib, 48*mib) }},
		{"pids", []string{"--pids-limit", "20"}, func(t *testing.T) {
			if got := readIntOrMax(t, filepath.Join(dir("pids"), "pids.max")); got != 20 {
				t.Errorf("pids.max = %d, want 20", got)
			}
		}},
		{"cpu quota and period", []string{"--cpu-quota", "20000", "--cpu-period", "50000"}, func(t *testing.T) {
			if q, p := cpu(); q != 20000 || p != 50000 {
				t.Errorf("cpu quota %d per %d, want 20000 per 50000", q, p)
			}
		}},
		{"cpu period alone keeps the quota", []string{"--cpu-period", "100000"}, func(t *testing.T) {
			if q, p := cpu(); q != 20000 || p != 100000 {
				t.Errorf("cpu quota %d per %d, want 20000 per 100000", q, p)
			}
		}},
		{"unlimited", []string{"--memory", "-1", "--pids-limit", "-1", "--cpu-quota", "-1"}, func(t *testing.T) {
			wantMemory(t, id, -1, -1)
			if got := readIntOrMax(t, filepath.Join(dir("pids"), "pids.max")); got != -1 {
				t.Errorf("pids.max = %d, want max", got)
			}
			if q, _ := cpu(); q != -1 {
				t.Errorf("cpu quota %d, want none", q)
			}
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			runc(t, b, append(append([]string{"update"}, s.args...), id)...).wantExit(t, 0)
			s.check(t)
		})
	}

	t.Run("resources file", func(t *testing.T) {
		file := filepath.Join(b.dir, "resources.json")
		doc := `{"memory":{"limit":100663296,"swap":201326592},"pids":{"limit":30}}`
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		runc(t, b, "update", "--resources", file, id).wantExit(t, 0)
		wantMemory(t, id, 96*mib, 192*mib)
		if got := readIntOrMax(t, filepath.Join(dir("pids"), "pids.max")); got != 30 {
			t.Errorf("pids.max = %d, want 30", got)
		}
	})
	t.Run("resources on stdin", func(t *testing.T) {
		out, code := runcWithStdin(t, b, `{"memory":{"limit":67108864,"swap":67108864}}`, "update", "-r", "-", id)
		if code != 0 {
			t.Fatalf("update -r - exit code %d\n%s", code, out)
		}
		wantMemory(t, id, 64*mib, 64*mib)
	})

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"memory above memory+swap", []string{"--memory", "128m"}, "below the memory limit"},
		{"unsupported limit", []string{"--cpu-share", "512"}, "cpu.shares"},
		{"bad size", []string{"--memory", "lots"}, "invalid --memory"},
		{"missing container", []string{"--pids-limit", "5"}, "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := id
			if tc.name == "missing container" {
				target = "nope"
			}
			r := runc(t, b, append(append([]string{"update"}, tc.args...), target)...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("want a failure naming %q\n%s", tc.want, r)
			}
		})
	}
	// The refused updates changed nothing.
	wantMemory(t, id, 64*mib, 64*mib)

	runc(t, b, "kill", id, "KILL").wantExit(t, 0)
	b.waitStatus(t, id, specs.StateStopped)
	if r := runc(t, b, "update", "--pids-limit", "5", id); r.code == 0 || !strings.Contains(r.stderr, "not running") {
		t.Errorf("update of a stopped container: want a refusal\n%s", r)
	}
	runc(t, b, "delete", id).wantExit(t, 0)
}

// runcWithStdin runs minimal-runc --root B.root ARGS with stdin, and returns
// its combined output and exit status.
func runcWithStdin(t *testing.T, b *ociBundle, stdin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), env.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.runc, append([]string{"--root", b.root}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run()
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	return out.String(), code
}

// TestRuncPs: ps lists the container's processes by host pid, the init
// first among them, as JSON and as ps -ef rows.
func TestRuncPs(t *testing.T) {
	b := newBundle(t, "sh", "-c", "sleep 1000 & echo started; wait")
	id := uniqueName("ps1")
	st := runDetached(t, b, id)
	waitFile(t, b.out, "started")

	pids := psJSON(t, b, id)
	if len(pids) != 2 || pids[0] != st.Pid {
		t.Fatalf("ps --format json = %v, want the init %d and its sleep", pids, st.Pid)
	}
	for _, pid := range pids {
		if !cgroupHasPID(t, containerCgroupDir(t, "pids", "", id), pid) {
			t.Errorf("pid %d listed by ps is not in the container's cgroup", pid)
		}
	}

	// The host's ps -ef (procps: UID PID ... CMD; busybox: PID USER COMMAND).
	r := runc(t, b, "ps", id)
	r.wantExit(t, 0)
	lines := r.lines()
	if len(lines) != 3 {
		t.Fatalf("ps: want the header of ps -ef and two rows\n%s", r)
	}
	col := slices.Index(strings.Fields(lines[0]), "PID")
	if col < 0 || !strings.Contains(lines[0], "CMD") && !strings.Contains(lines[0], "COMMAND") {
		t.Fatalf("ps: the header lacks PID and CMD\n%s", r)
	}
	for i, pid := range pids {
		f := strings.Fields(lines[i+1])
		if len(f) <= col || f[col] != strconv.Itoa(pid) {
			t.Errorf("ps row %d = %q, want pid %d in the PID column", i+1, lines[i+1], pid)
		}
	}
	if !strings.Contains(lines[2], "sleep 1000") {
		t.Errorf("ps row of the sleep lacks its command: %q", lines[2])
	}

	r = runc(t, b, "ps", id, "-o", "pid,comm")
	r.wantExit(t, 0)
	if lines := r.lines(); len(lines) != 3 || strings.Fields(lines[0])[0] != "PID" {
		t.Errorf("ps with ps options: want its header and two rows\n%s", r)
	}
	if r := runc(t, b, "ps", "--format", "yaml", id); r.code == 0 || !strings.Contains(r.stderr, "--format") {
		t.Errorf("ps --format yaml: want a refusal\n%s", r)
	}
	runc(t, b, "delete", "--force", id).wantExit(t, 0)
}

// TestRuncFeatures: features prints the spec's features JSON.
func TestRuncFeatures(t *testing.T) {
	b := newBundle(t, "true")
	r := runc(t, b, "features")
	r.wantExit(t, 0)
	var f features.Features
	if err := json.Unmarshal([]byte(r.stdout), &f); err != nil {
		t.Fatalf("features is not JSON: %v\n%s", err, r)
	}
	if f.OCIVersionMin == "" || f.OCIVersionMax != specs.Version {
		t.Errorf("ociVersionMin %q, ociVersionMax %q; want both, the max %s", f.OCIVersionMin, f.OCIVersionMax, specs.Version)
	}
	if f.Linux == nil || len(f.Linux.Namespaces) == 0 || f.Linux.Cgroup == nil {
		t.Errorf("features lack linux namespaces and cgroup:\n%s", r.stdout)
	}
}

// setResources writes r as linux.resources into the bundle's config.json.
func setResources(t *testing.T, b *ociBundle, r *specs.LinuxResources) {
	t.Helper()
	b.edit(t, func(s *specs.Spec) { s.Linux.Resources = r })
}
