// Package rootless runs minimal-docker and minimal-runc as an unprivileged
// user, as a new user would (issue 18): the CI user mdrootless, with the
// subordinate ids mdrootless:200000:65536 in /etc/subuid and /etc/subgid
// (scripts/host-setup.sh makes it; without it every test skips, saying
// so). The suite itself runs as root, to switch to that user (setuid/setgid in the command it starts)
// and to look at the host's side of what the user's containers did; each
// command under test runs as the user, in a clean environment of its own
// (a home, $XDG_RUNTIME_DIR, $XDG_DATA_HOME per test).
//
// TestMain builds the binaries (or takes MD_BIN, MD_RUNC) and a busybox
// rootfs owned by the user, in a temporary directory the user can read.
// Every test checks afterwards that no process of the user (or of its
// subordinate ids) is left, and removes its directories.
package rootless

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/rootless"
	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// UserName is the CI user the tests run the runtimes as (lane C's
// scripts/host-setup.sh makes it).
const UserName = "mdrootless"

// env is what TestMain prepared; read-only once the tests run.
var env struct {
	tmp     string
	bin     string // minimal-docker
	runc    string // minimal-runc
	rootfs  string // a busybox rootfs owned by the user
	base    string // a busybox rootfs owned by root: an image's base layer
	timeout time.Duration
	busybox string

	skip     string // why every test skips, if they do
	uid, gid int    // the user's
	subuid   rootless.Range
	subgid   rootless.Range
}

func TestMain(m *testing.M) {
	os.Exit(testenv.RootSuite(m, "tests/rootless", setup))
}

func setup(tmp string) error {
	env.tmp = tmp
	suite, err := testenv.SuiteSetup(tmp)
	if err != nil {
		return err
	}
	env.timeout, env.busybox = suite.Timeout, suite.Busybox
	if env.skip = findUser(); env.skip != "" {
		fmt.Printf("tests/rootless: every test skips: %s\n", env.skip)
		return nil
	}
	// The user reaches the binaries and its rootfs through tmp.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := testenv.Binaries(tmp,
		testenv.Bin{Path: &env.bin, Env: "MD_BIN", Pkg: "./cmd/minimal-docker", Runtime: true},
		testenv.Bin{Path: &env.runc, Env: "MD_RUNC", Pkg: "./cmd/minimal-runc", Runtime: true},
	); err != nil {
		return err
	}
	env.rootfs = filepath.Join(tmp, "rootfs")
	if err := testenv.BuildBusyboxRootfs(env.rootfs, env.busybox, nil); err != nil {
		return err
	}
	if err := chownTree(env.rootfs, env.uid, env.gid); err != nil {
		return err
	}
	env.base = filepath.Join(tmp, "base")
	if err := testenv.BuildBusyboxRootfs(env.base, env.busybox, nil); err != nil {
		return err
	}
	fmt.Printf("tests/rootless: binary %s, user %s (uid %d, subuids %d+%d)\n", env.bin, UserName, env.uid, env.subuid.Start, env.subuid.Count)
	return nil
}

// findUser fills the user's ids and ranges; it returns why the tests
// can't run when they can't.
func findUser() string {
	u, err := user.Lookup(UserName)
	if err != nil {
		return fmt.Sprintf("no user %s (scripts/host-setup.sh makes it): %v", UserName, err)
	}
	env.uid, _ = strconv.Atoi(u.Uid)
	env.gid, _ = strconv.Atoi(u.Gid)
	for _, f := range []struct {
		file string
		r    *rootless.Range
	}{{rootless.SubUIDFile, &env.subuid}, {rootless.SubGIDFile, &env.subgid}} {
		b, err := os.ReadFile(f.file)
		if err != nil {
			return err.Error()
		}
		rs, err := rootless.ParseSubIDs(bytes.NewReader(b), UserName, env.uid)
		if err != nil || len(rs) == 0 {
			return fmt.Sprintf("%s has no range for %s (%v)", f.file, UserName, err)
		}
		*f.r = rs[0]
	}
	return ""
}

func chownTree(dir string, uid, gid int) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// home is a test's user: its home, runtime and data directories, made
// for it (owned by the user) and removed with everything in them, even
// files of its subordinate ids, when the test ends.
type home struct {
	dir      string
	user     string // whose it is: UserName, or another
	uid, gid int
	env      []string // the user's environment: HOME, XDG_*, PATH
	// delegated is the user's delegated cgroup (delegatedCgroup), "" if
	// none (noDelegation says why); leaf is the open directory of the
	// cgroup beneath it that its commands start in, or nil.
	delegated, noDelegation string
	leaf                    *os.File
}

// newHome makes a home for the user in this test, after checking that
// the suite can run; the test's cleanup checks that no process of the
// user is left (killing those it finds) and removes the home.
func newHome(t *testing.T) *home {
	t.Helper()
	testenv.RequireRoot(t)
	if env.skip != "" {
		t.Skip(env.skip)
	}
	return newHomeOf(t, UserName, env.uid, env.gid)
}

// newHomeOf is newHome for the user name (uid, gid).
func newHomeOf(t *testing.T, name string, uid, gid int) *home {
	t.Helper()
	dir, err := os.MkdirTemp(env.tmp, "home-")
	if err != nil {
		t.Fatal(err)
	}
	h := &home{dir: dir, user: name, uid: uid, gid: gid}
	// Its commands start in a leaf of its delegated cgroup where it has
	// one (cgroup_test.go); that cleanup runs after the one below.
	h.enterDelegated(t)
	for _, d := range []string{dir, filepath.Join(dir, "run")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	h.env = []string{"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=" + dir, "USER=" + name,
		"XDG_RUNTIME_DIR=" + filepath.Join(dir, "run"), "XDG_DATA_HOME=" + filepath.Join(dir, "data")}
	t.Cleanup(func() {
		if left := userProcs(); len(left) > 0 {
			t.Errorf("processes of %s left: %v", UserName, left)
			for _, pid := range left {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove %s: %v", dir, err)
		}
	})
	return h
}

// userProcs lists the processes of the user or of its subordinate uids,
// after a grace period for those on their way out.
func userProcs() []int {
	var pids []int
	for i := 0; i < 50; i++ {
		if pids = liveUserProcs(); len(pids) == 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return pids
}

// liveUserProcs lists the processes, zombies left out (their parents'
// to reap), of the user or of its subordinate uids, now: by any of the
// uids in /proc/PID/status (real, effective, saved, file system), not
// by the owner of /proc/PID, which is root for a process that is not
// dumpable.
func liveUserProcs() []int {
	var pids []int
	for _, pid := range procPids() {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
		if err != nil || bytes.Contains(b, []byte("\nState:\tZ")) || !slices.ContainsFunc(statusUids(b), usersUid) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// statusUids returns the uids of a /proc/PID/status's Uid: line.
func statusUids(status []byte) []uint32 {
	var uids []uint32
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			for _, f := range strings.Fields(rest) {
				if u, err := strconv.ParseUint(f, 10, 32); err == nil {
					uids = append(uids, uint32(u))
				}
			}
		}
	}
	return uids
}

// usersUid says whether uid is the user's or one of its subordinates.
func usersUid(uid uint32) bool {
	return uid == uint32(env.uid) || (uid >= env.subuid.Start && uid-env.subuid.Start < env.subuid.Count)
}

// procPids lists every process's pid, from /proc.
func procPids() []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// result is what a finished command left.
type result struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("%s\nexit code: %d\nstdout:\n%s\nstderr:\n%s",
		strings.Join(r.args, " "), r.code, testenv.Indent(r.stdout), testenv.Indent(r.stderr))
}

func (r result) wantExit(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\n%s", r.code, code, r)
	}
}

func (r result) wantStderr(t *testing.T, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr does not contain %q\n%s", s, r)
		}
	}
}

// command is bin with args run as the user in h's environment (plus
// extra), stdin /dev/null.
func (h *home) command(extra []string, bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(slices.Clone(h.env), extra...)
	cmd.SysProcAttr = testenv.AsUser(h.uid, h.gid)
	if h.leaf != nil { // cloned straight into it (CLONE_INTO_CGROUP)
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, int(h.leaf.Fd())
	}
	return cmd
}

// runAs runs bin as the user to completion, within the suite's timeout.
func (h *home) runAs(t *testing.T, extra []string, bin string, args ...string) result {
	t.Helper()
	cmd := h.command(extra, bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = env.timeout // a process left holding the output must not hang the suite
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(env.timeout):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s %s: not done after %v\nstdout:\n%s\nstderr:\n%s", bin, strings.Join(args, " "), env.timeout, out.String(), errb.String())
	}
	return result{args: append([]string{filepath.Base(bin)}, args...), stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}
}

// md runs minimal-docker as the user.
func (h *home) md(t *testing.T, args ...string) result {
	t.Helper()
	return h.runAs(t, nil, env.bin, args...)
}

// run runs a container of the shared rootfs as the user.
func (h *home) run(t *testing.T, flags []string, command ...string) result {
	t.Helper()
	args := append(append([]string{"run"}, flags...), env.rootfs)
	return h.md(t, append(args, command...)...)
}

// userDir makes a directory of the user's in its home.
func (h *home) userDir(t *testing.T, name string) string {
	t.Helper()
	d := filepath.Join(h.dir, name)
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(d, env.uid, env.gid); err != nil {
		t.Fatal(err)
	}
	return d
}

// owner returns the uid and gid that own path on the host.
func owner(t *testing.T, path string) (uint32, uint32) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Uid, st.Gid
}
