package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// result is what a finished minimal-docker process left.
type result struct {
	args   []string
	stdout string
	stderr string
	code   int // exit status; -1 if minimal-docker itself died of a signal
}

func (r result) String() string {
	return fmt.Sprintf("minimal-docker %s\nexit code: %d\nstdout:\n%s\nstderr:\n%s",
		strings.Join(r.args, " "), r.code, testenv.Indent(r.stdout), testenv.Indent(r.stderr))
}

// lines splits stdout into its lines.
func (r result) lines() []string {
	s := strings.TrimRight(r.stdout, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// wantExit fails the test unless the run exited with code.
func (r result) wantExit(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\n%s", r.code, code, r)
	}
}

// wantStderr fails the test unless stderr contains each of subs.
func (r result) wantStderr(t *testing.T, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr does not contain %q\n%s", s, r)
		}
	}
}

// runArgs is the argument list of `minimal-docker run FLAGS ROOTFS COMMAND...`.
func runArgs(flags []string, command ...string) []string {
	args := append([]string{"run"}, flags...)
	args = append(args, env.rootfs)
	return append(args, command...)
}

// run runs a container in the shared rootfs to completion.
func run(t *testing.T, flags []string, command ...string) result {
	t.Helper()
	return md(t, runArgs(flags, command...)...)
}

// md runs minimal-docker with args to completion, stdin from /dev/null.
func md(t *testing.T, args ...string) result {
	t.Helper()
	return start(t, args...).wait(t)
}

// proc is a minimal-docker process started by a test.
type proc struct {
	*testenv.Background
	stdin  io.WriteCloser // nil unless startWithStdin
	stdout *lineBuffer
	stderr *lineBuffer
}

// start starts minimal-docker with args and stdin from /dev/null.
func start(t *testing.T, args ...string) *proc {
	t.Helper()
	return startProc(t, false, nil, args)
}

// startWithStdin starts minimal-docker with args and a pipe as stdin; see
// proc.release. A container reads it only under run -i.
func startWithStdin(t *testing.T, args ...string) *proc {
	t.Helper()
	return startProc(t, true, nil, args)
}

// startProc starts minimal-docker with args; configure, if not nil, may
// adjust the command before it starts.
func startProc(t *testing.T, withStdin bool, configure func(*exec.Cmd), args []string) *proc {
	t.Helper()
	testenv.RequireRoot(t)
	track(t) // before the kill cleanup below, so that it runs after it
	p := &proc{stdout: newLineBuffer(), stderr: newLineBuffer()}
	cmd := exec.Command(env.bin, args...)
	cmd.Stdout = p.stdout
	cmd.Stderr = p.stderr
	// If the container leaves processes holding stdout or stderr, Wait
	// still returns this long after minimal-docker exited.
	cmd.WaitDelay = 10 * time.Second
	if withStdin {
		w, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		p.stdin = w
	}
	if configure != nil {
		configure(cmd)
	}
	var err error
	if p.Background, err = testenv.StartBackground(cmd); err != nil {
		t.Fatalf("start %s: %v", env.bin, err)
	}
	t.Cleanup(p.kill)
	return p
}

// result is what p has left so far; call after p.Done is closed.
func (p *proc) result() result {
	code := -1
	if ps := p.Cmd.ProcessState; ps != nil {
		code = ps.ExitCode()
	}
	return result{args: p.Cmd.Args[1:], stdout: p.stdout.String(), stderr: p.stderr.String(), code: code}
}

// wait waits (bounded by env.timeout) for minimal-docker to exit.
func (p *proc) wait(t *testing.T) result {
	t.Helper()
	select {
	case <-p.Done:
	case <-time.After(env.timeout):
		p.kill()
		t.Fatalf("minimal-docker still running after %v; killed it\n%s", env.timeout, p.result())
	}
	r := p.result()
	if ps := p.Cmd.ProcessState; ps != nil {
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			t.Logf("minimal-docker itself was killed by %v", ws.Signal())
		}
	}
	return r
}

// waitLine waits (bounded by env.timeout) until stdout has a line equal to
// want, and fails the test if minimal-docker exits first.
func (p *proc) waitLine(t *testing.T, want string) {
	t.Helper()
	p.waitLineOr(t, want, p.Done)
}

// waitLineOr is waitLine, failing when done is closed first (nil: only
// the deadline bounds the wait, for output that may come after the exit).
func (p *proc) waitLineOr(t *testing.T, want string, done <-chan struct{}) {
	t.Helper()
	deadline := time.After(env.timeout)
	for {
		changed, found := p.stdout.has(want)
		if found {
			return
		}
		select {
		case <-changed:
		case <-done:
			if _, found := p.stdout.has(want); found {
				return
			}
			t.Fatalf("minimal-docker exited before printing %q\n%s", want, p.result())
		case <-deadline:
			p.kill()
			t.Fatalf("no line %q after %v; killed minimal-docker\n%s", want, env.timeout, p.result())
		}
	}
}

// release writes a line to the container's stdin and closes it, for a
// container that waits with `read`.
func (p *proc) release(t *testing.T) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, "go\n"); err != nil {
		t.Errorf("write stdin: %v", err)
	}
	// Wait closes the pipe once minimal-docker exits, which may already
	// have happened.
	if err := p.stdin.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		t.Errorf("close stdin: %v", err)
	}
}

// signal sends sig to the minimal-docker process.
func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(p.Pid(), sig); err != nil {
		t.Fatalf("kill -%v %d: %v", sig, p.Pid(), err)
	}
}

// containerPID is the host PID of the container's PID 1: the child of
// minimal-docker whose innermost PID is 1. Call it once the container has
// shown it runs (after waitLine).
func (p *proc) containerPID(t *testing.T) int {
	t.Helper()
	deadline := time.Now().Add(env.timeout)
	for time.Now().Before(deadline) && !p.Exited() {
		for _, pid := range children(p.Pid()) {
			if ns := testenv.NSpid(pid); len(ns) > 1 && ns[len(ns)-1] == "1" {
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("found no container PID 1 among the children of minimal-docker (pid %d)\n%s", p.Pid(), p.result())
	return 0
}

// kill ends p and everything beneath it, by PID: the descendants first (the
// container's PID 1 takes its namespace with it), then, if minimal-docker
// does not exit on its own within 10s, minimal-docker itself.
func (p *proc) kill() {
	if p.Exited() {
		return
	}
	for _, pid := range testenv.Descendants(p.Pid()) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	select {
	case <-p.Done:
		return
	case <-time.After(10 * time.Second):
	}
	p.Cmd.Process.Kill()
	select {
	case <-p.Done:
	case <-time.After(10 * time.Second):
	}
}

// lineBuffer collects a stream and lets a reader wait for a line.
type lineBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newLineBuffer() *lineBuffer {
	return &lineBuffer{changed: make(chan struct{})}
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	close(b.changed)
	b.changed = make(chan struct{})
	return len(p), nil
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// has reports whether a complete line equal to want has been written, and
// a channel closed at the next write.
func (b *lineBuffer) has(want string) (<-chan struct{}, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range strings.SplitAfter(b.buf.String(), "\n") {
		if l == want+"\n" {
			return b.changed, true
		}
	}
	return b.changed, false
}

// children lists the PIDs whose parent is pid.
func children(pid int) []int {
	var kids []int
	for p, pp := range testenv.ProcTable() {
		if pp == pid {
			kids = append(kids, p)
		}
	}
	sort.Ints(kids)
	return kids
}

// ---- the leftover check ----

// tracked holds the tests whose leftover check is registered.
var tracked sync.Map // *testing.T -> struct{}

// track registers, once per test, the check that nothing the test's runs
// made is left behind: it snapshots the host's mount table and the cgroup
// directories beneath this process's own cgroup now, and compares them when
// the test ends. It also logs the cgroup mode the test saw.
func track(t *testing.T) {
	t.Helper()
	if _, loaded := tracked.LoadOrStore(t, struct{}{}); loaded {
		return
	}
	t.Logf("cgroup mode: %v", env.hier.Mode)
	before, err := testenv.TakeSnapshot(ownCgroupDirs())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		tracked.Delete(t)
		checkLeftovers(t, before)
	})
}

// checkLeftovers fails the test for every mount and cgroup directory that
// was not there at the snapshot. Mounts under other temporary directories
// (other packages' tests running at the same time) are logged, not
// failures. New cgroup directories get a few seconds to vanish, in case
// another user's container was passing by.
func checkLeftovers(t *testing.T, before testenv.Snapshot) {
	mounts, err := before.LeftoverMounts(env.tmp, t.Logf)
	if err != nil {
		t.Error(err)
	}
	for _, m := range mounts {
		t.Errorf("leftover mount in the host's mount table: %s", m.Line)
	}
	for _, d := range before.NewCgroups(ownCgroupDirs(), 5*time.Second) {
		t.Errorf("leftover cgroup directory: %s", d)
	}
}

// ---- cgroups as seen from the host ----

// ownCgroupDirs lists this process's cgroup directory in each hierarchy.
func ownCgroupDirs() []string { return testenv.OwnCgroupDirs(env.hier.V1, env.hier.Unified, env.self) }

// isV2 reports whether the controllers live in the unified (v2) tree.
func isV2() bool { return env.hier.Mode == cgroups.V2 }

// hierarchyRoot is the mount point of the hierarchy holding controller.
func hierarchyRoot(t *testing.T, controller string) string {
	t.Helper()
	if isV2() {
		return env.hier.Unified
	}
	mnt, ok := env.hier.V1[controller]
	if !ok {
		t.Fatalf("no v1 hierarchy holds the %s controller (hierarchies: %v)", controller, env.hier.V1)
	}
	return mnt
}

// ownCgroup is this process's cgroup path (from the hierarchy root) for
// controller; minimal-docker, its child, starts there.
func ownCgroup(t *testing.T, controller string) string {
	t.Helper()
	key := controller
	if isV2() {
		key = ""
	}
	p, ok := env.self[key]
	if !ok {
		t.Fatalf("this process has no cgroup for %q in /proc/self/cgroup (%v)", key, env.self)
	}
	return p
}

// containerCgroupDir is the host directory of a container's cgroup for
// controller, for a container started with --cgroup-parent parent ("" for
// the default) that has ID id.
func containerCgroupDir(t *testing.T, controller, parent, id string) string {
	t.Helper()
	root := hierarchyRoot(t, controller)
	if strings.HasPrefix(parent, "/") {
		return filepath.Join(root, parent, id)
	}
	return filepath.Join(root, ownCgroup(t, controller), parent, id)
}

// limits are the resource limits written in a container's cgroup; -1 means
// unlimited.
type limits struct {
	memory    int64 // bytes
	pids      int64
	cpuQuota  int64 // microseconds per period
	cpuPeriod int64 // microseconds
}

// unlimitedMemoryV1 is the smallest value v1 treats as no limit (it shows
// PAGE_COUNTER_MAX pages, rounded down).
const unlimitedMemoryV1 = 1 << 62

// readLimits reads the limits of the container cgroup found by dir (a
// controller to directory function), in whichever layout is in force. It
// also checks that swap does not extend a memory limit.
func readLimits(t *testing.T, dir func(controller string) string) limits {
	t.Helper()
	var l limits
	if isV2() {
		d := dir("memory")
		l.memory = readIntOrMax(t, filepath.Join(d, "memory.max"))
		if l.memory != -1 {
			if swap := filepath.Join(d, "memory.swap.max"); testenv.Exists(swap) {
				if got := readIntOrMax(t, swap); got != 0 {
					t.Errorf("%s = %d, want 0 so that the memory limit includes swap", swap, got)
				}
			}
		}
		l.pids = readIntOrMax(t, filepath.Join(dir("pids"), "pids.max"))
		f := strings.Fields(readFile(t, filepath.Join(dir("cpu"), "cpu.max")))
		if len(f) != 2 {
			t.Fatalf("cpu.max: unexpected %q", f)
		}
		l.cpuQuota = parseIntOrMax(t, f[0])
		l.cpuPeriod = parseIntOrMax(t, f[1])
		t.Logf("read back (v2): %s/memory.max=%d pids.max=%d cpu.max=%q", d, l.memory, l.pids, strings.Join(f, " "))
		return l
	}
	d := dir("memory")
	l.memory = readIntOrMax(t, filepath.Join(d, "memory.limit_in_bytes"))
	if l.memory >= unlimitedMemoryV1 {
		l.memory = -1
	}
	if memsw := filepath.Join(d, "memory.memsw.limit_in_bytes"); l.memory != -1 && testenv.Exists(memsw) {
		if got := readIntOrMax(t, memsw); got != l.memory {
			t.Errorf("%s = %d, want %d (the memory limit) so that swap does not extend it", memsw, got, l.memory)
		}
	}
	l.pids = readIntOrMax(t, filepath.Join(dir("pids"), "pids.max"))
	l.cpuQuota = readIntOrMax(t, filepath.Join(dir("cpu"), "cpu.cfs_quota_us"))
	l.cpuPeriod = readIntOrMax(t, filepath.Join(dir("cpu"), "cpu.cfs_period_us"))
	t.Logf("read back (v1): memory.limit_in_bytes=%d pids.max=%d cpu.cfs_quota_us=%d cpu.cfs_period_us=%d", l.memory, l.pids, l.cpuQuota, l.cpuPeriod)
	return l
}

// cpus is the quota as a number of CPUs, 0 for no quota.
func (l limits) cpus() float64 {
	if l.cpuQuota < 0 || l.cpuPeriod <= 0 {
		return 0
	}
	return float64(l.cpuQuota) / float64(l.cpuPeriod)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func readIntOrMax(t *testing.T, path string) int64 {
	t.Helper()
	return parseIntOrMax(t, readFile(t, path))
}

// parseIntOrMax parses a cgroup number; "max" is -1.
func parseIntOrMax(t *testing.T, s string) int64 {
	t.Helper()
	if s == "max" {
		return -1
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("cgroup value %q: %v", s, err)
	}
	return n
}

// cgroupHasPID reports whether pid is listed in dir/cgroup.procs.
func cgroupHasPID(t *testing.T, dir string, pid int) bool {
	t.Helper()
	for _, f := range strings.Fields(readFile(t, filepath.Join(dir, "cgroup.procs"))) {
		if f == strconv.Itoa(pid) {
			return true
		}
	}
	return false
}

// readCID reads the container ID minimal-docker wrote to a --cidfile.
func readCID(t *testing.T, path string) string {
	t.Helper()
	id := readFile(t, path)
	if id == "" || strings.ContainsAny(id, "/ \n") || id == "." || id == ".." {
		t.Fatalf("--cidfile %s holds %q, want a container ID", path, id)
	}
	return id
}

// uniqueName is a name no other test or test run uses at the same time.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), time.Now().UnixNano())
}

// ---- small things ----

// hostNamespace is the host's (this process's) namespace link for kind.
func hostNamespace(t *testing.T, kind string) string {
	t.Helper()
	l, err := os.Readlink("/proc/self/ns/" + kind)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// interfaces lists the interface names in /proc/net/dev text.
func interfaces(procNetDev string) []string {
	var names []string
	for _, line := range strings.Split(procNetDev, "\n") {
		name, _, ok := strings.Cut(line, ":")
		if ok && !strings.Contains(name, "|") {
			names = append(names, strings.TrimSpace(name))
		}
	}
	sort.Strings(names)
	return names
}
