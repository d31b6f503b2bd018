package security

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// ---- running the helper ----

// outcome is what one attempt came to, as the helper reported it, or
// "runtime-failed" when the container never ran the helper (the runtime
// refused the configuration).
type outcome struct {
	token  string // "ok", "errno=NAME", "refused" or "runtime-failed"
	detail string
	code   int    // exit status of the runtime
	output string // everything the runtime and the helper printed
}

func (o outcome) String() string {
	s := o.token
	if o.detail != "" {
		s += " " + o.detail
	}
	return s
}

// parseOutcome finds the helper's line for name in stdout.
func parseOutcome(name, stdout string) (outcome, bool) {
	for _, line := range strings.Split(stdout, "\n") {
		rest, found := strings.CutPrefix(line, name+" ")
		if !found {
			continue
		}
		if why, refused := strings.CutPrefix(rest, "refused: "); refused {
			return outcome{token: "refused", detail: why}, true
		}
		token, detail, _ := strings.Cut(rest, " ")
		return outcome{token: token, detail: detail}, true
	}
	return outcome{}, false
}

// helperEnv is the environment the helper reads (see package escapes).
func helperEnv() []string {
	e := []string{
		"ESCAPE_HOST_NS=" + env.hostNS,
		fmt.Sprintf("ESCAPE_HOST_PIDS=%d,%d", os.Getpid(), os.Getppid()),
		"ESCAPE_HOST_MARKER=" + env.marker,
	}
	if env.blockdev.dev != "" {
		e = append(e, "ESCAPE_BLOCKDEV="+env.blockdev.dev)
	}
	if env.chardev.dev != "" {
		e = append(e, "ESCAPE_CHARDEV="+env.chardev.dev)
	}
	return e
}

// runHelper runs /bin/escape NAME as the command of
// `minimal-docker run FLAGS ROOTFS` and returns what it reported. The error
// is for a run that could not be made or timed out.
func runHelper(flags []string, rootfs, name string, extraEnv ...string) (outcome, error) {
	args := append([]string{"run"}, flags...)
	for _, e := range append(helperEnv(), extraEnv...) {
		args = append(args, "-e", e)
	}
	args = append(args, rootfs, "/bin/escape", name)
	stdout, stderr, code, err := runCommand(env.bin, args...)
	o, found := parseOutcome(name, stdout)
	o.code = code
	o.output = fmt.Sprintf("minimal-docker %s\nexit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
	if err != nil {
		return o, fmt.Errorf("%w\n%s", err, o.output)
	}
	if !found {
		o.token, o.detail = "runtime-failed", testenv.FirstLine(stderr)
	}
	return o, nil
}

// runCommand runs a binary to completion, stdin from /dev/null, bounded by
// env.timeout.
func runCommand(bin string, args ...string) (stdout, stderr string, code int, err error) {
	return runCmd(func(ctx context.Context) *exec.Cmd { return exec.CommandContext(ctx, bin, args...) })
}

// runCmd runs the command that mk makes with a context bounded by
// env.timeout, as runCommand does.
func runCmd(mk func(ctx context.Context) *exec.Cmd) (stdout, stderr string, code int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), env.timeout)
	defer cancel()
	cmd := mk(ctx)
	bin := cmd.Path
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Run()
	code = -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && ctx.Err() == nil {
		err = nil // a status, not a failure to run
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%s timed out after %v", bin, env.timeout)
	}
	return out.String(), errb.String(), code, err
}

// containerStatus returns the fields of /proc/self/status of a container
// run with flags.
func containerStatus(flags []string) (map[string]string, error) {
	args := append(append([]string{"run"}, flags...), env.rootfs, "cat", "/proc/self/status")
	stdout, stderr, code, err := runCommand(env.bin, args...)
	if err != nil || code != 0 {
		return nil, fmt.Errorf("minimal-docker %s: exit %d %v: %s", strings.Join(args, " "), code, err, stderr)
	}
	return testenv.StatusFields(stdout), nil
}

// requireSuite skips the test unless it runs as root and the containers
// are isolated enough for the attempts to be safe.
func requireSuite(t *testing.T) {
	t.Helper()
	testenv.RequireRoot(t)
	if env.isolation != "" {
		t.Skipf("SKIPPING: %s", env.isolation)
	}
}

// ---- what the host's kernel offers ----

// hostFacts are what the host's kernel has and how it is configured: some
// cases get an answer from the kernel itself (a feature not built in, a
// sysctl that restricts it), whatever the runtime does.
type hostFacts struct {
	release                         string
	major, minor                    int
	modules, kexec, ioports, timeNS bool
	kcore, sysrq                    bool
	perfParanoid, bpfUnprivDisabled int // -1: the sysctl does not exist
	uffdUnpriv, dmesgRestrict, yama int
	ioUringDisabled                 int
	keyring                         int // the test's own session keyring
}

func readHostFacts() hostFacts {
	var h hostFacts
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		h.release = unix.ByteSliceToString(u.Release[:])
		fmt.Sscanf(h.release, "%d.%d", &h.major, &h.minor)
	}
	h.modules = testenv.Exists("/proc/modules")
	h.kexec = testenv.Exists("/sys/kernel/kexec_loaded")
	h.timeNS = testenv.Exists("/proc/self/ns/time")
	h.kcore = testenv.Exists("/proc/kcore")
	h.sysrq = testenv.Exists("/proc/sysrq-trigger")
	// iopl(0) keeps this process's level at 0: no privilege, no change;
	// ENOSYS tells a kernel without CONFIG_X86_IOPL_IOPERM.
	h.ioports = !errors.Is(unix.Iopl(0), unix.ENOSYS)
	h.perfParanoid = sysctlInt("/proc/sys/kernel/perf_event_paranoid")
	h.bpfUnprivDisabled = sysctlInt("/proc/sys/kernel/unprivileged_bpf_disabled")
	h.uffdUnpriv = sysctlInt("/proc/sys/vm/unprivileged_userfaultfd")
	h.dmesgRestrict = sysctlInt("/proc/sys/kernel/dmesg_restrict")
	h.yama = sysctlInt("/proc/sys/kernel/yama/ptrace_scope")
	h.ioUringDisabled = sysctlInt("/proc/sys/kernel/io_uring_disabled")
	h.keyring, _ = unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
	return h
}

func (h hostFacts) String() string {
	return fmt.Sprintf("kernel %s modules=%v kexec=%v ioports=%v timens=%v kcore=%v sysrq=%v perf_event_paranoid=%d unprivileged_bpf_disabled=%d unprivileged_userfaultfd=%d dmesg_restrict=%d yama=%d io_uring_disabled=%d",
		h.release, h.modules, h.kexec, h.ioports, h.timeNS, h.kcore, h.sysrq, h.perfParanoid, h.bpfUnprivDisabled, h.uffdUnpriv, h.dmesgRestrict, h.yama, h.ioUringDisabled)
}

// atLeast reports whether the kernel is version major.minor or newer.
func (h hostFacts) atLeast(major, minor int) bool {
	return h.major > major || h.major == major && h.minor >= minor
}

func sysctlInt(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}

// ---- the device cgroup, seen from the host ----

// deviceCgroupMissing says why a default container is not under a device
// cgroup, "" if it is: v1, its devices.list allows everything; v2, no
// BPF_CGROUP_DEVICE program is attached to its cgroup.
func deviceCgroupMissing() string {
	if !env.cgroupV2 {
		o, err := runHelper(nil, env.rootfs, "devices-list")
		switch {
		case err != nil:
			return err.Error()
		case o.token != "ok":
			return "devices.list: " + o.String()
		case strings.Contains(o.detail, "a *:* rwm"):
			return "the container's devices.list is " + o.detail
		}
		return ""
	}
	n, err := v2DeviceProgs()
	if err != nil {
		return "cannot query the container's device programs: " + err.Error()
	}
	if n == 0 {
		return "no BPF_CGROUP_DEVICE program on the container's cgroup"
	}
	return ""
}

// v2DeviceProgs starts a container that sleeps, finds its cgroup and
// counts the BPF_CGROUP_DEVICE programs attached there.
func v2DeviceProgs() (int, error) {
	cmd := exec.Command(env.bin, "run", env.rootfs, "sleep", "30")
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		for _, pid := range descendants(cmd.Process.Pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		cmd.Wait()
	}()
	pid := 0
	for deadline := time.Now().Add(env.timeout); pid == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, p := range descendants(cmd.Process.Pid) {
			if ns := testenv.NSpid(p); len(ns) > 1 && ns[len(ns)-1] == "1" {
				if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p)); strings.HasSuffix(exe, "/busybox") {
					pid = p
				}
			}
		}
	}
	if pid == 0 {
		return 0, errors.New("the container's sleep never showed up")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return 0, err
	}
	rel := ""
	for _, l := range strings.Split(string(b), "\n") {
		if r, ok := strings.CutPrefix(l, "0::"); ok {
			rel = r
		}
	}
	hier, err := cgroups.FindHierarchies()
	if err != nil {
		return 0, err
	}
	dir, err := os.Open(filepath.Join(hier.Unified, rel))
	if err != nil {
		return 0, err
	}
	defer dir.Close()
	const bpfProgQuery, bpfCgroupDevice = 16, 6
	var attr struct {
		targetFD    uint32
		attachType  uint32
		queryFlags  uint32
		attachFlags uint32
		progIDs     uint64
		progCnt     uint32
		_           [44]byte
	}
	attr.targetFD = uint32(dir.Fd())
	attr.attachType = bpfCgroupDevice
	_, _, e := unix.Syscall(unix.SYS_BPF, bpfProgQuery, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if e != 0 {
		return 0, e
	}
	return int(attr.progCnt), nil
}

// descendants lists the PIDs beneath pid, highest PID first.
func descendants(pid int) []int {
	out := testenv.Descendants(pid)
	sort.Sort(sort.Reverse(sort.IntSlice(out)))
	return out
}

// ---- the host, before and after ----

// hostState is what an escape would change on the host.
type hostState struct {
	at       time.Time // wall and monotonic clock
	hostname string
	files    map[string]string // path -> content, SHA-256 or listing
	mounts   testenv.Snapshot  // the mount table (no cgroups: the suite does not check them)
}

// alwaysWatched are host files every case is checked against: the values
// the cases touch in /proc/sys and /sys, the swap areas, the marker.
var alwaysWatched = []string{
	"/proc/sys/kernel/core_pattern",
	"/proc/sys/kernel/ctrl-alt-del",
	"/proc/sys/kernel/hostname",
	"/proc/sys/kernel/domainname",
	"/proc/sys/kernel/modules_disabled",
	"/proc/sys/kernel/sysrq",
	"/sys/kernel/kexec_loaded",
	"/sys/kernel/uevent_helper",
	"/sys/kernel/mm/ksm/run",
	"/proc/swaps",
}

// takeHostState records the host; extra names more files or directories
// (a directory is recorded as its listing).
func takeHostState(t *testing.T, extra []string) hostState {
	t.Helper()
	h := hostState{at: time.Now(), files: map[string]string{}}
	var err error
	if h.hostname, err = os.Hostname(); err != nil {
		t.Fatal(err)
	}
	for _, p := range append(append(append([]string{}, alwaysWatched...), env.marker), extra...) {
		h.files[p] = fingerprint(p)
	}
	for _, p := range []string{env.bin, env.runc} {
		sum, err := sha256File(p)
		if err != nil {
			t.Fatal(err)
		}
		h.files[p] = "sha256:" + sum
	}
	if h.mounts, err = testenv.TakeSnapshot(nil); err != nil {
		t.Fatal(err)
	}
	return h
}

// fingerprint is a file's content, a directory's listing, or why neither.
func fingerprint(p string) string {
	fi, err := os.Stat(p)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	if fi.IsDir() {
		entries, err := os.ReadDir(p)
		if err != nil {
			return "<" + err.Error() + ">"
		}
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return "dir:" + strings.Join(names, ",")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// hostChanges compares the host now with before and lists what changed:
// the clock (by more than a second against the monotonic clock), the host
// name, the watched files, the binaries' hashes, new mounts (those beneath
// other packages' temporary directories aside: tests run side by side).
func hostChanges(t *testing.T, before hostState, extra []string) []string {
	t.Helper()
	after := takeHostState(t, extra)
	var diffs []string
	wall := after.at.Round(0).Sub(before.at.Round(0))
	mono := after.at.Sub(before.at)
	if d := wall - mono; d > time.Second || d < -time.Second {
		diffs = append(diffs, fmt.Sprintf("the clock moved by %v against the monotonic clock", d))
	}
	if after.hostname != before.hostname {
		diffs = append(diffs, fmt.Sprintf("hostname %q -> %q", before.hostname, after.hostname))
	}
	keys := make([]string, 0, len(after.files))
	for k := range after.files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if before.files[k] != after.files[k] {
			diffs = append(diffs, fmt.Sprintf("%s: %q -> %q", k, short(before.files[k]), short(after.files[k])))
		}
	}
	mounts, err := before.mounts.LeftoverMounts(env.tmp, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mounts {
		diffs = append(diffs, "new mount on the host: "+m.Line)
	}
	return diffs
}

func short(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

// ---- judging an outcome ----

// expect is what a case should come to.
type expect struct {
	// want: the outcomes when the defence works, "|"-separated; each is a
	// token ("ok", "errno=EPERM", "runtime-failed") optionally followed by
	// words the detail must contain.
	want string
	// kernel, if set, is what this host's kernel answers on its own (a
	// feature not built in, a sysctl that restricts it) and why; "" when
	// it does not.
	kernel func(h hostFacts) (outcome, why string)
	// through is the outcome of an attempt that got through a defence that
	// has not landed yet; "ok" when empty.
	through string
}

// matches reports whether o is one of the "|"-separated patterns: a token
// and words that the detail must contain, each.
func matches(o outcome, patterns string) bool {
	for _, p := range strings.Split(patterns, "|") {
		words := strings.Fields(p)
		if len(words) == 0 || o.token != words[0] {
			continue
		}
		all := true
		for _, w := range words[1:] {
			all = all && strings.Contains(o.detail, w)
		}
		if all {
			return true
		}
	}
	return false
}

// judge passes, skips or fails the test for outcome o of a case whose
// defences (a "+"-separated list) should give e. diffs are the host's
// changes: any fails the test, and only an unchanged host allows the skip
// of an attempt that got through a defence that has not landed.
func judge(t *testing.T, o outcome, defences string, e expect, diffs []string) {
	t.Helper()
	for _, d := range diffs {
		t.Errorf("THE HOST CHANGED: %s", d)
	}
	if o.token == "refused" {
		t.Fatalf("the helper refused the attempt: %s\n%s", o.detail, o.output)
	}
	kernelOut, why := "", ""
	if e.kernel != nil {
		kernelOut, why = e.kernel(env.facts)
	}
	pendingDefence := ""
	for _, d := range strings.Split(defences, "+") {
		if _, pending := env.pending[d]; pending && pendingDefence == "" {
			pendingDefence = d
		}
	}
	// While a defence is pending, an answer the kernel gives on its own is
	// the kernel's, even when it looks like the defence's.
	if pendingDefence != "" && kernelOut != "" && matches(o, kernelOut) {
		t.Logf("blocked by this host's kernel (%s), not (yet) by %s: %s", why, pendingDefence, o)
		return
	}
	if matches(o, e.want) {
		t.Logf("as expected (%s): %s", defences, o)
		return
	}
	if kernelOut != "" && matches(o, kernelOut) {
		t.Logf("blocked by this host's kernel (%s), not by %s: %s", why, defences, o)
		return
	}
	through := e.through
	if through == "" {
		through = "ok"
	}
	if pendingDefence != "" && len(diffs) == 0 && matches(o, through) {
		t.Skipf("waiting for %s: %s", pendingDefence, o)
	}
	t.Errorf("got %q, want %q (defence: %s)\n%s", o, e.want, defences, o.output)
}

// kernelIf is an expect.kernel: out when cond holds on this host.
func kernelIf(cond func(h hostFacts) bool, out, why string) func(hostFacts) (string, string) {
	return func(h hostFacts) (string, string) {
		if cond(h) {
			return out, why
		}
		return "", ""
	}
}
